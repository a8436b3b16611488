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
# add 70 candidate pairs to 29,143 within 6 bits, 1,926 within 8; within 11 bits they would add
# 23,000. Radius 8 since the fifteenth session (6 before): of 1,056 copies of 88 real photographs
# cropped to 80-86% of the area at random places, with a mirror, brightness, contrast, greyscale
# and resizes at random, the candidate stage missed 21 at radius 6 and 13 at 8 (10 of those the
# brick texture, whose low frequencies are all alike); an independent bundle's last 2 missed
# copies of 800, and the benchmark's last missed pair, were 8 bits from their originals. The
# 1,856 more candidate pairs on the city bundle cost about 26 s of CPU and none is accepted.
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
EXTRA_RADIUS = 8
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
    if grey.shape[0] < th or grey.shape[1] < tw:
        return cv2.resize(grey, (tw, th), interpolation=cv2.INTER_CUBIC)
    rows, cols = _area_taps(grey.shape[0], th), _area_taps(grey.shape[1], tw)
    return _area_shrink(grey, *rows, *cols)


@functools.lru_cache(maxsize=64)
def _area_taps(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Shrinking ``size`` pixels to ``out`` by area averaging: each output pixel's first source
    pixel, and the weights of it and the next ones (their overlaps with the output pixel)."""
    scale = size / out
    taps = min(int(np.ceil(scale)) + 1, size)
    lo = np.arange(out) * scale
    first = np.minimum(np.floor(lo).astype(np.int64), size - taps)
    pixels = first[:, None] + np.arange(taps)
    overlap = np.minimum(pixels + 1, lo[:, None] + scale) - np.maximum(pixels, lo[:, None])
    return first, np.clip(overlap, 0.0, None) / scale


@numba.njit(cache=True)
def _area_shrink(grey, row_first, row_weights, col_first, col_weights):  # pragma: no cover
    """``grey`` shrunk by area averaging (what cv2.INTER_AREA computes, in float64, halves
    rounded up as cv2 does for whole ratios): down the columns first, a whole row at a time,
    then along the rows.

    Written out because cv2's INTER_AREA takes a generic path for a ratio that is not a whole
    number (a 12 MP photo's 1/8-scale luma, 500 x 375, to 256 x 192): 0.33 ms against 0.16 here.
    """
    h, w = grey.shape
    oh, ow = row_first.shape[0], col_first.shape[0]
    rows = np.zeros((oh, w))
    for o in range(oh):
        for t in range(row_weights.shape[1]):
            weight = row_weights[o, t]
            if weight != 0.0:
                src = row_first[o] + t
                for x in range(w):
                    rows[o, x] += weight * grey[src, x]
    out = np.empty((oh, ow), dtype=np.uint8)
    for o in range(oh):
        for p in range(ow):
            value = 0.0
            for t in range(col_weights.shape[1]):
                value += col_weights[p, t] * rows[o, col_first[p] + t]
            out[o, p] = min(max(np.floor(value + 0.5), 0.0), 255.0)
    return out


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
    codes from an integral image and uses this for windows too thin to average down."""
    lows = []
    for y0, y1, x0, x1 in _boxes(grey.shape[0], grey.shape[1], windows):
        small = cv2.resize(
            grey[y0:y1, x0:x1].astype(np.float32), (32, 32), interpolation=cv2.INTER_AREA
        )
        lows.append(cv2.dct(small)[:8, :8].ravel())
    return _codes(np.array(lows))


@numba.njit(cache=True)
def _codes(lows):  # pragma: no cover - compiled
    """One code per row of 64 coefficients: bit k set where coefficient k > the row's median of
    coefficients 1..63 (the 32nd smallest of those 63)."""
    codes = np.zeros(lows.shape[0], dtype=np.uint64)
    for i in range(lows.shape[0]):
        median = np.sort(lows[i, 1:])[31]
        code = np.uint64(0)
        for k in range(64):
            if lows[i, k] > median:
                code |= np.uint64(1) << np.uint64(k)
        codes[i] = code
    return codes


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


# The 8 lowest rows of the orthonormal 32-point DCT-II matrix (cv2.dct's scaling), applied to
# 32 bins given as the differences of 33 running sums: _EDGE_DCT @ sums = _DCT8 @ diff(sums).
_DCT8 = np.cos(np.pi * (2 * np.arange(32)[None, :] + 1) * np.arange(8)[:, None] / 64) * np.sqrt(
    2 / 32
)
_DCT8[0] /= np.sqrt(2)
_EDGE_DCT = np.zeros((8, 33))
_EDGE_DCT[:, 1:] += _DCT8
_EDGE_DCT[:, :32] -= _DCT8


def _bin_edges(*spans: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The 33 edges of 32 equal bins from pixel ``start`` to ``stop``, for each span in turn:
    whole pixel and fraction."""
    edges = np.concatenate([start + (stop - start) * np.arange(33) / 32 for start, stop in spans])
    whole = np.floor(edges).astype(np.int64)
    return whole, edges - whole


@functools.lru_cache(maxsize=32)
def _window_maps(
    h: int, w: int, windows: tuple[tuple[float, float, float, float], ...]
) -> tuple[np.ndarray, ...] | None:
    """For thumbnails of one shape: which distinct row range each window uses; each range's 33
    row edges (pixel, fraction); each window's 33 column edges followed by its mirror image's
    (running right to left); and each window's 1 / bin area. None when a window is under 32
    pixels on a side (cv2 enlarges those; see _phash_windows)."""
    boxes = _boxes(h, w, windows)
    if any(y1 - y0 < 32 or x1 - x0 < 32 for y0, y1, x0, x1 in boxes):
        return None
    ranges = sorted({(y0, y1) for y0, y1, _x0, _x1 in boxes})
    group = np.array([ranges.index((y0, y1)) for y0, y1, _x0, _x1 in boxes], dtype=np.int64)
    rows = [_bin_edges(span) for span in ranges]
    cols = [_bin_edges((x0, x1), (w - x0, w - x1)) for _y0, _y1, x0, x1 in boxes]
    scale = np.array([1024.0 / ((y1 - y0) * (x1 - x0)) for y0, y1, x0, x1 in boxes])
    return (
        group,
        np.stack([whole for whole, _frac in rows]),
        np.stack([frac for _whole, frac in rows]),
        np.stack([whole for whole, _frac in cols]),
        np.stack([frac for _whole, frac in cols]),
        scale,
    )


@numba.njit(cache=True)
def _window_coefficients(
    integral, group, row_at, row_frac, col_at, col_frac, scale
):  # pragma: no cover - compiled
    """The 8x8 low DCT coefficients of every window of a thumbnail and of its mirror image, from
    the thumbnail's integral image (cv2.integral, int32: exact sums).

    A window's 32x32 area averages (cv2.INTER_AREA's fractional overlaps) are differences of
    the integral at the bins' edges, and the integral is linear between whole pixels along
    either axis, so each edge is one interpolation. Per distinct row range: the integral at its
    33 row edges, turned into the 8 row coefficients for every column at once (_EDGE_DCT); per
    window: those sampled at its 33 column edges, and the mirror's, turned into the 8 column
    coefficients. About a fifth of the arithmetic of one product with dense maps (0.17 ms
    instead of 0.49 on an AMD EPYC, and a working set that stays in cache)."""
    h1, w1 = integral.shape
    n = group.shape[0]
    low = np.empty((n, 64))
    low_mirror = np.empty((n, 64))
    edge = np.empty((33, w1))
    lows = np.empty((8, w1))
    sampled = np.empty((8, 33))
    for r in range(row_at.shape[0]):
        for b in range(33):
            k = row_at[r, b]
            f = row_frac[r, b]
            k1 = k + 1 if k + 1 < h1 else k
            for x in range(w1):
                edge[b, x] = integral[k, x] + f * (integral[k1, x] - integral[k, x])
        for a in range(8):
            for x in range(w1):
                lows[a, x] = 0.0
            for b in range(33):
                d = _EDGE_DCT[a, b]
                for x in range(w1):
                    lows[a, x] += d * edge[b, x]
        for wi in range(n):
            if group[wi] != r:
                continue
            for m in range(2):
                for a in range(8):
                    for c in range(33):
                        k = col_at[wi, 33 * m + c]
                        f = col_frac[wi, 33 * m + c]
                        k1 = k + 1 if k + 1 < w1 else k
                        sampled[a, c] = lows[a, k] + f * (lows[a, k1] - lows[a, k])
                # the mirror's edges run right to left: its bins are the negated differences
                s = scale[wi] if m == 0 else -scale[wi]
                out = low if m == 0 else low_mirror
                for a in range(8):
                    for q in range(8):
                        t = 0.0
                        for c in range(33):
                            t += _EDGE_DCT[q, c] * sampled[a, c]
                        out[wi, a * 8 + q] = t * s
    return low, low_mirror


class _Hashes(TypedDict):
    codes: np.ndarray
    mirror_codes: np.ndarray
    extra_codes: np.ndarray
    extra_mirror_codes: np.ndarray


def _hashes(thumb: np.ndarray) -> _Hashes:
    """The window hashes of a thumbnail and of its mirror image, as PhotoPrint fields.

    Area averaging and the DCT are linear, so every window's coefficients come from one integral
    image with bin edges precomputed per thumbnail shape, and the mirror image's from the same
    integral with the column edges running the other way. The codes are those of _phash_windows
    (tested bit for bit) in a fifth of a millisecond instead of six, which on the city bundle's
    photos was most of a fingerprint."""
    windows = WINDOWS + EXTRA_WINDOWS
    maps = _window_maps(*thumb.shape, windows)
    if maps is None:
        mirror = np.ascontiguousarray(thumb[:, ::-1])
        codes, mirror_codes = _phash_windows(thumb, windows), _phash_windows(mirror, windows)
    else:
        integral = cv2.integral(thumb, sdepth=cv2.CV_32S)
        low, low_mirror = _window_coefficients(integral, *maps)
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
