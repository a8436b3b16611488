"""Checking an uploaded evidence file by its content, not its name (#41, #42).

An image must decode with Pillow; a PDF must start with ``%PDF-`` and end with ``%%EOF``; size is
bounded by QIJIA_MAX_UPLOAD_BYTES. The result carries the sha256 the file is stored under.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

import filetype
from django.conf import settings
from PIL import Image, UnidentifiedImageError

from qijia.core.errors import ValidationFailed

IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp"}
PDF = "application/pdf"
ALLOWED = {
    "photo": IMAGE_TYPES,
    "invoice": IMAGE_TYPES | {PDF},
    "contract": IMAGE_TYPES | {PDF},
    "other": IMAGE_TYPES | {PDF},
}


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content: bytes
    sha256: str
    content_type: str


def check_file(upload: Any, *, kind: str, field: str = "file") -> CheckedFile:
    name = getattr(upload, "name", "") or "file"
    size = getattr(upload, "size", None)
    limit = settings.QIJIA_MAX_UPLOAD_BYTES
    if size is not None and size > limit:
        raise ValidationFailed(
            f"文件“{name}”超过大小上限{limit // (1024 * 1024)}MB", fields={field: "文件过大"}
        )
    content = upload.read()
    if len(content) > limit:
        raise ValidationFailed(
            f"文件“{name}”超过大小上限{limit // (1024 * 1024)}MB", fields={field: "文件过大"}
        )
    if not content:
        raise ValidationFailed(f"文件“{name}”是空文件", fields={field: "空文件"})
    if content.startswith(b"%PDF-"):
        mime = PDF
        if b"%%EOF" not in content[-1024:]:
            raise ValidationFailed(f"文件“{name}”不是完整的PDF文件", fields={field: "PDF不完整"})
    else:
        guess = filetype.guess(content)
        mime = guess.mime if guess else ""
        if mime in IMAGE_TYPES:
            try:
                with Image.open(io.BytesIO(content)) as img:
                    img.verify()
            except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
                raise ValidationFailed(
                    f"文件“{name}”不是有效的图片", fields={field: "图片已损坏"}
                ) from None
    allowed = ALLOWED.get(kind, set())
    if mime not in allowed:
        wanted = "图片（JPEG/PNG/WebP）" if allowed == IMAGE_TYPES else "图片或PDF"
        raise ValidationFailed(f"文件“{name}”的内容不是{wanted}", fields={field: f"应为{wanted}"})
    return CheckedFile(
        name=name[:255],
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        content_type=mime,
    )
