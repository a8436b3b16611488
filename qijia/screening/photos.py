"""Near-duplicate photographs: fingerprints, a Hamming index, and geometric verification.

The spec's rule: two photos are the same photograph when one was made from the other by
re-encoding, a format change, resizing, cropping that keeps >= 80% of the area, brightness or
contrast +-25%, greyscale, a horizontal mirror or stripped metadata; different shots of a similar
scene are not. One global perceptual hash cannot decide that (a 80% crop moves every DCT
coefficient; a mirror flips half of them; a neighbouring shot can hash closer than a crop), so the
decision has two stages:

1. Candidates. Each photo gets 64-bit DCT hashes (pHash) of its whole frame and of ten sub-windows
   that a >= 80%-area crop roughly equals (corners, centre, sides), for the picture and its
   mirror image. Windows of one photo against windows of the other find crops; the mirror codes
   find mirror images. Codes go in a multi-index hash table (FAISS ``IndexBinaryMultiHash``:
   four 16-bit substrings, probing one or two flipped bits), which returns every code within the
   Hamming radius without a scan.
2. Verification. For each candidate pair, SIFT keypoints on 256-pixel greyscale thumbnails are
   matched and an axis-aligned model (x' = sx*x + tx, y' = sy*y + ty: resize and crop, with the
   mirror tried explicitly) is fitted by RANSAC. The pair is the same photograph only when one
   frame lies inside the other and covers >= ~80% of it (a crop), and the aligned pixels agree
   after normalising brightness and contrast (nothing moved). A neighbouring shot fails the
   containment test; another moment fails the pixel test.

Decoding is the cost of fingerprinting, so JPEGs are decoded at reduced size (libjpeg's DCT
scaling through ``Image.draft``): a 12-megapixel photo is decoded at 1/8 scale directly.
Fingerprints are keyed by the content's SHA-256 and kept in ``FingerprintCache`` (SQLite) so a file
is fingerprinted once ever.

No Django imports here: the CLI, a worker or a notebook can use this module as it is.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing as mp
import os
import sqlite3
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numba
import numpy as np
from PIL import Image, UnidentifiedImageError

from qijia.core.errors import DomainError

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
EXTRA_WINDOWS: tuple[tuple[float, float, float, float], ...] = (
    (0.0, 0.2, 1.0, 1.0),
    (0.0, 0.0, 1.0, 0.8),
    (0.2, 0.0, 1.0, 1.0),
    (0.0, 0.0, 0.8, 1.0),
    (0.0, 0.08, 1.0, 1.0),
    (0.0, 0.0, 1.0, 0.92),
    (0.08, 0.0, 1.0, 1.0),
    (0.0, 0.0, 0.92, 1.0),
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

# Verification thresholds, calibrated on photogen pairs (see qijia/bench/photos.py).
MIN_INLIERS = 12
DENSE_MAX_HASH_DISTANCE = 8  # window-hash distance under which the dense fallback may run
PENDING_MAX = 20_000  # codes added since the last build searched by a scan, up to this many
SIFT_SCALE = 0.75  # keypoints are found on the thumbnail at this scale (cost ~ area)
GATE_SIDE = 48  # coarse gate: longest side of the small greyscale images (pixels)
GATE_FRACTIONS = np.linspace(0.76, 1.0, 5)  # crop sides tried by the gate, then refined
GATE_MIN = 0.6  # below this coarse correlation a pair is not verified further (see _coarse_score)
PARALLEL_MIN_PAIRS = 2_000  # verify in worker processes from this many candidate pairs
# The smaller frame lies (almost) entirely inside the larger one. Copies measure >= 0.995 (1,067
# crops of real photographs, every method); two framings of one scene shifted by 3% of a side
# measure about 0.96, and they are different shots: the second shows what the first does not.
CONTAINED = 0.97
MIN_COVER = 0.74  # and covers at least this share of it (spec: 80%, minus estimation error)
MIN_NCC = 0.90  # aligned pixels agree after brightness/contrast normalisation
MIN_BLOCK_NCC = 0.80  # and no region disagrees (nothing moved)
# Every transformation the spec lists maps one frame onto the other by x' = sx*x + tx,
# y' = sy*y + ty; a second shot from a hand turned by a degree, or a camera tilted, does not.
# A pair whose matched keypoints fit an affine map (a turn) or a homography (a tilt) clearly
# better than the axis-aligned model (F statistic) and visibly (the fits part by this many
# thumbnail pixels at the corners of the matched region) is a different shot (_distortion).
# Measured on 1,640 copies of real photographs under the spec's chains: F at most 15.1 (99% under
# 5.3). OpenCV's 30 sample photographs turned by 1 degree: F 120 to 11,500, 2.0 to 4.2 px; by 0.5
# degree: F 56 to 4,000 except one with 14 keypoints; with a 2% keystone: F 60 to 2,500 except
# two of 30.
DISTORTION_F = 25.0
DISTORTION_PX = 0.75


class PhotoError(DomainError):
    """A file that cannot be read as a JPEG, PNG or WebP photograph."""

    code = "photo_unreadable"


@dataclass(frozen=True, eq=False)
class PhotoPrint:
    """What screening keeps of one photo: content hash, size, window hashes and a thumbnail."""

    sha256: str
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
                "v": 1,
                "sha256": self.sha256,
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
        return cls(
            header["sha256"],
            header["width"],
            header["height"],
            header["format"],
            *arrays,
            thumb,
            header.get("orientation", 1),
        )


# ---------------------------------------------------------------------------------------------
# Fingerprinting


def _open(data: bytes) -> Image.Image:
    if not data:
        raise PhotoError("图片文件为空")
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


def _grey_thumbnail(img: Image.Image) -> np.ndarray:
    """Greyscale thumbnail with longest side THUMB_SIDE, decoding JPEGs at reduced size."""
    w, h = img.size
    scale = THUMB_SIDE / max(w, h)
    tw, th = max(int(round(w * scale)), 1), max(int(round(h * scale)), 1)
    if img.format in ("JPEG", "MPO"):
        # libjpeg scales by 1/2, 1/4 or 1/8 while decoding: keep at least the thumbnail size.
        img.draft("L", (tw, th))
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
    interpolation = cv2.INTER_AREA if grey.shape[1] > tw else cv2.INTER_CUBIC
    return cv2.resize(grey, (tw, th), interpolation=interpolation)


def _phash_windows(
    grey: np.ndarray, windows: Sequence[tuple[float, float, float, float]] = WINDOWS
) -> np.ndarray:
    """64-bit DCT hash of every entry of ``windows`` (bit set where the coefficient > median)."""
    h, w = grey.shape
    out = np.empty(len(windows), dtype=np.uint64)
    weights = np.uint64(1) << np.arange(64, dtype=np.uint64)
    for i, (x0, y0, x1, y1) in enumerate(windows):
        part = grey[
            int(round(y0 * h)) : max(int(round(y1 * h)), 1),
            int(round(x0 * w)) : max(int(round(x1 * w)), 1),
        ]
        small = cv2.resize(part.astype(np.float32), (32, 32), interpolation=cv2.INTER_AREA)
        low = cv2.dct(small)[:8, :8].ravel()
        bits = low > np.median(low[1:])
        out[i] = np.bitwise_or.reduce(weights[bits]) if bits.any() else np.uint64(0)
    return out


def _hashes(thumb: np.ndarray) -> dict[str, np.ndarray]:
    """The window hashes of a thumbnail and of its mirror image, as PhotoPrint fields."""
    mirror = np.ascontiguousarray(thumb[:, ::-1])
    return {
        "codes": _phash_windows(thumb),
        "mirror_codes": _phash_windows(mirror),
        "extra_codes": _phash_windows(thumb, EXTRA_WINDOWS),
        "extra_mirror_codes": _phash_windows(mirror, EXTRA_WINDOWS),
    }


def fingerprint_bytes(data: bytes) -> PhotoPrint:
    """Fingerprint an encoded photo; raises PhotoError for anything that is not a readable image."""
    img = _open(data)
    width, height = img.size  # before draft() shrinks it
    thumb = _grey_thumbnail(img)
    return PhotoPrint(
        sha256=hashlib.sha256(data).hexdigest(),
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
        sha256=f"{fp.sha256}:upright",  # an identity for the caches, never a file's content
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


def fingerprint_file(path: str | Path, cache: FingerprintCache | None = None) -> PhotoPrint:
    """Fingerprint a file; with a cache, a content already seen is not decoded again."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PhotoError(f"图片文件无法读取：{path}（{exc.strerror or exc}）") from exc
    if cache is not None:
        return cache.fingerprint(data)
    return fingerprint_bytes(data)


class FingerprintCache:
    """Fingerprints on disk (SQLite), keyed by the content's SHA-256.

    Why by content: the same picture is often filed under many names and many applications, and
    re-screening a bundle or a year's applications must not decode anything twice.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS prints (sha256 TEXT PRIMARY KEY, version INTEGER, data BLOB)"
        )
        self._db.commit()
        self.hits = 0
        self.misses = 0

    # 2: width/height are the photo's own size (1 stored the draft-decoded size); 3: orientation;
    # 4: extra window codes
    _VERSION = 4

    def get(self, sha256: str) -> PhotoPrint | None:
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM prints WHERE sha256 = ? AND version = ?", (sha256, self._VERSION)
            ).fetchone()
        return PhotoPrint.from_bytes(row[0]) if row else None

    def put(self, fp: PhotoPrint) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO prints (sha256, version, data) VALUES (?, ?, ?)",
                (fp.sha256, self._VERSION, fp.to_bytes()),
            )
            self._db.commit()

    def fingerprint(self, data: bytes) -> PhotoPrint:
        sha = hashlib.sha256(data).hexdigest()
        found = self.get(sha)
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        fp = fingerprint_bytes(data)
        self.put(fp)
        return fp

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM prints").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


# ---------------------------------------------------------------------------------------------
# Hamming index over 64-bit codes


def _layout(n: int, radius: int) -> tuple[int, int]:
    """(substrings m, flipped bits f) with m * (f + 1) > radius, cheapest for ``n`` codes.

    Probing costs one bucket visit (a cache miss) per probe and one sequential check per code in
    the bucket: few wide substrings suit a large index, more narrow ones a small index.
    """
    best: tuple[float, int, int] | None = None
    for m in range(2, 17):
        f = radius // m  # smallest f with m * (f + 1) > radius
        width = 64 // m
        probes = sum(_comb(width, k) for k in range(f + 1)) * m
        checks = probes * n / float(1 << width)
        cost = probes * 25.0 + checks * 1.5
        if width > 20:
            continue
        if best is None or cost < best[0]:
            best = (cost, m, f)
    assert best is not None
    return best[1], best[2]


def _comb(n: int, k: int) -> int:
    from math import comb

    return comb(n, k)


def _substrings(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Shift and width of each of the ``m`` substrings covering the 64 bits."""
    widths = np.full(m, 64 // m, dtype=np.int64)
    widths[: 64 % m] += 1
    shifts = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
    return shifts, widths


def _flip_masks(width: int, flips: int) -> np.ndarray:
    """Every ``width``-bit mask with at most ``flips`` bits set (the probes of one substring)."""
    values = np.arange(1 << width, dtype=np.uint32)
    return values[np.bitwise_count(values) <= flips].astype(np.uint64)


@numba.njit(cache=True, inline="always")
def _popcount64(x: np.uint64) -> int:  # pragma: no cover - compiled
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return int((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@numba.njit(cache=True, inline="always")
def _found_earlier(x, c, shifts, widths, flips) -> bool:  # pragma: no cover - compiled
    """Whether a pair whose codes differ by ``x`` is within ``flips`` bits on a substring before
    ``c``: that substring's probes found it already, so substring c does not report it again."""
    for e in range(c):
        part = (x >> np.uint64(shifts[e])) & ((np.uint64(1) << np.uint64(widths[e])) - np.uint64(1))
        if _popcount64(part) <= flips:
            return True
    return False


@numba.njit(cache=True)
def _mih_chunk(
    queries,
    c,
    shifts,
    widths,
    sorted_codes,
    sorted_ids,
    starts,
    masks,
    radius,
    flips,
    out_q,
    out_id,
    out_d,
):  # pragma: no cover - compiled
    """Search every query through substring ``c``; returns the count (-1 if the buffer is full).

    A code found through substring c is reported only if no earlier substring was within
    ``flips`` bits of the query (that substring reported it already): no duplicates without a
    hash set.
    """
    cap = len(out_q)
    n = 0
    shift = np.uint64(shifts[c])
    mask_c = (np.uint64(1) << np.uint64(widths[c])) - np.uint64(1)
    for qi in range(len(queries)):
        q = queries[qi]
        qc = (q >> shift) & mask_c
        for m in masks:
            if m > mask_c:  # masks ascend; wider than this substring from here on
                break
            bucket = np.int64(qc ^ m)
            for k in range(starts[c, bucket], starts[c, bucket + 1]):
                x = sorted_codes[c, k] ^ q
                d = _popcount64(x)
                if d > radius:
                    continue
                if _found_earlier(x, c, shifts, widths, flips):
                    continue
                if n == cap:
                    return -1
                out_q[n] = qi
                out_id[n] = sorted_ids[c, k]  # read only on a hit: one cache miss less
                out_d[n] = d
                n += 1
    return n


@numba.njit(cache=True)
def _join_chunk(
    c, shifts, widths, sorted_codes, sorted_ids, starts, masks, radius, flips, out_i, out_j, out_d
):  # pragma: no cover - compiled
    """Every close pair (i < j) through substring ``c``; the count, or -1 if the buffer is full.

    A self-join needs no queries: each pair of buckets within ``flips`` bits is visited once
    (b <= b ^ mask), and two contiguous runs of stored codes are compared, half the work of
    searching every code against the index. Duplicates across substrings are dropped as in
    ``_mih_chunk``.
    """
    cap = len(out_i)
    n = 0
    mask_c = (np.uint64(1) << np.uint64(widths[c])) - np.uint64(1)
    for b in range(np.int64(mask_c) + 1):
        s0 = starts[c, b]
        e0 = starts[c, b + 1]
        if s0 == e0:
            continue
        for m in masks:
            if m > mask_c:
                break
            b2 = np.int64(np.uint64(b) ^ m)
            if b2 < b:
                continue
            e1 = starts[c, b2 + 1]
            for k0 in range(s0, e0):
                a = sorted_codes[c, k0]
                for k1 in range(k0 + 1 if b2 == b else starts[c, b2], e1):
                    x = sorted_codes[c, k1] ^ a
                    d = _popcount64(x)
                    if d > radius:
                        continue
                    if _found_earlier(x, c, shifts, widths, flips):
                        continue
                    if n == cap:
                        return -1
                    i = sorted_ids[c, k0]
                    j = sorted_ids[c, k1]
                    out_i[n] = min(i, j)
                    out_j[n] = max(i, j)
                    out_d[n] = d
                    n += 1
    return n


#: On every core for any batch: measured on 1,000,000 codes, 22 queries take 0.23 ms against
#: 0.55 ms on one core, 1,100 take 21 ms against 42 ms. (An earlier serial twin for small batches
#: shared its numba cache entry with this kernel, so "parallel" had been running serial code.)
@numba.njit(cache=True, parallel=True)
def _mih_parallel(
    join,
    queries,
    shifts,
    widths,
    sorted_codes,
    sorted_ids,
    starts,
    masks,
    radius,
    flips,
    cap,
    out_a,
    out_b,
    out_d,
    counts,
):  # pragma: no cover - compiled
    """Every substring on its own core, into its own slice of the output buffers: the self-join
    of the stored codes (``join``) or the search of ``queries``."""
    for c in numba.prange(len(shifts)):
        part = slice(c * cap, (c + 1) * cap)
        if join:
            counts[c] = _join_chunk(
                c,
                shifts,
                widths,
                sorted_codes,
                sorted_ids,
                starts,
                masks,
                radius,
                flips,
                out_a[part],
                out_b[part],
                out_d[part],
            )
        else:
            counts[c] = _mih_chunk(
                queries,
                c,
                shifts,
                widths,
                sorted_codes,
                sorted_ids,
                starts,
                masks,
                radius,
                flips,
                out_a[part],
                out_b[part],
                out_d[part],
            )


class HashIndex:
    """All 64-bit codes within a Hamming radius, by multi-index hashing (Norouzi et al.).

    The codes are cut into m substrings; probing each substring's table with up to f bits
    flipped finds every code within the radius as long as m * (f + 1) > radius (pigeonhole),
    reading a few hundred small buckets instead of the whole index. m and f are chosen for the
    index size (``_layout``). Codes are stored sorted per substring, so a bucket is one
    contiguous run; the loop is compiled with numba, one substring per core. The self-join
    compares bucket with bucket instead of searching every code (``_join_chunk``).
    """

    def __init__(self, radius: int = CANDIDATE_RADIUS):
        if radius < 0 or radius > 24:
            raise ValueError("radius must be within 0..24")
        self.radius = radius
        self._parts: list[np.ndarray] = []
        self._codes = np.empty(0, dtype=np.uint64)
        self._tables: tuple | None = None
        self.layout: tuple[int, int] = (0, 0)

    @property
    def ntotal(self) -> int:
        return len(self._codes) + sum(len(p) for p in self._parts)

    @property
    def codes(self) -> np.ndarray:
        self._build(force=True)
        return self._codes

    def add(self, codes: np.ndarray) -> None:
        if len(codes):
            self._parts.append(np.asarray(codes, dtype=np.uint64).ravel())

    def memory_bytes(self) -> int:
        tables = self._build(force=True)
        return int(self._codes.nbytes + sum(t.nbytes for t in tables if isinstance(t, np.ndarray)))

    def _pending(self) -> np.ndarray:
        if len(self._parts) > 1:
            self._parts = [np.concatenate(self._parts)]
        return self._parts[0] if self._parts else np.empty(0, dtype=np.uint64)

    def _build(self, force: bool = False) -> tuple:
        """The tables; codes added since the last build stay pending (searched by a scan)
        until they are many, so an index that grows by one application at a time does not
        rebuild on every query."""
        pending = sum(len(p) for p in self._parts)
        if pending and (
            force or self._tables is None or pending > max(PENDING_MAX, len(self._codes) // 4)
        ):
            self._codes = np.concatenate([self._codes, *self._parts])
            self._parts = []
            self._tables = None
        if self._tables is None:
            n = len(self._codes)
            m, flips = _layout(n, self.radius)
            shifts, widths = _substrings(m)
            sorted_codes = np.empty((m, n), dtype=np.uint64)
            sorted_ids = np.empty((m, n), dtype=np.int64)
            starts = np.zeros((m, (1 << int(widths.max())) + 1), dtype=np.int64)
            for c in range(m):
                key = (self._codes >> np.uint64(shifts[c])) & np.uint64((1 << widths[c]) - 1)
                key = key.astype(np.int64)
                order = np.argsort(key, kind="stable")
                sorted_codes[c] = self._codes[order]
                sorted_ids[c] = order
                counts = np.bincount(key, minlength=1 << int(widths[c]))
                starts[c, 1 : len(counts) + 1] = np.cumsum(counts)
                starts[c, len(counts) + 1 :] = n
            masks = _flip_masks(int(widths.max()), flips)
            self._tables = (shifts, widths, sorted_codes, sorted_ids, starts, masks, flips)
            self.layout = (m, flips)
        return self._tables

    def _run(
        self, queries: np.ndarray | None, build: bool = False, radius: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hits of ``queries`` in the built tables, or the self-join when ``queries`` is None.
        Each substring writes into its own slice of ``cap`` rows; a slice that overflows (count
        -1) makes the run start again with larger slices. A smaller ``radius`` than the index's
        probes with fewer flipped bits (the pigeonhole bound for the same substrings)."""
        shifts, widths, sorted_codes, sorted_ids, starts, masks, flips = self._build(force=build)
        if radius is None:
            radius = self.radius
        elif radius != self.radius:
            flips = radius // len(shifts)
            masks = masks[np.bitwise_count(masks) <= flips]
        join = queries is None
        queries = np.ascontiguousarray(np.empty(0) if queries is None else queries, dtype=np.uint64)
        parts = len(shifts)
        cap = max(4096, self.ntotal if join else 2 * len(queries))
        while True:
            out_a = np.empty(parts * cap, dtype=np.int64)
            out_b = np.empty(parts * cap, dtype=np.int64)
            out_d = np.empty(parts * cap, dtype=np.int32)
            counts = np.zeros(parts, dtype=np.int64)
            _mih_parallel(
                join, queries, shifts, widths, sorted_codes, sorted_ids, starts, masks,
                radius, flips, cap, out_a, out_b, out_d, counts,
            )  # fmt: skip
            if (counts >= 0).all():
                break
            cap *= 4
        keep = np.concatenate([np.arange(c * cap, c * cap + counts[c]) for c in range(parts)])
        return out_a[keep], out_b[keep], out_d[keep]

    def search(
        self, codes: np.ndarray, radius: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query row, index row, distance) for every indexed code within ``radius`` (the
        index's radius by default; a smaller one is cheaper)."""
        if radius is None:
            radius = self.radius
        if not 0 <= radius <= self.radius:
            raise ValueError(f"radius must be within 0..{self.radius}")
        if not len(codes) or not self.ntotal:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty.astype(np.int32)
        codes = np.asarray(codes, dtype=np.uint64).ravel()
        rows, ids, dist = self._run(codes, radius=radius)
        pending = self._pending()
        if not len(pending):
            return rows, ids, dist
        more = [(rows, ids, dist)]
        for start in range(0, len(codes), 256):
            block = np.bitwise_count(codes[start : start + 256, None] ^ pending[None, :])
            r, c = np.nonzero(block <= radius)
            more.append((r + start, c + len(self._codes), block[r, c].astype(np.int32)))
        return tuple(np.concatenate(parts) for parts in zip(*more, strict=True))

    def self_join(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every pair (i < j) of indexed codes within the radius."""
        if not self.ntotal:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty.astype(np.int32)
        return self._run(None, build=True)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bitwise Hamming distance of uint64 codes (broadcasting)."""
    return np.bitwise_count(np.bitwise_xor(np.asarray(a, np.uint64), np.asarray(b, np.uint64)))


# ---------------------------------------------------------------------------------------------
# Verification


class _Bounded:
    """Values derived from one photo (keypoints, small images), computed once and kept for the
    pairs that follow, least recently used dropped first; safe to share between threads."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return value


# SIFT descriptor entries are 0..255: kept as uint8, 4,096 photos' features take ~200 MB.
_FEATURES = _Bounded(4096)
_SIFT = cv2.SIFT_create(nfeatures=400, contrastThreshold=0.02)
_SIFT_LOCK = threading.Lock()  # one detector object, not safe to call from two threads


def _features(
    fp: PhotoPrint, mirrored: bool, stretch: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """SIFT keypoints (in thumbnail coordinates) and descriptors of a thumbnail, cached.

    ``stretch`` resamples the thumbnail to an aspect ratio ``stretch`` times its own first:
    SIFT is not invariant to a resize that changes the aspect ratio, so a copy resized
    unevenly is matched after undoing that.
    """
    stretch = round(stretch, 3)
    return _FEATURES.get(
        (fp.sha256, mirrored, stretch), lambda: _compute_features(fp, mirrored, stretch)
    )


def _compute_features(
    fp: PhotoPrint, mirrored: bool, stretch: float
) -> tuple[np.ndarray, np.ndarray]:
    img = _oriented(fp.thumb, mirrored)
    kx = ky = SIFT_SCALE
    if stretch != 1.0:
        kx, ky = kx * np.sqrt(stretch), ky / np.sqrt(stretch)
    if (kx, ky) != (1.0, 1.0):
        h, w = img.shape
        img = cv2.resize(
            img,
            (max(int(round(w * kx)), 8), max(int(round(h * ky)), 8)),
            interpolation=cv2.INTER_AREA if ky < 1 else cv2.INTER_CUBIC,
        )
        kx, ky = img.shape[1] / w, img.shape[0] / h
    with _SIFT_LOCK:
        keypoints, desc = _SIFT.detectAndCompute(img, None)
    pts = np.array([k.pt for k in keypoints], dtype=np.float32).reshape(-1, 2)
    pts /= np.array([kx, ky], dtype=np.float32)
    if desc is None:
        desc = np.empty((0, 128), dtype=np.float32)
    return pts, np.clip(np.rint(desc), 0, 255).astype(np.uint8)


_MATCHER = cv2.BFMatcher(cv2.NORM_L2)


def _ransac_axis_aligned(
    pa: np.ndarray, pb: np.ndarray, tol: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray] | None:
    """Fit xb = sx*xa + tx, yb = sy*ya + ty (sx, sy > 0) by RANSAC; returns (params, inliers)."""
    n = len(pa)
    if n < 2:
        return None
    trials = min(300, n * (n - 1) // 2)
    i = rng.integers(0, n, trials)
    j = rng.integers(0, n, trials)
    ok = i != j
    i, j = i[ok], j[ok]
    dxa = pa[j, 0] - pa[i, 0]
    dya = pa[j, 1] - pa[i, 1]
    good = (np.abs(dxa) > 4) & (np.abs(dya) > 4)
    i, j, dxa, dya = i[good], j[good], dxa[good], dya[good]
    if not len(i):
        return None
    sx = (pb[j, 0] - pb[i, 0]) / dxa
    sy = (pb[j, 1] - pb[i, 1]) / dya
    valid = (sx > 0.1) & (sy > 0.1) & (sx < 10) & (sy < 10)
    valid[valid] &= (sx[valid] < 4.5 * sy[valid]) & (sy[valid] < 4.5 * sx[valid])
    if not valid.any():
        return None
    i, sx, sy = i[valid], sx[valid], sy[valid]
    tx = pb[i, 0] - sx * pa[i, 0]
    ty = pb[i, 1] - sy * pa[i, 1]
    # residuals: trials x matches
    rx = pb[None, :, 0] - (sx[:, None] * pa[None, :, 0] + tx[:, None])
    ry = pb[None, :, 1] - (sy[:, None] * pa[None, :, 1] + ty[:, None])
    inliers = (rx * rx + ry * ry) < tol * tol
    best = int(np.argmax(inliers.sum(axis=1)))
    mask = inliers[best]
    for _ in range(2):  # refit by least squares on the inliers, then re-select
        if mask.sum() < 3:
            return None
        (sx1, sy1), (tx1, ty1) = _axis_fit(pa[mask], pb[mask])
        if sx1 <= 0 or sy1 <= 0:
            return None
        rx = pb[:, 0] - (sx1 * pa[:, 0] + tx1)
        ry = pb[:, 1] - (sy1 * pa[:, 1] + ty1)
        mask = (rx * rx + ry * ry) < tol * tol
    return np.array([sx1, tx1, sy1, ty1]), mask


def _axis_fit(pa: np.ndarray, pb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares (scale, shift) per axis of pb = scale * pa + shift: resize and crop."""
    scale, shift = np.empty(2), np.empty(2)
    ones = np.ones(len(pa))
    for axis in (0, 1):
        design = np.stack([pa[:, axis], ones], axis=1)
        (scale[axis], shift[axis]), *_ = np.linalg.lstsq(design, pb[:, axis], rcond=None)
    return scale, shift


def _distortion(pa: np.ndarray, pb: np.ndarray) -> dict[str, tuple[float, float]]:
    """How far matched points ``pa`` -> ``pb`` are from an axis-aligned map (resize and crop).

    For an affine map (a turn, a shear) and a homography (a tilt), fitted by least squares to
    the same points: (F, px), the F statistic of that fit over the axis-aligned one (2 and 4
    more parameters) and the largest gap between the two fits at the corners of the points'
    bounding box, in ``pb``'s pixels. Empty when the points are too few to tell.
    """
    n = len(pa)
    if n < MIN_INLIERS:
        return {}
    pa = pa.astype(np.float64)
    pb = pb.astype(np.float64)
    scale, shift = _axis_fit(pa, pb)
    rss_axis = float(((pb - (pa * scale + shift)) ** 2).sum())
    (x0, y0), (x1, y1) = pa.min(axis=0), pa.max(axis=0)
    corners = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]])
    axis_corners = corners * scale + shift
    affine, *_ = np.linalg.lstsq(np.column_stack([pa, np.ones(n)]), pb, rcond=None)
    maps = {"affine": (lambda q: np.column_stack([q, np.ones(len(q))]) @ affine, 2)}
    homography, _mask = cv2.findHomography(pa, pb, 0)
    if homography is not None:
        maps["homography"] = (lambda q: cv2.perspectiveTransform(q[None], homography)[0], 4)
    out = {}
    for name, (apply, extra) in maps.items():
        rss = float(((pb - apply(pa)) ** 2).sum())
        f_stat = ((rss_axis - rss) / extra) / (rss / (2 * n - 4 - extra) + 1e-9)
        gap = float(np.abs(apply(corners) - axis_corners).max())
        out[name] = (round(max(f_stat, 0.0), 1), round(gap, 2))
    return out


def _effective_pixel(fp: PhotoPrint) -> float:
    """Size of one original pixel in thumbnail pixels (>1 when the thumbnail was upscaled)."""
    return max(1.0, THUMB_SIDE / max(fp.width, fp.height))


def _aligned_agreement(
    a: PhotoPrint,
    b_thumb: np.ndarray,
    b_pixel: float,
    params: np.ndarray,
    rect: tuple[float, float, float, float],
) -> tuple[float, float]:
    """NCC of the overlap after alignment, globally and the worst of _BLOCKS x _BLOCKS blocks.

    Both sides are smoothed to the sampling step (or to the coarser of the two photos' real
    resolutions), so resampling, a 25% resize and JPEG noise do not count as differences while a
    moved object does. The block score leaves out clipped samples (_CLIP_LOW, _CLIP_HIGH).
    """
    sx, tx, sy, ty = params
    x0, y0, x1, y1 = rect
    grid = _GRID
    step = max((x1 - x0) / grid, (y1 - y0) / grid, _effective_pixel(a), b_pixel / min(sx, sy), 1.0)
    xs = np.linspace(x0 + 0.5, x1 - 1.5, grid, dtype=np.float32)
    ys = np.linspace(y0 + 0.5, y1 - 1.5, grid, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    fa = cv2.GaussianBlur(a.thumb.astype(np.float32), (0, 0), _SIGMA * step)
    fb = cv2.GaussianBlur(
        b_thumb.astype(np.float32), (0, 0), _SIGMA * step * sx, sigmaY=_SIGMA * step * sy
    )
    va = cv2.remap(fa, gx, gy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    vb = cv2.remap(
        fb,
        (gx * sx + tx).astype(np.float32),
        (gy * sy + ty).astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )

    def ncc(p: np.ndarray, q: np.ndarray) -> float:
        p = p - p.mean()
        q = q - q.mean()
        den = float(np.sqrt((p * p).sum() * (q * q).sum()))
        if den < 1e-6:
            return 1.0 if p.std() < 2 and q.std() < 2 else 0.0
        return float((p * q).sum() / den)

    overall = ncc(va, vb)
    # Blocks: compare after removing the global gain/offset, so a flat block that changed level
    # (an object moved over a wall) counts, and a flat block that did not is not noise.
    # Samples near black or white on either side are left out: a copy made brighter or given
    # more contrast clips its highlights (and shadows), which changes no content.
    valid = (np.minimum(va, vb) > _CLIP_LOW) & (np.maximum(va, vb) < _CLIP_HIGH)
    if valid.mean() < 0.5:
        valid = np.ones_like(valid)
    za = (va - va[valid].mean()) / (va[valid].std() + 1e-6)
    zb = (vb - vb[valid].mean()) / (vb[valid].std() + 1e-6)
    sq = np.where(valid, (za - zb) ** 2, 0.0)
    worst = 1.0
    block = grid // _BLOCKS
    for by in range(_BLOCKS):
        for bx in range(_BLOCKS):
            cells = (slice(by * block, (by + 1) * block), slice(bx * block, (bx + 1) * block))
            count = int(valid[cells].sum())
            if count < block * block // 4:
                continue
            # 1 - MSE/2 in globally normalised units: what an NCC would be for unit-variance
            # signals, but defined on flat blocks too (a wall changing level counts).
            worst = min(worst, 1.0 - float(sq[cells].sum()) / count / 2.0)
    return overall, worst


_GRID = 64
_BLOCKS = 8
_CLIP_LOW, _CLIP_HIGH = 6.0, 248.0  # grey levels treated as clipped by the block test
_SIGMA = 0.6
_DENSE_SIDE = 64
_DENSE_FRACTIONS = np.linspace(0.76, 1.0, 9)


def _dense_search(a: PhotoPrint, b: PhotoPrint, flip: bool) -> tuple[float, np.ndarray] | None:
    """Find b inside a by normalised cross-correlation over the spec's crop/resize range.

    The fallback when keypoints are too few or too repetitive (grass, gravel, walls, blur): the
    spec allows only crops keeping >= 80% of the area plus resizing, so b must equal a window of
    a whose sides are 80..100% of a's; every such window size is tried (any position, so the
    template search covers the offset). Returns (score, params a->b) in thumbnail coordinates.
    """
    ha, wa = a.thumb.shape
    scale_a = _DENSE_SIDE / max(ha, wa)
    sa = cv2.resize(
        a.thumb,
        (max(int(round(wa * scale_a)), 8), max(int(round(ha * scale_a)), 8)),
        interpolation=cv2.INTER_AREA,
    ).astype(np.float32)
    sa = cv2.GaussianBlur(sa, (0, 0), 0.7)
    bt = _oriented(b.thumb, flip)
    best: tuple[float, float, float, int, int] | None = None
    h, w = sa.shape
    for fx in _DENSE_FRACTIONS:
        for fy in _DENSE_FRACTIONS:
            if fx * fy < 0.74:
                continue
            tw, th = int(round(w * fx)), int(round(h * fy))
            tmpl = cv2.resize(bt, (tw, th), interpolation=cv2.INTER_AREA).astype(np.float32)
            tmpl = cv2.GaussianBlur(tmpl, (0, 0), 0.7)
            if tmpl.std() < 1.0:
                continue
            res = cv2.matchTemplate(sa, tmpl, cv2.TM_CCOEFF_NORMED)
            _min, score, _minloc, loc = cv2.minMaxLoc(res)
            if best is None or score > best[0]:
                best = (float(score), tw, th, loc[0], loc[1])
    if best is None:
        return None
    score, tw, th, x, y = best
    hb, wb = bt.shape
    # window of a (in a's thumbnail pixels) that b shows
    wx0, wy0 = x / scale_a, y / scale_a
    ww, wh = tw / scale_a, th / scale_a
    sx, sy = wb / ww, hb / wh
    return score, np.array([sx, -sx * wx0, sy, -sy * wy0])


def _judge(
    big: PhotoPrint, small: PhotoPrint, flip: bool, params: np.ndarray, evidence: dict
) -> bool:
    """Apply the spec's tests to an alignment big -> small; fills ``evidence``; True when same."""
    sx, tx, sy, ty = (float(v) for v in params)
    hb, wb = small.thumb.shape
    ha, wa = big.thumb.shape
    # small's frame in big's coordinates, intersected with big's frame.
    bx0, bx1 = (0 - tx) / sx, (wb - tx) / sx
    by0, by1 = (0 - ty) / sy, (hb - ty) / sy
    ix0, ix1 = max(bx0, 0.0), min(bx1, float(wa))
    iy0, iy1 = max(by0, 0.0), min(by1, float(ha))
    if ix1 - ix0 < 4 or iy1 - iy0 < 4:
        return False
    inter = (ix1 - ix0) * (iy1 - iy0)
    cover_big = inter / (wa * ha)  # share of big that small shows
    cover_small = inter / ((bx1 - bx0) * (by1 - by0))  # share of small that big shows
    contained = (cover_small >= CONTAINED and cover_big >= MIN_COVER) or (
        cover_big >= CONTAINED and cover_small >= MIN_COVER
    )
    ncc, worst = _aligned_agreement(
        big,
        _oriented(small.thumb, flip),
        _effective_pixel(small),
        np.array([sx, tx, sy, ty]),
        (ix0, iy0, ix1, iy1),
    )
    evidence.update(
        mirrored=bool(flip),
        scale=[round(sx, 4), round(sy, 4)],
        cover=[round(cover_big, 3), round(cover_small, 3)],
        ncc=round(ncc, 3),
        worst_block=round(worst, 3),
    )
    return contained and ncc >= MIN_NCC and worst >= MIN_BLOCK_NCC


_SMALL = _Bounded(8192)  # GATE_SIDE-pixel float images, ~7 KB each


def _small(fp: PhotoPrint, mirrored: bool) -> np.ndarray:
    """The thumbnail (mirrored if asked) shrunk to GATE_SIDE pixels on its longest side, cached."""

    def compute() -> np.ndarray:
        thumb = _oriented(fp.thumb, mirrored)
        h, w = thumb.shape
        scale = GATE_SIDE / max(h, w)
        return cv2.resize(
            thumb,
            (max(int(round(w * scale)), 8), max(int(round(h * scale)), 8)),
            interpolation=cv2.INTER_AREA,
        ).astype(np.float32)

    return _SMALL.get((fp.sha256, mirrored), compute)


def _crop_correlation(big: np.ndarray, small: np.ndarray, fx: float, fy: float) -> float:
    """Best correlation of ``small`` resized to (fx, fy) of ``big``'s sides, anywhere in it."""
    h, w = big.shape
    tw, th = min(int(round(w * fx)), w), min(int(round(h * fy)), h)
    tmpl = cv2.resize(small, (tw, th), interpolation=cv2.INTER_AREA)
    return float(cv2.matchTemplate(big, tmpl, cv2.TM_CCOEFF_NORMED).max())


def _coarse_score(a: PhotoPrint, b: PhotoPrint, flip: bool) -> float:
    """Best normalised correlation of one photo, shrunk to any crop size the spec allows, inside
    the other, at GATE_SIDE pixels; both ways round (either may be the crop).

    A necessary condition, cheap enough for every candidate (a few ms against ~20 ms for keypoints
    on both thumbnails): the same photograph correlates highly at this size under the right crop,
    so a low best score rejects the pair. Crop sides are tried on a 5x5 grid, then refined around
    the two best. Calibrated with qijia/bench/photos.py's pairs: the lowest score of a same-photo
    pair was 0.72 (real photographs cropped and mirrored), so GATE_MIN = 0.6 leaves a margin; on
    the city bundle about a third of the candidates that are not copies pass it. Returns the
    first score that passes, or the best when none does.
    """
    step = float(GATE_FRACTIONS[1] - GATE_FRACTIONS[0]) / 2
    best = -1.0
    small_a, small_b = _small(a, False), _small(b, flip)
    if small_a.std() < 1.0 or small_b.std() < 1.0:
        return 1.0  # a flat picture: correlation says nothing, let verification decide
    for big, small in ((small_a, small_b), (small_b, small_a)):
        grid = []
        for fx in GATE_FRACTIONS:
            for fy in GATE_FRACTIONS:
                if fx * fy >= 0.72:
                    score = _crop_correlation(big, small, fx, fy)
                    if score >= GATE_MIN:
                        return score  # passes: verification decides, no need for the best
                    grid.append((score, fx, fy))
        grid.sort(reverse=True)
        best = max(best, grid[0][0])
        for _score, fx, fy in grid[:2]:
            for dx in (-step, 0.0, step):
                for dy in (-step, 0.0, step):
                    if dx or dy:
                        score = _crop_correlation(big, small, min(fx + dx, 1.0), min(fy + dy, 1.0))
                        if score >= GATE_MIN:
                            return score
                        best = max(best, score)
    return best


def compare(
    a: PhotoPrint,
    b: PhotoPrint,
    mirrored: Sequence[bool] = (False, True),
    explain: list | None = None,
) -> dict | None:
    """Decide whether ``a`` and ``b`` are the same photograph; returns the evidence or None.

    A coarse correlation gate first (most candidates are different photos and stop there), then
    keypoints (precise, any scale), then a dense search over the spec's crop range when they are
    too few. ``explain``, when given, receives the measurements of every attempt (for
    tuning and for a reviewer asking why a pair was not reported).
    """
    if a.sha256 == b.sha256:
        return {"method": "identical_content", "mirrored": False}
    coarse = max(_coarse_score(a, b, flip) for flip in mirrored)
    if coarse < GATE_MIN:
        if explain is not None:
            explain.append({"method": "gate", "score": round(coarse, 3)})
        return None
    rng = np.random.default_rng(0)
    distorted = False
    pts_a, desc_a = _features(a, False)
    # A crop changes the aspect ratio by at most 1/0.8; more than that means b was resized
    # unevenly, so b is also matched after stretching it back to a's aspect ratio.
    ratio = (a.width / a.height) / (b.width / b.height)
    stretches = [1.0] if 1 / 1.15 < ratio < 1.15 else [1.0, ratio]
    for flip, stretch in ((f, st) for f in mirrored for st in stretches):
        pts_b, desc_b = _features(b, flip, stretch)
        if len(desc_a) < 2 or len(desc_b) < 2:
            continue
        knn = _MATCHER.knnMatch(desc_a.astype(np.float32), desc_b.astype(np.float32), k=2)
        # Lowe's ratio test: keep a match only when it is clearly better than the runner-up.
        pairs = [
            (p[0].queryIdx, p[0].trainIdx)
            for p in knn
            if len(p) == 2 and p[0].distance < 0.8 * p[1].distance
        ]
        if len(pairs) < MIN_INLIERS:
            continue
        idx = np.array(pairs)
        fit = _ransac_axis_aligned(
            pts_a[idx[:, 0]], pts_b[idx[:, 1]], tol=0.012 * THUMB_SIDE, rng=rng
        )
        if fit is None or int(fit[1].sum()) < MIN_INLIERS:
            continue
        inliers = idx[fit[1]]
        distortion = _distortion(pts_a[inliers[:, 0]], pts_b[inliers[:, 1]])
        evidence = {
            "method": "keypoints",
            "stretch": round(float(stretch), 3),
            "matches": len(pairs),
            "inliers": len(inliers),
            "distortion": distortion,
        }
        if any(f >= DISTORTION_F and px >= DISTORTION_PX for f, px in distortion.values()):
            # Turned or tilted: a different shot, whatever the pixels say; the dense search
            # below could not see that, so it does not run either.
            distorted = True
            if explain is not None:
                explain.append(evidence)
            continue
        same = _judge(a, b, flip, fit[0], evidence)
        if explain is not None:
            explain.append(evidence)
        if same:
            return evidence
        if evidence["ncc"] >= MIN_NCC and evidence["inliers"] >= 3 * MIN_INLIERS:
            # A confident alignment that failed the spec's tests: a different shot, decided.
            return None
    if distorted:
        return None
    # The dense search costs ~100x a keypoint match, so it only runs for pairs whose window
    # hashes are close: the textureless or repetitive pictures keypoints cannot align.
    # Only the window codes count here, not the extra windows': a dense match between two
    # photos whose windows differ is more often a shared object than a copy (measured: two
    # city-bundle scenes sharing one large picture passed with the extra windows).
    near = int(
        min(
            hamming(a.codes[:, None], b.codes[None, :]).min(),
            hamming(a.codes[:, None], b.mirror_codes[None, :]).min(),
        )
    )
    if near > DENSE_MAX_HASH_DISTANCE:
        return None
    for flip in mirrored:
        for big, small in ((a, b), (b, a)):
            found = _dense_search(big, small, flip)
            if found is None or found[0] < MIN_NCC - 0.1:
                continue
            evidence = {"method": "dense", "score": round(found[0], 3)}
            same = _judge(big, small, flip, found[1], evidence)
            if explain is not None:
                explain.append(evidence)
            if same:
                return evidence
    return None


def _oriented(thumb: np.ndarray, flip: bool) -> np.ndarray:
    return np.ascontiguousarray(thumb[:, ::-1]) if flip else thumb


# ---------------------------------------------------------------------------------------------
# Pairs and incremental index


def _candidate_pairs(
    index: HashIndex,
    owners: np.ndarray,
    query_codes: np.ndarray,
    query_owner: np.ndarray,
    query_flip: np.ndarray,
    query_radius: np.ndarray,
) -> dict[tuple[int, int], set[bool]]:
    found: dict[tuple[int, int], set[bool]] = {}
    rows_of, ids_of = [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.int64)]
    for radius in np.unique(query_radius).tolist():  # one search per radius
        part = np.flatnonzero(query_radius == radius)
        rows, ids, _dist = index.search(query_codes[part], radius=radius)
        rows_of.append(part[rows])
        ids_of.append(ids)
    rows, ids = np.concatenate(rows_of), np.concatenate(ids_of)
    if not len(rows):
        return found
    q = query_owner[rows]
    o = owners[ids]
    f = query_flip[rows]
    stacked = np.unique(np.stack([q, o, f.astype(np.int64)], axis=1), axis=0)
    for qi, oi, flip in stacked.tolist():
        found.setdefault((qi, oi), set()).add(bool(flip))
    return found


def _codes_of(
    prints: Sequence[PhotoPrint], extra: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Query codes of ``prints`` (normal and mirror, with the extra windows' unless ``extra`` is
    false), with per code the owner's position, a mirror flag and the search radius."""
    fields = (
        ("codes", "extra_codes", "mirror_codes", "extra_mirror_codes")
        if extra
        else ("codes", "mirror_codes")
    )
    radii = np.array([EXTRA_RADIUS if "extra" in f else CANDIDATE_RADIUS for f in fields])
    mirrored = np.array(["mirror" in f for f in fields])
    arrays = [getattr(p, f) for p in prints for f in fields]
    sizes = [len(a) for a in arrays]
    per_photo = len(fields)
    return (
        np.concatenate(arrays) if arrays else np.empty(0, dtype=np.uint64),
        np.repeat(np.repeat(np.arange(len(prints), dtype=np.int64), per_photo), sizes),
        np.repeat(np.tile(mirrored, len(prints)), sizes),
        np.repeat(np.tile(radii, len(prints)), sizes),
    )


def find_duplicate_pairs(
    items: Sequence[tuple[Hashable, PhotoPrint]],
) -> list[tuple[Hashable, Hashable, dict]]:
    """Every unordered pair of items that shows the same photograph, with verification evidence.

    Keys are returned as given, in input order within a pair (a's position < b's). A photo whose
    EXIF orientation turns it is compared as stored and as shown (``upright_view``); evidence
    from the shown view lists that side under ``upright``.
    """
    if len(items) < 2:
        return []
    prints, origin = _with_views([fp for _key, fp in items])
    index = HashIndex()
    index.add(np.concatenate([p.codes for p in prints]))
    owners = np.repeat(np.arange(len(prints), dtype=np.int64), [len(p.codes) for p in prints])
    candidates = _candidate_pairs(index, owners, *_codes_of(prints))
    # Same content under two keys is always a pair, whatever the hashes say.
    by_sha: dict[str, list[int]] = {}
    for pos, fp in enumerate(prints):
        by_sha.setdefault(fp.sha256, []).append(pos)
    merged: dict[tuple[int, int], set[bool]] = {}
    for (qi, oi), flips in candidates.items():
        if origin[qi] == origin[oi]:
            continue
        pair = (min(qi, oi), max(qi, oi))
        # the flag says which side was mirrored; verification mirrors the second of the pair
        merged.setdefault(pair, set()).update(flips)
    for positions in by_sha.values():
        for x in range(len(positions)):
            for y in range(x + 1, len(positions)):
                merged.setdefault((positions[x], positions[y]), set()).add(False)
    # One verification per pair of contents, in (i, j) order so a photo's keypoints are reused
    # by its consecutive pairs.
    tasks: dict[tuple[str, str], tuple[int, int, tuple[bool, ...]]] = {}
    for i, j in sorted(merged):
        a, b = prints[i], prints[j]
        key = (a.sha256, b.sha256) if a.sha256 <= b.sha256 else (b.sha256, a.sha256)
        tasks.setdefault(key, (i, j, tuple(sorted(merged[(i, j)]))))
    verdicts = dict(zip(tasks, _verify_all(prints, list(tasks.values())), strict=True))
    found: dict[tuple[int, int], dict] = {}
    for i, j in sorted(merged):
        a, b = prints[i], prints[j]
        key = (a.sha256, b.sha256) if a.sha256 <= b.sha256 else (b.sha256, a.sha256)
        evidence = verdicts[key]
        pair = (min(origin[i], origin[j]), max(origin[i], origin[j]))
        if evidence is None or pair in found:
            continue
        evidence = dict(evidence)
        turned = {origin[pos] for pos in (i, j) if pos >= len(items)}
        if turned:
            evidence["upright"] = [
                side for side, pos in zip("ab", pair, strict=True) if pos in turned
            ]
        found[pair] = evidence
    return [(items[i][0], items[j][0], evidence) for (i, j), evidence in sorted(found.items())]


_WORKER_PRINTS: Sequence[PhotoPrint] = ()


def _verify_chunk(chunk: list[tuple[int, int, tuple[bool, ...]]]) -> list[dict | None]:
    return [compare(_WORKER_PRINTS[i], _WORKER_PRINTS[j], flips) for i, j, flips in chunk]


def _verify_all(
    prints: Sequence[PhotoPrint], tasks: list[tuple[int, int, tuple[bool, ...]]]
) -> list[dict | None]:
    """compare() for every task, on every core when there are many (worker processes forked
    with the fingerprints in memory, so nothing but pair positions and verdicts is sent)."""
    global _WORKER_PRINTS
    workers = min(os.cpu_count() or 1, 8)
    if len(tasks) < PARALLEL_MIN_PAIRS or workers < 2 or "fork" not in mp.get_all_start_methods():
        return [compare(prints[i], prints[j], flips) for i, j, flips in tasks]
    # Contiguous chunks keep each worker's pairs in (i, j) order (keypoint cache hits); many
    # chunks per worker even out pairs that take the dense search.
    size = max(len(tasks) // (workers * 16), 1)
    chunks = [tasks[k : k + size] for k in range(0, len(tasks), size)]
    _WORKER_PRINTS = prints
    # One process per core already, so OpenCV's own threads would only contend; and it must be
    # set before the fork: a forked child that touches the inherited thread pool hangs.
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
            return [verdict for part in pool.map(_verify_chunk, chunks) for verdict in part]
    finally:
        _WORKER_PRINTS = ()
        cv2.setNumThreads(threads)


class PhotoIndex:
    """Photos already screened, for screening one new application against all of them.

    A crop is found from its original's extra windows. Either may be the stored one, so the
    stored photos' extra codes get an index of their own, searched with the new photos' window
    codes; the new photos' extra codes are searched in the main index, as in a bundle.
    """

    def __init__(self) -> None:
        self._index = HashIndex()
        self._extra = HashIndex()
        self._keys: list[Hashable] = []
        self._prints: list[PhotoPrint] = []
        self._owners: list[np.ndarray] = []
        self._extra_owners: list[np.ndarray] = []
        self._by_sha: dict[str, list[int]] = {}
        self._photos = 0  # stored photos; _keys/_prints also hold their upright views

    def __len__(self) -> int:
        return self._photos

    def add(self, keys: Sequence[Hashable], prints: Sequence[PhotoPrint]) -> None:
        if len(keys) != len(prints):
            raise ValueError("keys and prints differ in length")
        prints, origin = _with_views(prints)
        start = len(self._keys)
        for offset, fp in enumerate(prints):
            self._owners.append(np.full(len(fp.codes), start + offset, dtype=np.int64))
            self._extra_owners.append(np.full(len(fp.extra_codes), start + offset, dtype=np.int64))
            self._by_sha.setdefault(fp.sha256, []).append(start + offset)
        self._keys.extend(keys[o] for o in origin)
        self._prints.extend(prints)
        self._photos += len(keys)
        if prints:
            self._index.add(np.concatenate([p.codes for p in prints]))
            self._extra.add(np.concatenate([p.extra_codes for p in prints]))

    def query(self, prints: Sequence[PhotoPrint]) -> list[tuple[int, Hashable, dict]]:
        """(position in ``prints``, stored key, evidence) for each stored photo that is the same."""
        if not prints or not self._keys:
            return []
        views, origin = _with_views(prints)
        candidates = _candidate_pairs(self._index, np.concatenate(self._owners), *_codes_of(views))
        stored_crops = _candidate_pairs(
            self._extra, np.concatenate(self._extra_owners), *_codes_of(views, extra=False)
        )
        for pair, flips in stored_crops.items():
            candidates.setdefault(pair, set()).update(flips)
        for pos, fp in enumerate(prints):  # identical content is always found
            for stored in self._by_sha.get(fp.sha256, ()):
                candidates.setdefault((pos, stored), set()).add(False)
        out: dict[tuple[int, Hashable], dict] = {}
        for (qi, si), flips in sorted(candidates.items()):
            if (origin[qi], self._keys[si]) in out:
                continue
            # compare(stored, query): the flag marks the query side as mirrored
            evidence = compare(self._prints[si], views[qi], tuple(sorted(flips)))
            if evidence is not None:
                out[(origin[qi], self._keys[si])] = evidence
        return [(qi, key, evidence) for (qi, key), evidence in out.items()]
