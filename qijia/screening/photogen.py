"""Synthetic photographs for the photo screening rule: sources, every spec transformation, decoys.

Why this exists: the near-duplicate detector has to be measured on many photographs that are the
same picture under the spec's transformations and on many that merely look alike. Real photographs
are best, so sources are built from the real photographs that scikit-image ships offline (astronaut,
coffee, chelsea, rocket, the Hubble field, ...). There are only a couple of dozen of those, so each
source is a *scene*: a 1/f-noise backdrop (sky, ground, walls have that spectrum) with regions of
real photographs pasted at random scales plus a few painted shapes. A photo is a window of its
scene; a "different shot of a similar scene" decoy is another window of the same scene (shifted,
re-framed, zoomed, turned by a degree or two, tilted) or the same window a moment later (objects
moved, light changed).

Everything is deterministic for a given seed: no global random state is used.
"""

from __future__ import annotations

import importlib.util
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

# Real photographs bundled with scikit-image (no network needed). Diagrams, binary masks and
# synthetic test patterns in the same folder are left out.
REAL_PHOTO_FILES = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "hubble_deep_field.jpg",
    "motorcycle_left.png",
    "camera.png",
    "coins.png",
    "moon.png",
    "grass.png",
    "gravel.png",
    "brick.png",
    "retina.jpg",
    "ihc.png",
    "clock_motion.png",
)

TRANSFORMS = (
    "reencode_jpeg",
    "to_png",
    "to_webp",
    "resize",
    "enlarge",
    "crop",
    "brightness",
    "contrast",
    "greyscale",
    "mirror",
    "strip_metadata",
)

DECOYS = ("shifted", "reframed", "other_moment", "turned", "tilted")


def _skimage_data_dir() -> Path | None:
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    return folder if folder.is_dir() else None


@lru_cache(maxsize=len(REAL_PHOTO_FILES))
def real_photograph(name: str) -> np.ndarray | None:
    """One of REAL_PHOTO_FILES as an RGB uint8 array (None when it is not installed)."""
    folder = _skimage_data_dir()
    if folder is None or not (folder / name).is_file():
        return None
    with Image.open(folder / name) as img:
        return np.asarray(img.convert("RGB"))


@lru_cache(maxsize=1)
def real_photographs() -> tuple[np.ndarray, ...]:
    """The bundled real photographs that are installed (empty when scikit-image is absent)."""
    return tuple(p for p in map(real_photograph, REAL_PHOTO_FILES) if p is not None)


def _pink_noise(rng: np.random.Generator, h: int, w: int, beta: float) -> np.ndarray:
    """Noise with a 1/f^beta power spectrum, scaled to 0..1 (the statistics of natural scenes)."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    radius = np.sqrt(fx * fx + fy * fy)
    radius[0, 0] = 1.0
    spectrum = rng.standard_normal((h, w // 2 + 1)) + 1j * rng.standard_normal((h, w // 2 + 1))
    field = np.fft.irfft2(spectrum / radius ** (beta / 2.0), s=(h, w))
    field -= field.min()
    peak = field.max()
    return field / peak if peak > 0 else field


@dataclass(frozen=True)
class _Sticker:
    """A region of a real photograph (or a painted shape) placed in a scene."""

    pixels: np.ndarray  # RGBA uint8
    x: int
    y: int


class Scene:
    """A large canvas from which photographs (windows) and decoys are taken."""

    def __init__(self, seed: int, width: int = 1600, height: int = 1200):
        self.seed = seed
        self.width = width
        self.height = height
        rng = np.random.default_rng([seed, 17])
        self._backdrop = self._make_backdrop(rng)
        self._stickers = self._make_stickers(rng)
        self._moved: dict[int, Image.Image] = {}

    def _make_backdrop(self, rng: np.random.Generator) -> np.ndarray:
        h, w = self.height, self.width
        small_h, small_w = max(h // 4, 8), max(w // 4, 8)
        base_colours = rng.uniform(20, 235, size=(2, 3))
        mix = _pink_noise(rng, small_h, small_w, beta=rng.uniform(2.2, 3.2))[..., None]
        detail = _pink_noise(rng, small_h, small_w, beta=1.6)[..., None]
        horizon = np.linspace(0, 1, small_h)[:, None, None] * rng.uniform(-0.6, 0.6)
        colour = base_colours[0] * (1 - mix) + base_colours[1] * mix
        colour = colour * (0.75 + 0.5 * detail) + horizon * 60
        small = Image.fromarray(np.clip(colour, 0, 255).astype(np.uint8))
        big = np.asarray(small.resize((w, h), Image.Resampling.BICUBIC)).astype(np.float32)
        # Fine grain (film/sensor texture and small detail) at a quarter of the FFT cost.
        fine = _pink_noise(rng, h // 2, w // 2, beta=1.0).astype(np.float32) - 0.5
        grain = cv2.resize(fine, (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
        big += grain * np.float32(rng.uniform(10, 40))
        return np.clip(big, 0, 255, out=big).astype(np.uint8)

    def _make_stickers(self, rng: np.random.Generator) -> list[_Sticker]:
        stickers: list[_Sticker] = []
        photos = real_photographs()
        for _ in range(int(rng.integers(4, 9))):
            size_w = int(rng.uniform(0.15, 0.45) * self.width)
            size_h = int(size_w * rng.uniform(0.6, 1.4))
            if photos and rng.random() < 0.8:
                src = photos[int(rng.integers(len(photos)))]
                sh, sw = src.shape[:2]
                frac = rng.uniform(0.3, 0.9)
                cw, ch = max(int(sw * frac), 16), max(int(sh * frac * rng.uniform(0.7, 1.3)), 16)
                ch = min(ch, sh)
                x0 = int(rng.integers(0, sw - cw + 1))
                y0 = int(rng.integers(0, sh - ch + 1))
                patch = Image.fromarray(src[y0 : y0 + ch, x0 : x0 + cw]).resize(
                    (size_w, size_h), Image.Resampling.BICUBIC
                )
                if rng.random() < 0.5:
                    patch = ImageOps.mirror(patch)
                tint = rng.uniform(0.8, 1.2, size=3)
                rgb = np.clip(np.asarray(patch).astype(np.float32) * tint, 0, 255).astype(np.uint8)
            else:
                rgb = self._painted(rng, size_w, size_h)
            alpha = Image.new("L", (size_w, size_h), 0)
            draw = ImageDraw.Draw(alpha)
            if rng.random() < 0.5:
                draw.ellipse((0, 0, size_w - 1, size_h - 1), fill=255)
            else:
                inset = int(min(size_w, size_h) * 0.04)
                draw.rectangle((inset, inset, size_w - 1 - inset, size_h - 1 - inset), fill=255)
            alpha = alpha.filter(ImageFilter.GaussianBlur(radius=2))
            rgba = np.dstack([rgb, np.asarray(alpha)])
            x = int(rng.integers(-size_w // 4, self.width - 3 * size_w // 4))
            y = int(rng.integers(-size_h // 4, self.height - 3 * size_h // 4))
            stickers.append(_Sticker(rgba, x, y))
        return stickers

    @staticmethod
    def _painted(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
        """A textured shape: an object that is not in any real photograph."""
        img = Image.new("RGB", (w, h), tuple(int(c) for c in rng.integers(0, 256, 3)))
        draw = ImageDraw.Draw(img)
        for _ in range(int(rng.integers(6, 16))):
            box = sorted(rng.integers(0, w, 2).tolist())
            boy = sorted(rng.integers(0, h, 2).tolist())
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            shape = rng.integers(3)
            if shape == 0:
                draw.rectangle((box[0], boy[0], box[1], boy[1]), fill=colour)
            elif shape == 1:
                draw.ellipse((box[0], boy[0], box[1], boy[1]), fill=colour)
            else:
                width = int(rng.integers(2, 8))
                draw.line((box[0], boy[0], box[1], boy[1]), fill=colour, width=width)
        texture = (_pink_noise(rng, h, w, beta=1.2)[..., None] - 0.5) * 50
        return np.clip(np.asarray(img).astype(np.float32) + texture, 0, 255).astype(np.uint8)

    def render(self, moment: int = 0) -> Image.Image:
        """The whole scene; ``moment`` > 0 moves some objects and changes the light a little."""
        if moment in self._moved:
            return self._moved[moment]
        canvas = Image.fromarray(self._backdrop.copy())
        rng = np.random.default_rng([self.seed, 31, moment])
        stickers = list(self._stickers)
        if moment:
            # Another moment: objects in view moved noticeably, and maybe a new one walked in.
            x0, y0, x1, y1 = _SOURCE_BOX
            in_view = [
                k
                for k, s in enumerate(stickers)
                if s.x < x1 * self.width
                and s.x + s.pixels.shape[1] > x0 * self.width
                and s.y < y1 * self.height
                and s.y + s.pixels.shape[0] > y0 * self.height
            ]
            order: np.ndarray | list[int] = rng.permutation(in_view) if in_view else []
            for index in order[: max(1, (len(order) + 1) // 2)]:
                s = stickers[index]
                h, w = s.pixels.shape[:2]
                dx = int(rng.choice([-1, 1]) * rng.uniform(0.2, 0.4) * w)
                dy = int(rng.choice([-1, 1]) * rng.uniform(0.05, 0.25) * h)
                stickers[index] = _Sticker(s.pixels, s.x + dx, s.y + dy)
            if not in_view or rng.random() < 0.5:
                extra = self._make_stickers(rng)[0]
                cx = int(rng.uniform(x0, x1 - 0.15) * self.width)
                cy = int(rng.uniform(y0, y1 - 0.15) * self.height)
                stickers.append(_Sticker(extra.pixels, cx, cy))
        for s in stickers:
            patch = Image.fromarray(s.pixels, "RGBA")
            canvas.paste(patch.convert("RGB"), (s.x, s.y), patch.getchannel("A"))
        if moment:
            factor = rng.uniform(0.85, 1.15)
            canvas = ImageEnhance.Brightness(canvas).enhance(factor)
            noise = rng.normal(0, 3, size=(self.height, self.width, 1))
            arr = np.asarray(canvas).astype(np.float32) + noise
            canvas = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        self._moved[moment] = canvas
        return canvas

    def window(
        self, box: tuple[float, float, float, float], size: tuple[int, int], moment: int = 0
    ) -> Image.Image:
        """The part of the scene inside ``box`` (fractions of the scene), resampled to ``size``."""
        x0, y0, x1, y1 = box
        pixels = (
            int(round(x0 * self.width)),
            int(round(y0 * self.height)),
            int(round(x1 * self.width)),
            int(round(y1 * self.height)),
        )
        return self.render(moment).crop(pixels).resize(size, Image.Resampling.LANCZOS)


# The window of the scene that a source photograph shows: centred with room for decoys around.
_SOURCE_BOX = (0.2, 0.2, 0.8, 0.8)


@lru_cache(maxsize=4)
def _scene(seed: int, size: tuple[int, int]) -> Scene:
    # The scene is just large enough for the source window at ``size`` (no wasted pixels).
    span_x = _SOURCE_BOX[2] - _SOURCE_BOX[0]
    span_y = _SOURCE_BOX[3] - _SOURCE_BOX[1]
    return Scene(seed, width=int(round(size[0] / span_x)), height=int(round(size[1] / span_y)))


def source_photo(seed: int, size: tuple[int, int] = (960, 720)) -> Image.Image:
    """A distinct photograph for ``seed`` (RGB). Distinct seeds give unrelated pictures."""
    return _scene(seed, size).window(_SOURCE_BOX, size)


def decoy_photo(
    seed: int, kind: str, variant: int = 0, size: tuple[int, int] = (960, 720)
) -> Image.Image:
    """A different shot of the scene of ``source_photo(seed)``: not the same photograph.

    ``shifted``: the camera moved so that at least 30% of the frame is new content;
    ``reframed``: zoomed out or in so that the shared part is under 65% of either frame;
    ``other_moment``: same framing, objects moved and the light changed;
    ``turned``: the same framing from a hand turned by 1 to 3 degrees;
    ``tilted``: the same framing from a camera tilted, so that one edge of the frame is 3 to 5%
    of a side longer than the opposite one (a keystone).
    """
    rng = np.random.default_rng([seed, 53, variant, DECOYS.index(kind)])
    x0, y0, x1, y1 = _SOURCE_BOX
    w, h = x1 - x0, y1 - y0
    scene = _scene(seed, size)
    if kind == "shifted":
        dx = rng.choice([-1, 1]) * rng.uniform(0.3, 0.33) * w
        dy = rng.choice([-1, 1]) * rng.uniform(0.0, 0.33) * h
        if rng.random() < 0.5:
            dx, dy = dy * w / h, dx * h / w
        box = (x0 + dx, y0 + dy, x1 + dx, y1 + dy)
        return scene.window(box, size)
    if kind == "reframed":
        zoom = rng.choice([rng.uniform(0.55, 0.78), rng.uniform(1.3, 1.6)])
        cx, cy = (x0 + x1) / 2 + rng.uniform(-0.08, 0.08), (y0 + y1) / 2 + rng.uniform(-0.08, 0.08)
        half_w, half_h = w * zoom / 2, h * zoom / 2
        box = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
        box = (max(box[0], 0.0), max(box[1], 0.0), min(box[2], 1.0), min(box[3], 1.0))
        return scene.window(box, size)
    if kind == "other_moment":
        return scene.window(_SOURCE_BOX, size, moment=1 + variant)
    if kind in ("turned", "tilted"):
        # The frame's corners in the scene (pixels), turned about its centre or pulled apart at
        # one edge; the scene's margin around _SOURCE_BOX keeps them inside it.
        corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]) * [scene.width, scene.height]
        centre = corners.mean(axis=0)
        if kind == "turned":
            angle = np.radians(rng.choice([-1, 1]) * rng.uniform(1.0, 3.0))
            turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            quad = (corners - centre) @ turn.T + centre
        else:
            edge = int(rng.integers(4))  # top, right, bottom, left
            ends = [(edge + k) % 4 for k in (0, 1)]  # the two corners of that edge
            spread = rng.uniform(0.03, 0.05) / 2
            quad = corners.copy()
            for end, other in ((ends[0], ends[1]), (ends[1], ends[0])):
                quad[end] += (corners[end] - corners[other]) * spread
        target = np.array([[0, 0], [size[0], 0], [size[0], size[1]], [0, size[1]]], np.float32)
        warp = cv2.getPerspectiveTransform(target, quad.astype(np.float32))
        pixels = np.asarray(scene.render())
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP  # warp maps the output onto the scene
        return Image.fromarray(cv2.warpPerspective(pixels, warp, size, flags=flags))
    raise ValueError(f"unknown decoy kind {kind!r}")


def encode(img: Image.Image, fmt: str = "JPEG", quality: int = 90, exif: bool = False) -> bytes:
    """Encode as a camera or a portal would; ``exif`` adds camera metadata."""
    out = io.BytesIO()
    params: dict = {}
    if fmt == "JPEG":
        params["quality"] = quality
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
    elif fmt == "WEBP":
        params["quality"] = quality
    if exif:
        meta = Image.Exif()
        meta[0x010F] = "QijiaCam"  # Make
        meta[0x0110] = "Model 7"  # Model
        meta[0x0132] = "2025:06:01 10:00:00"  # DateTime
        params["exif"] = meta.tobytes()
    img.save(out, format=fmt, **params)
    return out.getvalue()


def decode(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return img.copy()


def apply_transform(
    img: Image.Image, kind: str, rng: np.random.Generator
) -> tuple[Image.Image, dict]:
    """One transformation from the spec's list with random parameters inside the spec's limits.

    Returns the new image and the parameters (format/quality hints under ``format``/``quality``).
    """
    w, h = img.size
    if kind == "reencode_jpeg":
        quality = int(rng.integers(50, 96))
        return decode(encode(img, "JPEG", quality)), {"format": "JPEG", "quality": quality}
    if kind == "to_png":
        return img, {"format": "PNG"}
    if kind == "to_webp":
        quality = int(rng.integers(60, 96))
        return decode(encode(img, "WEBP", quality)), {"format": "WEBP", "quality": quality}
    if kind == "resize":
        fx = rng.uniform(0.25, 1.0)
        fy = fx * rng.uniform(0.9, 1.1) if rng.random() < 0.7 else rng.uniform(0.25, 1.0)
        fy = min(max(fy, 0.25), 1.0)
        size = (max(int(round(w * fx)), 1), max(int(round(h * fy)), 1))
        return img.resize(size, Image.Resampling.LANCZOS), {"scale": (fx, fy)}
    if kind == "enlarge":
        # The spec bounds a resize from below only (each side >= 25%): upscaling is one too,
        # and so is an upscale of one side with the other shrunk.
        fx = rng.uniform(1.1, 2.0)
        fy = fx * rng.uniform(0.9, 1.1) if rng.random() < 0.7 else rng.uniform(0.5, 2.0)
        size = (int(round(w * fx)), int(round(h * fy)))
        return img.resize(size, Image.Resampling.BICUBIC), {"scale": (fx, fy)}
    if kind == "crop":
        area = rng.uniform(0.8, 0.99)
        fx = rng.uniform(area, 1.0)
        fy = area / fx
        cw, ch = int(np.ceil(w * fx)), int(np.ceil(h * fy))
        cw, ch = min(cw, w), min(ch, h)
        x0 = int(rng.integers(0, w - cw + 1))
        y0 = int(rng.integers(0, h - ch + 1))
        return img.crop((x0, y0, x0 + cw, y0 + ch)), {"box": (x0, y0, cw, ch)}
    if kind == "brightness":
        factor = float(rng.choice([-1, 1]) * rng.uniform(0.1, 0.25) + 1.0)
        return ImageEnhance.Brightness(img).enhance(factor), {"factor": factor}
    if kind == "contrast":
        factor = float(rng.choice([-1, 1]) * rng.uniform(0.1, 0.25) + 1.0)
        return ImageEnhance.Contrast(img).enhance(factor), {"factor": factor}
    if kind == "greyscale":
        return img.convert("L"), {}
    if kind == "mirror":
        return ImageOps.mirror(img), {}
    if kind == "strip_metadata":
        return img, {"strip": True}
    raise ValueError(f"unknown transformation {kind!r}")


def transformed_copy(
    img: Image.Image, kinds: list[str] | tuple[str, ...], rng: np.random.Generator
) -> tuple[bytes, str, list[dict]]:
    """Apply ``kinds`` in order and encode the result; returns (bytes, extension, parameters).

    The copy is saved without metadata unless nothing asked otherwise; its format is JPEG unless
    a format change was among the transformations.
    """
    fmt, quality = "JPEG", int(rng.integers(75, 96))
    params = []
    for kind in kinds:
        img, p = apply_transform(img, kind, rng)
        fmt = p.get("format", fmt)
        quality = p.get("quality", quality)
        params.append({"kind": kind, **{k: v for k, v in p.items() if k not in ("format",)}})
    keep_meta = "strip_metadata" not in kinds and fmt == "JPEG"
    data = encode(img, fmt, quality, exif=keep_meta)
    return data, {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[fmt], params


def random_transform_chain(rng: np.random.Generator, max_len: int = 3) -> list[str]:
    """One to ``max_len`` distinct transformations (a combination of a few, as the spec allows)."""
    count = int(rng.integers(1, max_len + 1))
    chosen = list(rng.choice(len(TRANSFORMS), size=count, replace=False))
    kinds = [TRANSFORMS[i] for i in chosen]
    # A format change and a re-encode are mutually exclusive: the last encoding wins anyway.
    formats = [k for k in kinds if k in ("reencode_jpeg", "to_png", "to_webp")]
    for extra in formats[1:]:
        kinds.remove(extra)
    return kinds


@dataclass(frozen=True)
class PhotoPair:
    """Two encoded photographs and whether they are the same photograph under the spec."""

    a: bytes
    b: bytes
    same: bool
    label: str  # transformation chain or decoy kind


def labelled_pairs(
    seed: int, count: int, size: tuple[int, int] = (960, 720), decoy_share: float = 0.4
) -> list[PhotoPair]:
    """``count`` pairs for accuracy measurement: transformed copies and similar-scene decoys.

    Every source gets one positive pair (a random chain, cycling through each single
    transformation first so all are covered) or a decoy pair; unrelated pairs are left to the
    caller since any two different seeds give one.
    """
    rng = np.random.default_rng([seed, 7])
    pairs: list[PhotoPair] = []
    for i in range(count):
        src_seed = seed * 100_003 + i
        source = source_photo(src_seed, size)
        original = encode(source, "JPEG", 92, exif=True)
        if rng.random() < decoy_share:
            kind = DECOYS[i % len(DECOYS)]
            decoy = decoy_photo(src_seed, kind, size=size)
            data = encode(decoy, "JPEG", int(rng.integers(70, 96)), exif=True)
            pairs.append(PhotoPair(original, data, False, f"decoy:{kind}"))
            continue
        chain = [TRANSFORMS[i]] if i < len(TRANSFORMS) else random_transform_chain(rng)
        data, _ext, _params = transformed_copy(decode(original), chain, rng)
        pairs.append(PhotoPair(original, data, True, "+".join(chain)))
    return pairs


def twelve_megapixel_jpeg(seed: int, grain: float = 4, quality: int = 90) -> bytes:
    """A 4000x3000 JPEG, as a phone camera takes them (for decode benchmarks).

    The defaults give 2.8 MB (1.85 bits a pixel), a phone's file; less grain or a lower quality
    gives a smaller file, which is cheaper to entropy-decode."""
    scene = Scene(seed, width=2400, height=1800)
    img = scene.window((0.05, 0.05, 0.95, 0.95), (4000, 3000))
    rng = np.random.default_rng([seed, 99])
    noise = rng.normal(0, grain, size=(3000, 4000, 1)).astype(np.float32)
    arr = np.clip(np.asarray(img).astype(np.float32) + noise, 0, 255).astype(np.uint8)
    return encode(Image.fromarray(arr), "JPEG", quality, exif=True)


def real_photo_pairs(seed: int, per_photo: int = 6) -> list[PhotoPair]:
    """Pairs made directly from the bundled real photographs (no synthetic scene).

    Positives: the photograph and a copy under a random chain of transformations, including the
    harshest corner of the spec (JPEG quality 50 after a 25% resize, 80%-area crops, +-25%).
    Negatives: two overlapping but different framings of the same real photograph (the camera
    moved), and the stereo pair of the motorcycle (two viewpoints of one scene at one moment).
    """
    rng = np.random.default_rng([seed, 211])
    pairs: list[PhotoPair] = []
    folder = _skimage_data_dir()
    photos = real_photographs()
    for index, photo in enumerate(photos):
        img = Image.fromarray(photo)
        w, h = img.size
        if min(w, h) < 200:
            continue
        original = encode(img, "JPEG", 92, exif=True)
        for k in range(per_photo):
            if k == 0:
                chain = ["resize", "reencode_jpeg", "contrast"]
            elif k == 1:
                chain = ["crop", "mirror", "brightness"]
            else:
                chain = random_transform_chain(rng)
            data, _ext, _params = transformed_copy(decode(original), chain, rng)
            pairs.append(PhotoPair(original, data, True, "real:" + "+".join(chain)))
        # Different framings: 72% of each side, shifted by 28% of a side (half the frame new).
        fx = 0.72
        cw, ch = int(w * fx), int(h * fx)
        first = img.crop((0, 0, cw, ch)) if index % 2 else img.crop((w - cw, 0, w, ch))
        second = img.crop((w - cw, h - ch, w, h)) if index % 2 else img.crop((0, h - ch, cw, h))
        pairs.append(
            PhotoPair(
                encode(first, "JPEG", 90), encode(second, "JPEG", 90), False, "real:decoy:shifted"
            )
        )
    if folder is not None and (folder / "motorcycle_right.png").is_file():
        with (
            Image.open(folder / "motorcycle_left.png") as left,
            Image.open(folder / "motorcycle_right.png") as right,
        ):
            pairs.append(
                PhotoPair(
                    encode(left.convert("RGB"), "JPEG", 90),
                    encode(right.convert("RGB"), "JPEG", 90),
                    False,
                    "real:decoy:stereo",
                )
            )
    return pairs
