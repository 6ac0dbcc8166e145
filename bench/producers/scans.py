"""Scanned and photographed reports: a Writer PDF turned into page images, image-only PDF out.

``scan``: an office scanner at 150 dpi. Landscape pages (table 三's continuation) come out of a
portrait scanner rotated a quarter turn; cells are tight (narrow value columns, no padding: OCR may
merge neighbouring numbers, a number may bleed into the row above); zero cells print "/" (a blank
that must not shift the columns); slight skew, blur, noise, JPEG.

``photo``: a page photographed on a desk: a perspective of a few degrees, uneven lighting (a
gradient and a vignette), blur, colour cast, strong JPEG, the desk visible around the sheet.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

from bench.producers import Job, ProducerLayout
from bench.producers.common import write_truth_marked
from bench.producers.libreoffice_writer import render_pdfs


def _pages(pdf: Path, dpi: float) -> list:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        return [page.render(scale=dpi / 72).to_pil().convert("RGB") for page in doc]
    finally:
        doc.close()


def _save_pdf(images: list, path: Path, dpi: float, quality: int) -> None:
    """Each image JPEG-compressed once (as the device did), then wrapped in a PDF page."""
    from PIL import Image

    pages = []
    for im in images:
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=quality)
        pages.append(Image.open(io.BytesIO(buf.getvalue())))
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.BytesIO()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=float(dpi))
    path.write_bytes(out.getvalue())


def scan(pdf: Path, out: Path, rng: random.Random) -> dict[str, Any]:
    import numpy as np
    from PIL import Image, ImageFilter

    dpi = 150
    angle = rng.choice([-1, 1]) * rng.uniform(0.2, 1.2)
    turn = rng.choice([90, 270]) if rng.random() < 0.7 else 0
    blur, noise, quality = rng.uniform(0.4, 0.8), rng.uniform(5, 10), rng.randint(55, 75)
    nrng = np.random.default_rng(rng.randrange(2**32))
    images = []
    for im in _pages(pdf, dpi):
        im = im.convert("L")
        if im.width > im.height and turn:
            im = im.rotate(turn, expand=True)
        im = im.rotate(angle, resample=Image.Resampling.BILINEAR, expand=False, fillcolor=255)
        im = im.filter(ImageFilter.GaussianBlur(blur))
        arr = np.asarray(im, dtype=np.float32) * rng.uniform(0.9, 0.97) + rng.uniform(3, 12)
        arr = np.clip(arr + nrng.normal(0, noise, arr.shape), 0, 255).astype(np.uint8)
        images.append(Image.fromarray(arr, mode="L"))
    _save_pdf(images, out, dpi, quality)
    return {"dpi": dpi, "angle": round(angle, 3), "landscape_pages_turned": turn, "blur": round(blur, 2),
            "noise": round(noise, 1), "jpeg_quality": quality}


def _perspective_coeffs(dst: list[tuple[float, float]], src: list[tuple[float, float]]) -> list[float]:
    """PIL's PERSPECTIVE data mapping output points ``dst`` to input points ``src``."""
    import numpy as np

    a, b = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        b.append(u)
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b.append(v)
    return [float(c) for c in np.linalg.solve(np.array(a), np.array(b))]


def photo(pdf: Path, out: Path, rng: random.Random) -> dict[str, Any]:
    import numpy as np
    from PIL import Image, ImageFilter

    dpi = rng.choice([160, 180, 200])
    skew = rng.uniform(0.015, 0.045)  # corner displacement as a share of the page: ~1–5° of perspective
    light = rng.uniform(0.55, 0.8)  # brightness at the darkest corner
    blur, quality = rng.uniform(0.7, 1.3), rng.randint(45, 70)
    cast = (rng.uniform(0.95, 1.0), rng.uniform(0.92, 0.98), rng.uniform(0.8, 0.92))
    nrng = np.random.default_rng(rng.randrange(2**32))
    images = []
    for im in _pages(pdf, dpi):
        w, h = im.size
        mw, mh = int(w * 0.06), int(h * 0.05)
        big = (w + 2 * mw, h + 2 * mh)

        corners = [(mw, mh), (mw + w, mh), (mw + w, mh + h), (mw, mh + h)]
        quad = [(x + rng.uniform(-skew, skew) * w, y + rng.uniform(-skew, skew) * h) for x, y in corners]
        coeffs = _perspective_coeffs(quad, [(0, 0), (w, 0), (w, h), (0, h)])
        sheet = im.transform(big, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC)
        mask = Image.new("L", im.size, 255).transform(big, Image.Transform.PERSPECTIVE, coeffs,
                                                      Image.Resampling.BILINEAR)
        desk = Image.new("RGB", big, tuple(rng.randint(70, 120) for _ in range(3)))
        desk.paste(sheet, (0, 0), mask)
        arr = np.asarray(desk, dtype=np.float32)
        yy, xx = np.mgrid[0:big[1], 0:big[0]].astype(np.float32)
        gx, gy = rng.uniform(-1, 1), rng.uniform(-1, 1)
        ramp = (gx * (xx / big[0] - 0.5) + gy * (yy / big[1] - 0.5)) / max(1e-6, abs(gx) + abs(gy))
        vignette = ((xx / big[0] - 0.5) ** 2 + (yy / big[1] - 0.5) ** 2) * 1.2
        shade = np.clip(1.0 - (1 - light) * (ramp + 0.5) - vignette * 0.25, light * 0.85, 1.05)
        arr = arr * shade[..., None] * np.array(cast, dtype=np.float32)
        arr = np.clip(arr + nrng.normal(0, 4, arr.shape), 0, 255).astype(np.uint8)
        images.append(Image.fromarray(arr, mode="RGB").filter(ImageFilter.GaussianBlur(blur)))
    _save_pdf(images, out, dpi, quality)
    return {"dpi": dpi, "corner_skew": round(skew, 4), "darkest_light": round(light, 2), "blur": round(blur, 2),
            "jpeg_quality": quality}


def make(name: str, layout: ProducerLayout, jobs: list[Job]) -> list[dict[str, Any]]:
    if not jobs:
        return []
    mode = layout.options["mode"]
    outdir = jobs[0].path.parent
    outdir.mkdir(parents=True, exist_ok=True)
    options = {"landscape": True, "tight": True} if mode == "scan" else {"landscape": False}
    rendered = render_pdfs([(j.spec, j.seed) for j in jobs], outdir, options,
                           marker="/" if mode == "scan" else None)
    metas = []
    for job, (pdf, st, marks) in zip(jobs, rendered, strict=True):
        rng = random.Random(job.seed + 17)
        info = scan(pdf, job.path, rng) if mode == "scan" else photo(pdf, job.path, rng)
        meta = {"layout": name, "kind": layout.kind, "producer": f"Writer PDF → {mode} (image-only PDF)",
                "style": st, mode: info, "document": job.path.name}
        write_truth_marked(job.spec, job.truth_path, meta, marks)
        metas.append(meta)
        pdf.unlink()
    for leftover in outdir.glob("ogi-fodt-*"):
        for f in leftover.iterdir():
            f.unlink()
        leftover.rmdir()
    return metas
