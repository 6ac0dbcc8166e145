"""PDFs as Chinese typesetting systems write them: a non-embedded CID font, every glyph placed.

reportlab's ``UnicodeCIDFont('STSong-Light')`` writes an Adobe-GB1 CID font that is not embedded
(the viewer substitutes its own Song face), exactly like many official typesetting systems. Table
三 is drawn borderless or as a three-line table (三线表), so no ruling lines exist to find cells by;
labels wrap inside their column and numbers sit centred or at the top of their row.
"""

from __future__ import annotations

import random
from dataclasses import asdict
from typing import Any

from bench.producers import Job, ProducerLayout
from bench.producers.common import FOOTERS, choose_marks, write_truth_marked
from bench.producers.pdf_canvas import CanvasStyle, draw_report

CID_FONT = "STSong-Light"


def register() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if CID_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))


def draw_style(rng: random.Random, all_borderless: bool) -> CanvasStyle:
    landscape = rng.random() < 0.3
    size = rng.choice([9.0, 10.0, 10.5, 12.0])
    labels = (rng.uniform(1.6, 3.2) * size, rng.uniform(3.0, 7.0) * size, rng.uniform(6.0, 14.0) * size)
    usable = (841.89 if landscape else 595.28) - 2 * 68.0
    value = max(2.6 * size, min(5.0 * size, (usable - sum(labels)) / 7))
    return CanvasStyle(
        font=CID_FONT, num_font=rng.choice([CID_FONT, CID_FONT, "Times-Roman", "Helvetica"]), size=size,
        body_size=rng.choice([10.5, 12.0, 14.0]), leading=rng.choice([1.2, 1.35, 1.5]),
        pad=rng.choice([1.5, 3.0, 4.5]), rules="none" if all_borderless else rng.choice(["none", "three_line"]),
        rules_other="none" if all_borderless else rng.choice(["all", "three_line", "none"]), rule_width=0.6,
        fill_cells=False, justify=False, valign=rng.choice(["middle", "top", "bottom"]),
        num_align=rng.choice(["center", "right", "left"]), repeat_headers=rng.random() < 0.5,
        footer=rng.choice(FOOTERS[:5]), landscape_s3=landscape, prose_paragraphs=rng.randint(0, 8),
        s3_label_pt=tuple(round(x, 1) for x in labels), s3_value_pt=round(value, 1), margin=68.0,
        distribute=rng.random() < 0.5,
    )


def make(name: str, layout: ProducerLayout, jobs: list[Job]) -> list[dict[str, Any]]:
    register()
    metas = []
    for job in jobs:
        rng = random.Random(job.seed)
        st = draw_style(rng, all_borderless=layout.version == "2019")
        marks = choose_marks(job.spec, rng)
        vertical_chars = rng.random() < 0.5
        draw_report(job.spec, job.path, st, marks, rng, vertical_chars=vertical_chars)
        meta = {"layout": name, "kind": layout.kind, "producer": f"reportlab canvas, UnicodeCIDFont({CID_FONT!r})",
                "style": {**asdict(st), "vertical_chars": vertical_chars}, "document": job.path.name}
        write_truth_marked(job.spec, job.truth_path, meta, marks)
        metas.append(meta)
    return metas
