"""What screening keeps of a photo: window hashes, a thumbnail and the content key.

JPEGs are decoded at reduced size: a 12-megapixel photo at 1/8 scale from its DC coefficients
alone (``jpegdc``), a smaller one through libjpeg's DCT scaling (``Image.draft``). Decoding is
most of a fingerprint's cost.
"""

from __future__ import annotations

import functools
import io
import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypedDict

import blake3
import cv2
import numba
import numpy as np
from PIL import Image, UnidentifiedImageError

from qijia.core.errors import DomainError
from qijia.screening.photos import jpegdc

# Longest side of the greyscale thumbnail kept for verification (pixels).
THUMB_SIDE = 256
# Sub-windows hashed besides the full frame, as fractions (x0, y0, x1, y1). The set is symmetric
# under a horizontal mirror, so the mirror codes of one photo line up with another's windows.
WINDOWS: tuple[tuple[float, float, float, float], ...] = (
    (0.0, 0.0, 1.0, 1.0),
    (0.05, 0.05, 0.95, 0.95),
    (0.0, 0.0, 0.9, 0.9),
    (0.1, 0.0, 1.0, 0.9),
    (0.0, 0.1, 0.9, 1.0),
    (0.1, 0.1, 1.0, 1.0),
    (0.0, 0.0, 0.85, 1.0),
    (0.15, 0.0, 1.0, 1.0),
    (0.0, 0.0, 1.0, 0.85),
    (0.0, 0.15, 1.0, 1.0),
    (0.075, 0.0, 0.925, 1.0),
)
# One-sided crops that WINDOWS leaves too far from any of its entries: a strip of 20% (the spec's
# limit) or 8% cut off one side. Their codes are searched against other photos' WINDOWS codes,
# within EXTRA_RADIUS, but are not indexed themselves, so they find a photo's crops without
# pairing every photo's extra windows with every other's. Measured on 45 real photographs: a copy
# with a fifth cut off one side was missed by the candidate stage 18 times in 135 (now 0); crops
# keeping 80-83% of the area, 21 times in 540 (now 18). On the city bundle's 20,000 photos they
# add 70 candidate pairs to 29,143; within 11 bits they would add 23,000. Radius 6 probes one
# flipped bit per substring instead of two, so an application's query costs about the same.
# The last two are centred strips, 10% off two opposite sides (WINDOWS has 7.5% off left and
# right only): since 2026-11-29 they find 2 of an independent bundle's 800 copies that were one
# bit past the candidate radius (a crop to 81% of the height, then an uneven resize), and the
# copies of hubble and gravel with 9% cut off top and bottom.
EXTRA_WINDOWS: tuple[tuple[float, float, float, float], ...] = (
    (0.0, 0.2, 1.0, 1.0),
    (0.0, 0.0, 1.0, 0.8),
    (0.2, 0.0, 1.0, 1.0),
    (0.0, 0.0, 0.8, 1.0),
    (0.0, 0.08, 1.0, 1.0),
    (0.0, 0.0, 1.0, 0.92),
    (0.08, 0.0, 1.0, 1.0),
    (0.0, 0.0, 0.92, 1.0),
    (0.0, 0.1, 1.0, 0.9),
    (0.1, 0.0, 0.9, 1.0),
)
EXTRA_RADIUS = 6
# Hamming radius (inclusive) for candidates. The multi-index probes guarantee every code within
# it is found: with four 16-bit substrings, radius 4*f + 3 needs f flipped bits per probe.
# A code has 32 bits set (DC, and 31 of the 63 others above their median) unless the window is
# flat, so two codes are almost always an even distance apart: 11 admits up to 10. Measured on
# 1,125 copies of real photographs (fresh seeds): 99.2 % of them are within 10 bits, 99.7 %
# within 12, while random codes within 12 bits are about 20 times as many as within 10.
CANDIDATE_RADIUS = 11
SUPPORTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "MPO": "JPEG"}
MAX_PIXELS = 200_000_000
# A photo file larger than this is refused (a bundle's before it is read): a 12-megapixel JPEG is
# 3 to 8 MB, a 50-megapixel PNG about 100 MB.
MAX_PHOTO_BYTES = 200 * 1024 * 1024


class PhotoError(DomainError):
    """A file that cannot be read as a JPEG, PNG or WebP photograph."""

    code = "photo_unreadable"


@dataclass(frozen=True, eq=False)
class PhotoPrint:
    """What screening keeps of one photo: content key, size, window hashes and a thumbnail."""

    key: str  # names the file's bytes (content_key, or the digest its caller keeps them by)
    width: int
    height: int
    format: str
    codes: np.ndarray  # uint64, one per WINDOWS entry
    mirror_codes: np.ndarray  # uint64, the same windows of the mirror image
    extra_codes: np.ndarray  # uint64, one per EXTRA_WINDOWS entry (searched, never indexed)
    extra_mirror_codes: np.ndarray  # uint64, the same of the mirror image
    thumb: np.ndarray  # uint8 greyscale, longest side THUMB_SIDE
    orientation: int = 1  # EXIF orientation tag of the file (1: none, or upright as stored)

    def to_bytes(self) -> bytes:
        header = json.dumps(
            {
                "v": 2,
                "key": self.key,
                "width": self.width,
                "height": self.height,
                "format": self.format,
                "windows": len(self.codes),
                "extra": len(self.extra_codes),
                "thumb": list(self.thumb.shape),
                "orientation": self.orientation,
            }
        ).encode()
        return b"".join(
            [
                len(header).to_bytes(4, "little"),
                header,
                self.codes.astype("<u8").tobytes(),
                self.mirror_codes.astype("<u8").tobytes(),
                self.extra_codes.astype("<u8").tobytes(),
                self.extra_mirror_codes.astype("<u8").tobytes(),
                np.ascontiguousarray(self.thumb, dtype=np.uint8).tobytes(),
            ]
        )

    @classmethod
    def from_bytes(cls, blob: bytes) -> PhotoPrint:
        size = int.from_bytes(blob[:4], "little")
        header = json.loads(blob[4 : 4 + size])
        pos = 4 + size
        arrays = []
        for n in (header["windows"], header["windows"], header["extra"], header["extra"]):
            arrays.append(np.frombuffer(blob, "<u8", n, pos).astype(np.uint64))
            pos += 8 * n
        h, w = header["thumb"]
        thumb = np.frombuffer(blob, np.uint8, h * w, pos).reshape(h, w).copy()
        codes, mirror_codes, extra_codes, extra_mirror_codes = arrays
        return cls(
            header["key"],
            header["width"],
            header["height"],
            header["format"],
            codes,
            mirror_codes,
            extra_codes,
            extra_mirror_codes,
            thumb,
            header.get("orientation", 1),
        )


def _open(data: bytes) -> Image.Image:
    if not data:
        raise PhotoError("图片文件为空")
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoError(f"图片文件过大（超过 {MAX_PHOTO_BYTES // 2**20} MB）")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (
        UnidentifiedImageError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ) as exc:
        raise PhotoError("文件不是可识别的图片（仅支持 JPEG、PNG、WebP）") from exc
    except OSError as exc:  # pragma: no cover - PIL reports some corruptions this way
        raise PhotoError(f"图片无法读取：{exc}") from exc
    if img.format not in SUPPORTED_FORMATS:
        raise PhotoError(f"不支持的图片格式 {img.format}（仅支持 JPEG、PNG、WebP）")
    if img.width < 8 or img.height < 8:
        raise PhotoError(f"图片尺寸过小（{img.width}×{img.height}），无法比对")
    if img.width * img.height > MAX_PIXELS:
        raise PhotoError(f"图片像素过多（{img.width}×{img.height}），拒绝解码")
    return img


def _grey_thumbnail(img: Image.Image, data: bytes) -> np.ndarray:
    """Greyscale thumbnail with longest side THUMB_SIDE, decoding JPEGs at reduced size."""
    w, h = img.size
    scale = THUMB_SIDE / max(w, h)
    tw, th = max(int(round(w * scale)), 1), max(int(round(h * scale)), 1)
    grey = None
    if img.format in ("JPEG", "MPO"):
        if min(w // tw, h // th) >= 8:
            # what libjpeg's 1/8-scale decode below would give, from the DC coefficients alone
            grey = jpegdc.luma_eighth(data)
        if grey is None:
            # libjpeg scales by 1/2, 1/4 or 1/8 while decoding: keep at least the thumbnail size.
            img.draft("L", (tw, th))
    if grey is None:
        grey = _decoded_grey(img)
    interpolation = cv2.INTER_AREA if grey.shape[1] > tw else cv2.INTER_CUBIC
    return cv2.resize(grey, (tw, th), interpolation=interpolation)


def _decoded_grey(img: Image.Image) -> np.ndarray:
    try:
        img.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise PhotoError(f"图片数据损坏或不完整：{exc}") from exc
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # Transparent pixels: composite on white as viewers show them.
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float32)
        peak = float(arr.max()) or 1.0
        grey = (arr * (255.0 / peak)).astype(np.uint8)
    else:
        grey = np.asarray(img.convert("L"))
    return grey


def _phash_windows(
    grey: np.ndarray, windows: Sequence[tuple[float, float, float, float]] = WINDOWS
) -> np.ndarray:
    """64-bit DCT hash of every entry of ``windows`` (bit set where the coefficient > median):
    each window resized to 32x32 by area averaging, its 8x8 lowest DCT coefficients compared
    with their median (DC excluded). The reference definition; ``_hashes`` computes the same
    codes as matrix products and uses this for windows too thin to average down."""
    lows = []
    for y0, y1, x0, x1 in _boxes(grey.shape[0], grey.shape[1], windows):
        small = cv2.resize(
            grey[y0:y1, x0:x1].astype(np.float32), (32, 32), interpolation=cv2.INTER_AREA
        )
        lows.append(cv2.dct(small)[:8, :8].ravel())
    return _codes(np.array(lows))


_BIT = np.uint64(1) << np.arange(64, dtype=np.uint64)


def _codes(lows: np.ndarray) -> np.ndarray:
    """One code per row of 64 coefficients: bit k set where coefficient k > the row's median of
    coefficients 1..63."""
    bits = lows > np.median(lows[:, 1:], axis=1)[:, None]
    return np.bitwise_or.reduce(np.where(bits, _BIT, np.uint64(0)), axis=1)


def _boxes(
    h: int, w: int, windows: Sequence[tuple[float, float, float, float]]
) -> list[tuple[int, int, int, int]]:
    """Each window's pixel rows and columns (y0, y1, x0, x1) in an h x w image."""
    return [
        (
            int(round(y0 * h)),
            max(int(round(y1 * h)), 1),
            int(round(x0 * w)),
            max(int(round(x1 * w)), 1),
        )
        for x0, y0, x1, y1 in windows
    ]


# The 8 lowest rows of the orthonormal 32-point DCT-II matrix (cv2.dct's scaling).
_DCT8 = np.cos(np.pi * (2 * np.arange(32)[None, :] + 1) * np.arange(8)[:, None] / 64) * np.sqrt(
    2 / 32
)
_DCT8[0] /= np.sqrt(2)


def _area_dct(start: int, stop: int, size: int) -> np.ndarray:
    """8 x size: the 8 lowest DCT coefficients of the 32 area averages of pixels start..stop,
    as one linear map (cv2.INTER_AREA's fractional overlaps, then the DCT)."""
    edges = start + (stop - start) * np.arange(33) / 32
    pixels = np.arange(size)
    overlap = np.minimum(pixels + 1, edges[1:, None]) - np.maximum(pixels, edges[:-1, None])
    return _DCT8 @ (np.clip(overlap, 0, None) / ((stop - start) / 32))


@functools.lru_cache(maxsize=32)
def _window_maps(
    h: int, w: int, windows: tuple[tuple[float, float, float, float], ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """For thumbnails of one shape: the row maps of the distinct row ranges (8 per range x h),
    the ranges themselves (first row, end row: a range's map is zero outside them), which range
    each window uses, and each window's column map (windows x 8 x w); None when a window is
    under 32 pixels on a side (cv2 enlarges those; see _phash_windows)."""
    boxes = _boxes(h, w, windows)
    if any(y1 - y0 < 32 or x1 - x0 < 32 for y0, y1, x0, x1 in boxes):
        return None
    ranges = sorted({(y0, y1) for y0, y1, _x0, _x1 in boxes})
    rows = np.concatenate([_area_dct(y0, y1, h) for y0, y1 in ranges])
    group = np.array([ranges.index((y0, y1)) for y0, y1, _x0, _x1 in boxes], dtype=np.int64)
    cols = np.stack([_area_dct(x0, x1, w) for _y0, _y1, x0, x1 in boxes])
    return rows, np.array(ranges, dtype=np.int64), group, cols


@numba.njit(cache=True)
def _window_coefficients(thumb, rows, ranges, group, cols):  # pragma: no cover - compiled
    """The 8x8 low DCT coefficients of every window of ``thumb`` and of its mirror image:
    rows[range] @ thumb @ cols[window].T, the mirror with the column map reversed.

    Compiled rather than numpy's matmul: OpenBLAS runs a product of this size on every core and
    its threads then spin for milliseconds, which cost a fingerprinting worker more CPU time than
    the 7 ms this replaces (measured: +40 ms per 12 MP photo). The loops are written out so that
    the compiler keeps more in registers: a range's eight rows share each thumbnail row they
    read, and two column maps share each partial row (0.80 ms, now 0.51, on a Xeon). Every sum
    is taken in the same order as a plain loop would, so the codes are the same bit for bit."""
    h, width = thumb.shape
    partial = np.zeros((rows.shape[0], width))
    for r in range(ranges.shape[0]):
        i = 8 * r
        p0, p1, p2, p3 = partial[i], partial[i + 1], partial[i + 2], partial[i + 3]
        p4, p5, p6, p7 = partial[i + 4], partial[i + 5], partial[i + 6], partial[i + 7]
        for k in range(ranges[r, 0], ranges[r, 1]):
            src = thumb[k]
            w0, w1, w2, w3 = rows[i, k], rows[i + 1, k], rows[i + 2, k], rows[i + 3, k]
            w4, w5, w6, w7 = rows[i + 4, k], rows[i + 5, k], rows[i + 6, k], rows[i + 7, k]
            for j in range(width):
                s = src[j]
                p0[j] += w0 * s
                p1[j] += w1 * s
                p2[j] += w2 * s
                p3[j] += w3 * s
                p4[j] += w4 * s
                p5[j] += w5 * s
                p6[j] += w6 * s
                p7[j] += w7 * s
    n = cols.shape[0]
    low = np.empty((n, 64))
    low_mirror = np.empty((n, 64))
    for wi in range(n):
        for a in range(8):
            p = partial[group[wi] * 8 + a]
            for b in range(0, 8, 2):
                c0, c1 = cols[wi, b], cols[wi, b + 1]
                t0 = m0 = t1 = m1 = 0.0
                for j in range(width):
                    value = p[j]
                    t0 += value * c0[j]
                    m0 += value * c0[width - 1 - j]
                    t1 += value * c1[j]
                    m1 += value * c1[width - 1 - j]
                low[wi, a * 8 + b], low_mirror[wi, a * 8 + b] = t0, m0
                low[wi, a * 8 + b + 1], low_mirror[wi, a * 8 + b + 1] = t1, m1
    return low, low_mirror


class _Hashes(TypedDict):
    codes: np.ndarray
    mirror_codes: np.ndarray
    extra_codes: np.ndarray
    extra_mirror_codes: np.ndarray


def _hashes(thumb: np.ndarray) -> _Hashes:
    """The window hashes of a thumbnail and of its mirror image, as PhotoPrint fields.

    Area averaging and the DCT are linear, so each window's coefficients are one product with
    maps precomputed per thumbnail shape, and the mirror image's are the same product with the
    column map reversed. The codes are those of _phash_windows (tested bit for bit) in under a
    millisecond instead of six, which on the city bundle's photos was most of a fingerprint."""
    windows = WINDOWS + EXTRA_WINDOWS
    maps = _window_maps(*thumb.shape, windows)
    if maps is None:
        mirror = np.ascontiguousarray(thumb[:, ::-1])
        codes, mirror_codes = _phash_windows(thumb, windows), _phash_windows(mirror, windows)
    else:
        low, low_mirror = _window_coefficients(thumb.astype(np.float64), *maps)
        codes, mirror_codes = _codes(low), _codes(low_mirror)
    n = len(WINDOWS)
    return {
        "codes": codes[:n],
        "mirror_codes": mirror_codes[:n],
        "extra_codes": codes[n:],
        "extra_mirror_codes": mirror_codes[n:],
    }


def content_key(data: bytes) -> str:
    """The key a photo's fingerprint is kept and grouped by: its bytes' BLAKE3 digest.

    Any cryptographic digest would do (two files share a key only if their bytes are equal);
    BLAKE3 takes 0.28 ms for a 12-megapixel photo against 1.35 ms for SHA-256 (hashlib, with the
    CPU's SHA instructions), which was an eighth of the fingerprint. Findings still name files by
    their SHA-256 (what a reviewer checks with sha256sum), computed for the files in findings."""
    return "blake3:" + blake3.blake3(data).hexdigest()


def fingerprint_bytes(data: bytes, key: str | None = None) -> PhotoPrint:
    """Fingerprint an encoded photo; raises PhotoError for anything that is not a readable image.

    ``key``: what names these bytes when the caller already has a digest of them (the platform's
    stored SHA-256 of an evidence file), else ``content_key(data)``."""
    img = _open(data)
    width, height = img.size  # before draft() shrinks it
    thumb = _grey_thumbnail(img, data)
    assert img.format is not None  # _open refuses images of no or another format
    return PhotoPrint(
        key=key or content_key(data),
        width=width,
        height=height,
        format=SUPPORTED_FORMATS[img.format],
        **_hashes(thumb),
        thumb=thumb,
        orientation=_exif_orientation(img),
    )


def _exif_orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - a damaged EXIF block leaves the pixels as stored
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


# EXIF orientation -> the stored pixels turned as viewers show them (PIL's exif_transpose), for
# the orientations a mirror alone does not undo.
_UPRIGHT: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    3: lambda t: t[::-1, ::-1],
    4: lambda t: t[::-1, :],
    5: lambda t: t.T,
    6: lambda t: np.rot90(t, -1),
    7: lambda t: t[::-1, ::-1].T,
    8: lambda t: np.rot90(t, 1),
}


def upright_view(fp: PhotoPrint) -> PhotoPrint | None:
    """The photo as shown when its EXIF orientation turns it; None when it does not.

    A phone stores a portrait shot as landscape pixels with an orientation tag. A copy passed
    through a messenger or an editor has the turn applied to its pixels and the tag removed; a
    copy that only lost its metadata keeps the stored pixels. Screening compares both views of a
    tagged photo, so either copy is found.
    """
    turn = _UPRIGHT.get(fp.orientation)
    if turn is None:
        return None
    thumb = np.ascontiguousarray(turn(fp.thumb))
    swapped = fp.orientation >= 5
    return PhotoPrint(
        key=f"{fp.key}:upright",  # an identity for the caches, never a file's content
        width=fp.height if swapped else fp.width,
        height=fp.width if swapped else fp.height,
        format=fp.format,
        **_hashes(thumb),
        thumb=thumb,
    )


def _with_views(prints: Sequence[PhotoPrint]) -> tuple[list[PhotoPrint], list[int]]:
    """``prints`` followed by the upright views of the tagged ones, and each entry's origin."""
    expanded, origin = list(prints), list(range(len(prints)))
    for pos, fp in enumerate(prints):
        view = upright_view(fp)
        if view is not None:
            expanded.append(view)
            origin.append(pos)
    return expanded, origin
