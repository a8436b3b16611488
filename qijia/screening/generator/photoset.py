"""Evidence photos: which application shows which picture, and rendering the files.

Planning is cheap and sequential (it decides paths, seeds and the truth); rendering is the cost,
so it runs as independent jobs over worker processes, each job deterministic from its seeds.
Pictures come from :mod:`qijia.screening.photogen`: background photos are distinct scenes, planted
pairs are a photo and a copy made by one of the spec's transformations (or a short chain of
them), decoys are a different shot of the same scene, and a "twin" is one file uploaded twice to
the same application (not a finding: the rule is about another application).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qijia.screening import photogen
from qijia.screening.findings import finding_subject

from .vocab import PHOTO_CAPTIONS
from .world import Application, World

# Formats a transformation chain ends in, as photogen.transformed_copy encodes it.
_EXT = {"to_png": "png", "to_webp": "webp", "reencode_jpeg": "jpg"}
# The window of a scene that a photo shows (photogen's source framing).
_BOX = (0.2, 0.2, 0.8, 0.8)


@dataclass(frozen=True)
class PhotoJob:
    kind: str  # "single", "pair", "decoy", "twin"
    seed: int
    size: tuple[int, int]
    paths: tuple[str, ...]
    chain: tuple[str, ...] = ()
    decoy: str = ""
    scene_scale: float = 1.0  # scene pixels per output pixel (lower renders faster)


def chain_ext(chain: Iterable[str]) -> str:
    ext = "jpg"
    for kind in chain:
        ext = _EXT.get(kind, ext)
    return ext


class PhotoPlanner:
    def __init__(self, w: World, seed: int, size: tuple[int, int], scene_scale: float):
        self.w = w
        self.rng = random.Random(f"qijia-gen:{seed}:photos")
        self.size = size
        self.scene_scale = scene_scale
        self.jobs: list[PhotoJob] = []
        self.rows: list[tuple[str, str, str]] = []  # application_id, file, caption
        self._next: dict[str, int] = {}
        self._seed_base = (seed % 9973) * 10_000_000 + 1
        self._seeds = 0
        self.files = 0
        self.case_counts: dict[str, int] = {}

    def _seed(self) -> int:
        self._seeds += 1
        return self._seed_base + self._seeds

    def _path(self, app: Application, ext: str) -> str:
        n = self._next.get(app.app_id, 0) + 1
        self._next[app.app_id] = n
        path = f"photos/{app.app_id}/{n:02d}.{ext}"
        self.rows.append((app.app_id, path, self.rng.choice(PHOTO_CAPTIONS)))
        self.files += 1
        return path

    def _count(self, case: str) -> None:
        self.case_counts[case] = self.case_counts.get(case, 0) + 1

    def single(self, app: Application) -> None:
        path = self._path(app, "jpg")
        self.jobs.append(
            PhotoJob("single", self._seed(), self.size, (path,), scene_scale=self.scene_scale)
        )

    def pair(self, a: Application, b: Application, chain: tuple[str, ...], case: str) -> None:
        pa = self._path(a, "jpg")
        pb = self._path(b, chain_ext(chain))
        self.jobs.append(
            PhotoJob(
                "pair", self._seed(), self.size, (pa, pb), chain=chain, scene_scale=self.scene_scale
            )
        )
        for app, path, other, other_path in ((a, pa, b, pb), (b, pb, a, pa)):
            self.w.expect(
                app,
                "duplicate_photo",
                finding_subject(
                    "duplicate_photo",
                    {
                        "file": path,
                        "other_application_id": other.app_id,
                        "other_file": other_path,
                    },
                ),
                case,
            )
        self._count(case)

    def decoy(self, a: Application, b: Application, kind: str) -> None:
        pa, pb = self._path(a, "jpg"), self._path(b, "jpg")
        self.jobs.append(PhotoJob("decoy", self._seed(), self.size, (pa, pb), decoy=kind))
        case = f"decoy_photo_{kind}"
        for app, path, other, other_path in ((a, pa, b, pb), (b, pb, a, pa)):
            self.w.expect_not(
                app,
                "duplicate_photo",
                finding_subject(
                    "duplicate_photo",
                    {
                        "file": path,
                        "other_application_id": other.app_id,
                        "other_file": other_path,
                    },
                ),
                case,
            )
        self._count(case)

    def twin(self, a: Application) -> None:
        pa, pb = self._path(a, "jpg"), self._path(a, "jpg")
        self.jobs.append(
            PhotoJob("twin", self._seed(), self.size, (pa, pb), scene_scale=self.scene_scale)
        )
        self.w.expect_not(
            a,
            "duplicate_photo",
            finding_subject(
                "duplicate_photo",
                {
                    "file": pa,
                    "other_application_id": a.app_id,
                    "other_file": pb,
                },
            ),
            "decoy_photo_twice_in_one_application",
        )
        self._count("decoy_photo_twice_in_one_application")

    def plant(self, apps: list[Application], multi: list[list[Application]], mult: int) -> None:
        """Every transformation across and within enterprises; chains; decoys; twins."""
        rng = self.rng
        used: set[str] = set()

        def fresh(exclude_firm: object = None) -> Application:
            while True:
                app = rng.choice(apps)
                if app.app_id not in used and app.firm is not exclude_firm:
                    used.add(app.app_id)
                    return app

        groups = [g for g in multi if len(g) >= 2]
        rng.shuffle(groups)
        group_iter = iter(groups)

        def same_firm_pair() -> tuple[Application, Application] | None:
            for group in group_iter:
                free = [g for g in group if g.app_id not in used]
                if len(free) >= 2:
                    x, y = rng.sample(free, 2)
                    used.update((x.app_id, y.app_id))
                    return x, y
            return None

        for _ in range(mult):
            for kind in photogen.TRANSFORMS:
                pair = same_firm_pair()
                if pair is not None:
                    self.pair(pair[0], pair[1], (kind,), f"photo_{kind}_same_enterprise")
                a = fresh()
                b = fresh(exclude_firm=a.firm)
                self.pair(a, b, (kind,), f"photo_{kind}_across_enterprises")
        np_rng = np.random.default_rng([self._seed_base, 11])
        for _ in range(max(1, mult // 2)):
            for _ in range(3):
                chain = tuple(photogen.random_transform_chain(np_rng, max_len=3))
                if len(chain) < 2:
                    chain = (*chain, "mirror" if "mirror" not in chain else "greyscale")
                a = fresh()
                b = fresh(exclude_firm=a.firm)
                self.pair(a, b, chain, "photo_chain_of_transformations")
            for kind in photogen.DECOYS:
                a = fresh()
                b = fresh(exclude_firm=a.firm)
                self.decoy(a, b, kind)
            self.twin(fresh())

    def fill(self, apps: list[Application], target_files: int) -> None:
        """Distinct background photos on ordinary applications up to ``target_files`` files."""
        rng = self.rng
        order = list(apps)
        rng.shuffle(order)
        k = 0
        while self.files < target_files and order:
            app = order[k % len(order)]
            k += 1
            for _ in range(rng.choices((1, 2, 3), (0.5, 0.3, 0.2))[0]):
                if self.files >= target_files:
                    break
                self.single(app)


# --- rendering ---------------------------------------------------------------------------------


def _scene_photo(seed: int, size: tuple[int, int], scale: float):
    if scale >= 1.0:
        return photogen.source_photo(seed, size)
    span = _BOX[2] - _BOX[0]
    width = max(64, int(round(size[0] * scale / span)))
    height = max(48, int(round(size[1] * scale / span)))
    return photogen.Scene(seed, width=width, height=height).window(_BOX, size)


# A decoy must visibly be another shot: at least this share of the frame differs after brightness
# and contrast are normalised. photogen's "other_moment" can move objects that are outside the
# window, leaving the same picture with slightly different light (the same photograph under the
# spec), so such variants are skipped.
MIN_CHANGED_SHARE = 0.10


def changed_share(a, b) -> float:
    """Share of the frame where two pictures differ, after normalising brightness/contrast."""
    x = np.asarray(a.convert("L").resize((200, 150)), np.float32)
    y = np.asarray(b.convert("L").resize((200, 150)), np.float32)
    x = (x - x.mean()) / (x.std() + 1e-6)
    y = (y - y.mean()) / (y.std() + 1e-6)
    return float((np.abs(x - y) > 0.5).mean())


def different_shot(seed: int, kind: str, size: tuple[int, int], original):
    """photogen's decoy of ``kind``, the first variant that really differs from ``original``."""
    for variant in range(20):
        other = photogen.decoy_photo(seed, kind, variant=variant, size=size)
        if changed_share(original, other) >= MIN_CHANGED_SHARE:
            return other
    return photogen.decoy_photo(seed, "shifted", size=size)  # always >= 30% new content


def render_job(job: PhotoJob, root: str) -> int:
    """Write the files of one job under ``root``; returns how many were written."""
    base = Path(root)
    rng = np.random.default_rng([job.seed, 5])
    if job.kind == "decoy":
        source = photogen.source_photo(job.seed, job.size)
        other = different_shot(job.seed, job.decoy, job.size, source)
        blobs = [
            photogen.encode(source, "JPEG", int(rng.integers(80, 96)), exif=True),
            photogen.encode(other, "JPEG", int(rng.integers(80, 96)), exif=True),
        ]
    else:
        img = _scene_photo(job.seed, job.size, job.scene_scale)
        original = photogen.encode(img, "JPEG", int(rng.integers(80, 96)), exif=True)
        if job.kind == "single":
            blobs = [original]
        elif job.kind == "twin":
            blobs = [original, original]
        else:
            copy, ext, _params = photogen.transformed_copy(
                photogen.decode(original), list(job.chain), rng
            )
            if not job.paths[1].endswith("." + ext):
                raise RuntimeError(f"photo format mismatch for {job.paths[1]}: {ext}")
            blobs = [original, copy]
    for rel, blob in zip(job.paths, blobs, strict=True):
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
    return len(blobs)


def _render_many(args: tuple[list[PhotoJob], str]) -> int:
    jobs, root = args
    return sum(render_job(job, root) for job in jobs)


def render_all(
    jobs: list[PhotoJob],
    root: Path,
    workers: int | None = None,
    tick: Callable[[int], None] | None = None,
) -> int:
    """Render every job; in worker processes when there are many (output is the same)."""
    workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    chunks = [jobs[i : i + 16] for i in range(0, len(jobs), 16)]
    written = 0
    if workers <= 1 or len(jobs) < 64:
        for chunk in chunks:
            n = _render_many((chunk, str(root)))
            written += n
            if tick:
                tick(n)
        return written
    import multiprocessing as mp

    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    with ctx.Pool(workers) as pool:
        for n in pool.imap_unordered(_render_many, [(c, str(root)) for c in chunks]):
            written += n
            if tick:
                tick(n)
    return written
