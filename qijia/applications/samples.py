"""Sample evidence content for the demo city and tests: distinctive JPEG photos and small PDFs.

Kept apart from testing.py (which needs factory_boy, a dev dependency) because the demo seed step
runs in production installs too."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def photo_bytes(seed: int = 1, *, size: tuple[int, int] = (320, 240), fmt: str = "JPEG") -> bytes:
    """A distinctive picture per seed (different seeds are far apart for perceptual hashes)."""
    import random

    rnd = random.Random(seed)
    img = Image.new("RGB", size, (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    draw = ImageDraw.Draw(img)
    for _ in range(30):
        x, y = rnd.randrange(size[0]), rnd.randrange(size[1])
        draw.rectangle(
            [x, y, x + rnd.randrange(20, 120), y + rnd.randrange(20, 90)],
            fill=(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)),
        )
    out = io.BytesIO()
    img.save(out, fmt, quality=90)
    return out.getvalue()


def pdf_bytes(text: str = "contract") -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out)
    c.drawString(72, 720, text)
    c.save()
    return out.getvalue()
