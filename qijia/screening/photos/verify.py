"""Whether two fingerprinted photos are the same photograph: ``compare`` and its tests."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import cv2
import numpy as np

from .fingerprint import THUMB_SIDE, PhotoPrint
from .hashindex import hamming

# Verification thresholds, calibrated on photogen pairs (see qijia/bench/photos.py).
MIN_INLIERS = 12
DENSE_MAX_HASH_DISTANCE = 8  # window-hash distance under which the dense fallback may run
SIFT_SCALE = 0.75  # keypoints are found on the thumbnail at this scale (cost ~ area)
GATE_SIDE = 48  # coarse gate: longest side of the small greyscale images (pixels)
GATE_FRACTIONS = np.linspace(0.76, 1.0, 5)  # crop sides tried by the gate, then refined
# Along an axis where one photo holds this many times fewer samples than the other (an uneven
# resize), the gate and ECC compare at the coarser photo's resolution (_as_coarse_as, _squeezed).
UNEVEN = 1.3
GATE_MIN = 0.6  # below this coarse correlation a pair is not verified further (see _coarse_score)
# The smaller frame lies (almost) entirely inside the larger one. Copies measure >= 0.995 (1,067
# crops of real photographs, every method; 0.984 at the least over an independent bundle's 798
# copies); a framing moved by 2% or 3% along one side measures 0.979 or 0.97, and it is a
# different shot: it shows what the first does not. At 0.97 such shifts of 240-pixel pieces of
# real photographs were accepted, 16 of 16; at 0.98, none.
CONTAINED = 0.98
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
# The same test where keypoints are too few (the dense search): the root-mean-square gap between
# a homography and the axis-aligned map, both fitted by ECC (_refine), over the overlap, in
# thumbnail pixels (times the size of an original pixel when the thumbnail was upscaled).
# Measured with the dense path forced on qijia/bench/photos.py's pairs (560 attempts): copies
# that pass the pixel tests 0.0 to 0.53 (one at 1.05; 443 in all), a real photograph with its
# highlights clipped by +25% brightness and contrast 0.65; turned and tilted shots that pass the
# pixel tests 0.92 and more (48, every one). Before this test the dense path accepted 34 of those
# 100 decoy attempts.
DENSE_DISTORTION_PX = 0.8


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
_SIFT = cv2.SIFT.create(nfeatures=400, contrastThreshold=0.02)
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
        (fp.key, mirrored, stretch), lambda: _compute_features(fp, mirrored, stretch)
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
    """Fit xb = sx*xa + tx, yb = sy*ya + ty (sx, sy > 0) by RANSAC; returns (params, inliers).

    Written here because OpenCV's robust estimators fit richer models only (``estimateAffine2D``,
    ``estimateAffinePartial2D``: a turn and one scale; ``findHomography``), and a turn is exactly
    what must not be absorbed: the spec's transformations move and scale each axis, nothing more.
    The richer fits are still made, on the inliers, to measure distortion (``_distortion``).
    """
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
    """NCC of the overlap after alignment, globally and the worst of up to _BLOCKS x _BLOCKS blocks.

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
    # Up to _BLOCKS blocks a side, each at least _BLOCK_PIXELS of the coarser photo's own pixels
    # across: a copy 45 pixels wide (a 4:1 squeeze, or a quarter of a small photo) has JPEG
    # blocks a sixth of its width, and eight blocks of five pixels measured that noise (0.71 to
    # 0.79), not content.
    across = (
        min((x1 - x0) / _effective_pixel(a), (x1 - x0) * sx / b_pixel),
        min((y1 - y0) / _effective_pixel(a), (y1 - y0) * sy / b_pixel),
    )
    edges = [
        np.linspace(0, grid, int(np.clip(n // _BLOCK_PIXELS, 3, _BLOCKS)) + 1).astype(int)
        for n in across
    ]
    # Samples near black or white on either side are left out: a copy made brighter or given
    # more contrast clips its highlights (and shadows), which changes no content.
    valid = (np.minimum(va, vb) > _CLIP_LOW) & (np.maximum(va, vb) < _CLIP_HIGH)
    if valid.mean() < 0.5:
        valid = np.ones_like(valid)
    worst = _worst_block(va, vb, valid, *edges)
    if worst < MIN_BLOCK_NCC:
        # Where clipping is wide (a dark picture given +25% contrast loses its shadows), the
        # samples around the clipped ones are partly clipped too. Either photo's levels mapped
        # onto the other's by the fitted gain and offset, then clipped as the copy's were, leave
        # only what the clipping cannot explain.
        everything = np.ones_like(valid)
        worst = max(
            worst,
            _worst_block(_clipped_levels(va, vb, valid), vb, everything, *edges),
            _worst_block(va, _clipped_levels(vb, va, valid), everything, *edges),
        )
    return overall, worst


def _clipped_levels(src: np.ndarray, dst: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``src`` on ``dst``'s levels: the least-squares gain and offset over ``valid``, clipped to
    ``dst``'s range, as a brightness or contrast change clips (at black and white, or where a
    later, gentler change moved them)."""
    x, y = src[valid], dst[valid]
    spread = float(x.var())
    gain = float(((x - x.mean()) * (y - y.mean())).mean()) / spread if spread > 1e-6 else 0.0
    offset = float(y.mean()) - gain * float(x.mean())
    return np.clip(gain * src + offset, float(dst.min()), float(dst.max())).astype(np.float32)


def _worst_block(
    va: np.ndarray, vb: np.ndarray, valid: np.ndarray, edges_x: np.ndarray, edges_y: np.ndarray
) -> float:
    """The lowest agreement of a block, compared after removing the global gain and offset, so
    a flat block that changed level (an object moved over a wall) counts, and a flat block that
    did not is not noise. Blocks with less than a quarter of their samples ``valid`` are not
    judged."""
    za = (va - va[valid].mean()) / (va[valid].std() + 1e-6)
    zb = (vb - vb[valid].mean()) / (vb[valid].std() + 1e-6)
    sq = np.where(valid, (za - zb) ** 2, 0.0)
    worst = 1.0
    for y_lo, y_hi in zip(edges_y[:-1], edges_y[1:], strict=True):
        for x_lo, x_hi in zip(edges_x[:-1], edges_x[1:], strict=True):
            cells = (slice(y_lo, y_hi), slice(x_lo, x_hi))
            count = int(valid[cells].sum())
            if count < (y_hi - y_lo) * (x_hi - x_lo) // 4:
                continue
            # 1 - MSE/2 in globally normalised units: what an NCC would be for unit-variance
            # signals, but defined on flat blocks too (a wall changing level counts).
            worst = min(worst, 1.0 - float(sq[cells].sum()) / count / 2.0)
    return worst


_GRID = 64
_BLOCKS = 8
_BLOCK_PIXELS = 10
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
    small_a = cv2.resize(
        a.thumb,
        (max(int(round(wa * scale_a)), 8), max(int(round(ha * scale_a)), 8)),
        interpolation=cv2.INTER_AREA,
    ).astype(np.float32)
    sa = cv2.GaussianBlur(small_a, (0, 0), 0.7)
    bt = _oriented(b.thumb, flip)
    best: tuple[float, int, int, int, int] | None = None
    h, w = sa.shape
    for fx in _DENSE_FRACTIONS:
        for fy in _DENSE_FRACTIONS:
            if fx * fy < 0.74:
                continue
            tw, th = int(round(w * fx)), int(round(h * fy))
            small_b = cv2.resize(bt, (tw, th), interpolation=cv2.INTER_AREA).astype(np.float32)
            tmpl = cv2.GaussianBlur(small_b, (0, 0), 0.7)
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


def _frames(
    big: PhotoPrint, small: PhotoPrint, params: np.ndarray
) -> tuple[tuple[float, float, float, float], tuple[float, float, float, float]]:
    """Under the alignment big -> small: small's frame in big's thumbnail coordinates, and its
    intersection with big's frame, each as (x0, y0, x1, y1)."""
    sx, tx, sy, ty = (float(v) for v in params)
    hb, wb = small.thumb.shape
    ha, wa = big.thumb.shape
    x0, x1 = -tx / sx, (wb - tx) / sx
    y0, y1 = -ty / sy, (hb - ty) / sy
    return (x0, y0, x1, y1), (max(x0, 0.0), max(y0, 0.0), min(x1, float(wa)), min(y1, float(ha)))


def _refine(
    big: PhotoPrint, small: PhotoPrint, flip: bool, params: np.ndarray
) -> tuple[np.ndarray, tuple[float, float] | None]:
    """Refine an alignment big -> small to thumbnail precision, and measure how far the best
    homography is from an axis-aligned map (resize and crop). Used on the dense search's
    alignment, and for the gap alone on every keypoint fit that passed the pixel tests.

    The dense search aligns at _DENSE_SIDE pixels, a few thumbnail pixels off: enough to find a
    copy, too coarse for the block test, which then fails on any sharp edge. OpenCV's ECC
    (``findTransformECCWithMask``: invariant to brightness and contrast, clipped pixels left out)
    fits a homography from there; its least-squares axis-aligned part is the refined alignment,
    and the root-mean-square gap between the two over the overlap (in ``small``'s thumbnail
    pixels) says whether the frame was turned or tilted: the dense analogue of ``_distortion``.
    Returns (params, gap), the gap per axis; the params as given and no gap when ECC does not
    converge.
    """
    sx, tx, sy, ty = (float(v) for v in params)
    x0, y0, x1, y1 = _frames(big, small, params)[1]
    if x1 - x0 < 8 or y1 - y0 < 8:
        return params, None
    # Smoothed by a thumbnail pixel; along an axis one photo was squeezed by UNEVEN or more
    # (an uneven resize), the other is smoothed to match, or ECC fits the detail that only one
    # of them has (a 4:1 squeeze of a plain copy measured a 1.9-pixel gap). Smoothing both to
    # the coarser photo's own pixel instead lost more copies (18 against 8 of 540).
    template = cv2.GaussianBlur(
        big.thumb.astype(np.float32), (0, 0), _squeezed(1 / sx), sigmaY=_squeezed(1 / sy)
    )
    seen = _oriented(small.thumb, flip)
    image = cv2.GaussianBlur(seen.astype(np.float32), (0, 0), _squeezed(sx), sigmaY=_squeezed(sy))
    start = np.array([[sx, 0, tx], [0, sy, ty], [0, 0, 1]], dtype=np.float32)
    # Clipped pixels left out, as the block test leaves them out. When too little of a picture
    # remains, or all of it in one corner (_holds_a_homography), it does not hold a homography
    # (a re-encoded copy of a fundus photograph's black corner, 16% unclipped, measured a
    # 3-pixel gap): the coarse alignment is kept and there is no verdict, as before ECC.
    # Measured on 307 copies of 200- and 300-pixel tiles of real photographs, the same ones are
    # found with and without ECC (305); tilted, 4% keystone, the tiles 30% unclipped are still
    # rejected. All pixels when ECC fails on the unclipped ones.
    unclipped = (_unclipped(big.thumb), _unclipped(seen))
    if not all(map(_holds_a_homography, unclipped)):
        return params, None
    masks = [unclipped, (np.ones_like(big.thumb, np.uint8), np.ones_like(seen, np.uint8))]
    for mask_big, mask_small in masks:
        try:
            _cc, fitted = cv2.findTransformECCWithMask(
                template, image, mask_big, mask_small, start, cv2.MOTION_HOMOGRAPHY, _ECC_STOP, 1
            )
            break
        except cv2.error:
            continue
    else:  # no convergence: keep the coarse alignment, no distortion measure
        return params, None
    gx, gy = np.meshgrid(np.linspace(x0, x1, 9), np.linspace(y0, y1, 9))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    # ECC stops after _ECC_STOP's iterations whether or not it has converged, and on a picture
    # with little texture left unclipped it may not: it wanders, and where it stops depends on
    # the floating-point path (a clock face brightened by 25%, its white face clipped, measured a
    # gap of 0.93 pixels with OpenCV's AVX2 code and 0.36 without; 0.43 and 0.79 after 120
    # iterations). So a gap that says turned or tilted must say it again after each of
    # _SETTLE_ROUNDS more rounds of _ECC_SETTLE, and the smallest is kept: a tilt is a tilt at
    # every stop (a 4% tilt of the same clock stays above 2 pixels while its shift wanders by
    # 0.7), a wandering copy is not. A gap that says nothing ends it at once, and so does one of
    # _SETTLE_BELOW times the threshold or more (the wandering copies measured up to 1.2 times
    # it): the extra rounds cost 16 ms a pair when every pair ran them, and 13% of the city
    # bundle's verification when every turned or tilted shot did.
    best: tuple[float, np.ndarray, tuple[float, float]] | None = None
    for round_ in range(_SETTLE_ROUNDS + 1):
        if round_:
            try:  # (OpenCV writes its result into the warp it is given, too)
                _cc, fitted = cv2.findTransformECCWithMask(
                    template,
                    image,
                    mask_big,
                    mask_small,
                    fitted,
                    cv2.MOTION_HOMOGRAPHY,
                    _ECC_SETTLE,
                    1,
                )
            except cv2.error:
                break
        mapped = cv2.perspectiveTransform(grid[None], np.asarray(fitted, dtype=np.float64))[0]
        if not np.isfinite(mapped).all():  # a degenerate homography
            break
        scale, shift = _axis_fit(grid, mapped)
        if scale.min() <= 0:
            break
        gaps = np.sqrt(((mapped - (grid * scale + shift)) ** 2).mean(axis=0))
        gap = (round(float(gaps[0]), 3), round(float(gaps[1]), 3))
        refined = np.array([scale[0], shift[0], scale[1], shift[1]])
        if best is None or np.hypot(*gap) < best[0]:
            best = (float(np.hypot(*gap)), refined, gap)
        measured = _gap_in_pixels(big, small, refined, gap)
        if not DENSE_DISTORTION_PX <= measured < _SETTLE_BELOW * DENSE_DISTORTION_PX:
            break
    if best is None:
        return params, None
    return best[1], best[2]


def _squeezed(scale: float) -> float:
    """ECC's smoothing along an axis ``scale`` squeezes the other photo by: a thumbnail pixel,
    or the squeeze when it is UNEVEN or more."""
    return scale if scale >= UNEVEN else 1.0


def _distorted(
    big: PhotoPrint, small: PhotoPrint, params: np.ndarray, gap: tuple[float, float] | None
) -> bool:
    """Whether _refine's gap says turned or tilted. The gap is in small's thumbnail pixels, per
    axis; an upscaled thumbnail (a tiny photo, or a copy resized to a quarter) cannot be aligned
    finer than its own pixels, nor an axis one photo was squeezed along finer than the squeeze.
    Along each axis the gap is counted in the coarser photo's pixels (a tilt of a copy squeezed
    to 40% of its height moved it sideways, by 1.9 pixels, and measured against the height's
    2.5-pixel step it looked like nothing)."""
    return gap is not None and _gap_in_pixels(big, small, params, gap) >= DENSE_DISTORTION_PX


def _gap_in_pixels(
    big: PhotoPrint, small: PhotoPrint, params: np.ndarray, gap: tuple[float, float]
) -> float:
    """_refine's gap counted along each axis in the coarser photo's pixels (see _distorted)."""
    pixels = [max(_effective_pixel(small), _effective_pixel(big) * float(s)) for s in params[::2]]
    return float(np.hypot(gap[0] / pixels[0], gap[1] / pixels[1]))


def _gap_px(gap: tuple[float, float] | None) -> float | None:
    """_refine's gap as one number for the evidence: the root-mean-square, in pixels."""
    return None if gap is None else round(float(np.hypot(*gap)), 2)


def _holds_a_homography(mask: np.ndarray) -> bool:
    """Whether the pixels in ``mask`` are enough, and spread enough, to fit a homography to: a
    quarter of the picture, or a tenth of three of its quarters (a product photographed on
    white: 18% of it, all over the frame, as against a fundus photograph's corner, 16% of it in
    one quarter)."""
    h, w = mask.shape
    quarters = [
        mask[ys, xs].mean()
        for ys in (slice(0, h // 2), slice(h // 2, h))
        for xs in (slice(0, w // 2), slice(w // 2, w))
    ]
    return float(mask.mean()) >= 0.25 or sum(q >= 0.1 for q in quarters) >= 3


def _unclipped(thumb: np.ndarray) -> np.ndarray:
    """Mask of the pixels not near black or white: a copy given more brightness or contrast
    clips its highlights, which ECC's brightness/contrast invariance does not cover."""
    ok = ((thumb > _CLIP_LOW) & (thumb < _CLIP_HIGH)).astype(np.uint8)
    return cv2.erode(ok, np.ones((3, 3), np.uint8))


_ECC_STOP = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-5)
# After _ECC_STOP, ECC runs on for _SETTLE_ROUNDS rounds of _ECC_SETTLE (see _refine).
_ECC_SETTLE = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 1e-5)
_SETTLE_ROUNDS = 2
_SETTLE_BELOW = 2.0


def _judge(
    big: PhotoPrint, small: PhotoPrint, flip: bool, params: np.ndarray, evidence: dict
) -> bool:
    """Apply the spec's tests to an alignment big -> small; fills ``evidence``; True when same."""
    sx, tx, sy, ty = (float(v) for v in params)
    ha, wa = big.thumb.shape
    (bx0, by0, bx1, by1), (ix0, iy0, ix1, iy1) = _frames(big, small, params)
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


def _small(fp: PhotoPrint, mirrored: bool) -> tuple[np.ndarray, bool]:
    """The thumbnail (mirrored if asked) shrunk to GATE_SIDE pixels on its longest side, and
    whether it is flat (correlation says nothing about it); cached."""

    def compute() -> tuple[np.ndarray, bool]:
        thumb = _oriented(fp.thumb, mirrored)
        h, w = thumb.shape
        scale = GATE_SIDE / max(h, w)
        small = cv2.resize(
            thumb,
            (max(int(round(w * scale)), 8), max(int(round(h * scale)), 8)),
            interpolation=cv2.INTER_AREA,
        ).astype(np.float32)
        return small, bool(small.std() < 1.0)

    return _SMALL.get((fp.key, mirrored), compute)


@functools.lru_cache(maxsize=4096)
def _crop_size(h: int, w: int, fx: float, fy: float) -> tuple[int, int]:
    """The template size (width, height) for crop sides (fx, fy) of an h x w image."""
    return min(int(round(w * fx)), w), min(int(round(h * fy)), h)


@functools.lru_cache(maxsize=256)
def _gate_grid(h: int, w: int) -> tuple[tuple[float, float, tuple[int, int]], ...]:
    """The gate's first crop sides for an h x w image and their sizes, in the order tried."""
    return tuple(
        (fx, fy, _crop_size(h, w, fx, fy))
        for fx in GATE_FRACTIONS.tolist()
        for fy in GATE_FRACTIONS.tolist()
        if fx * fy >= 0.72
    )


def _crop_correlation(
    big: np.ndarray, small: np.ndarray, size: tuple[int, int], seen: dict[tuple[int, int], float]
) -> float:
    """Best correlation of ``small`` resized to ``size``, anywhere in ``big``. ``seen`` holds
    the scores of template sizes already tried with this pair of images: nearby fractions often
    round to the same pixel size, and the refinement steps overlap."""
    if size not in seen:
        tmpl = cv2.resize(small, size, interpolation=cv2.INTER_AREA)
        seen[size] = float(cv2.matchTemplate(big, tmpl, cv2.TM_CCOEFF_NORMED).max())
    return seen[size]


def _as_coarse_as(big: np.ndarray, small: np.ndarray) -> np.ndarray:
    """``big`` with no more detail along each axis than ``small`` has for it.

    Both are GATE_SIDE pixels on their longest side, so after an uneven resize (each side may be
    scaled on its own down to 25%) the narrow one holds fewer samples across than the other: its
    template, stretched back, is blurred along that axis and correlates poorly with a sharp
    original (a 2:1 squeeze of a gravel photograph measured 0.47 at the right crop). ``big`` is
    brought down to ``small``'s samples on such an axis and back up.
    """
    (h, w), (sh, sw) = big.shape, small.shape
    kx, ky = max(w / sw, 1.0), max(h / sh, 1.0)
    if max(kx, ky) < UNEVEN:
        return big
    coarse = cv2.resize(
        big, (max(int(round(w / kx)), 1), max(int(round(h / ky)), 1)), interpolation=cv2.INTER_AREA
    )
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_AREA)


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
    small_a, flat_a = _small(a, False)
    small_b, flat_b = _small(b, flip)
    if flat_a or flat_b:
        return 1.0  # a flat picture: correlation says nothing, let verification decide
    for big, small in ((small_a, small_b), (small_b, small_a)):
        big = _as_coarse_as(big, small)
        h, w = big.shape
        seen: dict[tuple[int, int], float] = {}
        grid = []
        for fx, fy, size in _gate_grid(h, w):
            score = _crop_correlation(big, small, size, seen)
            if score >= GATE_MIN:
                return score  # passes: verification decides, no need for the best
            grid.append((score, fx, fy))
        grid.sort(reverse=True)
        best = max(best, grid[0][0])
        for _score, fx, fy in grid[:2]:
            for dx in (-step, 0.0, step):
                for dy in (-step, 0.0, step):
                    if dx or dy:
                        size = _crop_size(h, w, min(fx + dx, 1.0), min(fy + dy, 1.0))
                        score = _crop_correlation(big, small, size, seen)
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
    if a.key == b.key:
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
        evidence: dict[str, Any] = {
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
        if same:
            # The F test misses a tilt when the keypoints are few or noisy (a 4.6% keystone of
            # a book measured F 16 over 61 inliers): ECC measures it over every pixel.
            gap = _refine(a, b, flip, fit[0])[1]
            evidence["distortion_px"] = _gap_px(gap)
            if _distorted(a, b, fit[0], gap):
                distorted = True
                if explain is not None:
                    explain.append(evidence)
                continue
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
            params, gap = _refine(big, small, flip, found[1])
            evidence = {
                "method": "dense",
                "score": round(found[0], 3),
                "distortion_px": _gap_px(gap),
            }
            if _distorted(big, small, params, gap):
                if explain is not None:  # turned or tilted: a different shot
                    explain.append(evidence)
                continue
            same = _judge(big, small, flip, params, evidence)
            if explain is not None:
                explain.append(evidence)
            if same:
                return evidence
    return None


def _oriented(thumb: np.ndarray, flip: bool) -> np.ndarray:
    return np.ascontiguousarray(thumb[:, ::-1]) if flip else thumb
