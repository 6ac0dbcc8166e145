"""PDFs imitating WPS Writer's export (the real one: ../shared/samples/2024_hongze-qu.pdf).

What the real export shows to an extractor, and what is drawn here: an embedded TrueType CJK font,
every cell painted as a white rectangle under 0.48 pt rules, table 三 cut by the page break inside a
merged group (its label stays on the first page), narrow columns that break labels and headers over
lines ("商业/企业", "结果/维持", "三、/本年/度办/理结/果" two characters a line), wrapped lines justified
character by character (so text extraction sees gaps: "只计这一情 形"), footers "-3-", no repeated
header rows.
"""

from __future__ import annotations

import random
from dataclasses import asdict
from typing import Any

from bench.producers import Job, ProducerLayout, ttf_cjk_font
from bench.producers.common import choose_marks, write_truth_marked
from bench.producers.pdf_canvas import CanvasStyle, draw_report

TTF_NAME = "WPSLikeSong"


def register() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if TTF_NAME not in pdfmetrics.getRegisteredFontNames():
        path = ttf_cjk_font()
        if path is None:
            raise RuntimeError("no TrueType CJK font (apt-get install fonts-wqy-zenhei)")
        pdfmetrics.registerFont(TTFont(TTF_NAME, str(path), subfontIndex=0))
    return TTF_NAME


def draw_style(rng: random.Random) -> CanvasStyle:
    size = rng.choice([9.0, 9.9, 10.5])
    labels = (rng.uniform(2.5, 3.0) * size, rng.uniform(6.5, 8.5) * size, rng.uniform(11.0, 14.0) * size)
    return CanvasStyle(
        font=TTF_NAME, num_font=rng.choice([TTF_NAME, "Times-Roman"]), size=size, body_size=rng.choice([14.0, 16.0]),
        leading=rng.choice([1.15, 1.3]), pad=rng.choice([1.5, 2.5]), rules="all", rules_other="all",
        rule_width=0.48, fill_cells=True, justify=True, valign="middle", num_align="center",
        repeat_headers=rng.random() < 0.2, footer=rng.choice(["-{n}-", "- {n} -", "— {n} —"]), landscape_s3=False,
        prose_paragraphs=rng.randint(0, 10), s3_label_pt=tuple(round(x, 1) for x in labels),
        s3_value_pt=round(rng.uniform(2.8, 3.3) * size, 1), margin=rng.choice([72.0, 78.0]),
    )


def render(spec, path, seed: int) -> tuple[dict, dict]:
    """Draw one WPS-like PDF; returns (style, marks). The pdftotext producer starts from it too."""
    register()
    rng = random.Random(seed)
    st = draw_style(rng)
    marks = choose_marks(spec, rng, marker=rng.choice(["0", "0", "/"]))
    draw_report(spec, path, st, marks, rng, title="政府信息公开工作年度报告")
    return asdict(st), marks


def make(name: str, layout: ProducerLayout, jobs: list[Job]) -> list[dict[str, Any]]:
    metas = []
    for job in jobs:
        st, marks = render(job.spec, job.path, job.seed)
        meta = {"layout": name, "kind": layout.kind, "producer": "reportlab canvas imitating WPS 文字 export",
                "style": st, "document": job.path.name}
        write_truth_marked(job.spec, job.truth_path, meta, marks)
        metas.append(meta)
    return metas
