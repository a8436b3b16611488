"""screen(bundle, as_of) -> findings: runs every detector and keeps one finding per
(application, kind, subject), sorted deterministically.

Photos are fingerprinted before screening (:func:`fingerprint_photos`) because an unreadable or
non-image photo makes the bundle invalid, and the validity of the bundle has to be known before
anything is written. Fingerprints are cached by content (BLAKE3) on disk, so a file is decoded once
ever; files not yet in the cache are hashed on all cores.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

from qijia.screening.bundle import BundleError, BundleProblem, read_bundle
from qijia.screening.detectors import invoices, registry, relations
from qijia.screening.detectors import photos as photo_detector
from qijia.screening.findings import finding_subject
from qijia.screening.model import KINDS, Bundle, Finding, Progress

CACHE_BATCH = 500  # fingerprints written to the cache per transaction

_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)


def sniff_image_format(head: bytes) -> str | None:
    """JPEG, PNG or WEBP by magic bytes; None for anything else."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def default_cache_dir() -> Path:
    env = os.environ.get("QIJIA_PHOTO_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qijia" / "photo-prints.sqlite3"


_WORKER_BUNDLES: dict[tuple[str, str], Bundle] = {}


def _fingerprint_job(job: tuple[str, str, str]) -> tuple[str, Any, str | None]:
    """Runs in a worker: read the file itself (no photo bytes cross the process boundary).
    Returns (the file, its fingerprint or None, the error or None)."""
    from qijia.screening import photos

    root, prefix, rel = job
    bundle = _WORKER_BUNDLES.get((root, prefix))
    if bundle is None:
        bundle = _WORKER_BUNDLES[(root, prefix)] = Bundle(
            root=Path(root), manifest={}, prefix=prefix
        )
    try:
        return rel, photos.fingerprint_bytes(bundle.read_bytes(rel)), None
    except photos.PhotoError as exc:
        return rel, None, exc.message
    except (OSError, KeyError) as exc:
        return rel, None, str(exc)


class FileDigests(Mapping[str, str]):
    """The SHA-256 of a bundle's photo files, computed when first asked for.

    Findings name their photos by it (what a reviewer checks with sha256sum); screening keys
    photos by their BLAKE3 (``photos.content_key``, a fifth of SHA-256's time), so only the files
    in findings pay for it. A file whose bytes are no longer the ones fingerprinted (changed
    during screening) raises BundleError rather than give a digest of other content."""

    def __init__(self, bundle: Bundle, keys: Mapping[str, str], lines: Mapping[str, int]):
        self._bundle = bundle
        self._keys = keys
        self._lines = lines
        self._known: dict[str, str] = {}

    def __getitem__(self, file: str) -> str:
        known = self._known.get(file)
        if known is None:
            from qijia.screening.photos import content_key

            try:
                data = self._bundle.read_bytes(file)
            except (OSError, KeyError):
                data = None  # removed while being screened
            if data is None or content_key(data) != self._keys[file]:
                raise BundleError([_changed(file, self._lines[file])])
            known = self._known[file] = hashlib.sha256(data).hexdigest()
        return known

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def _photo_problem(line: int, message: str) -> BundleProblem:
    """A photo file's problem, reported on the photos.csv line that names the file."""
    return BundleProblem("photos.csv", line, "file", message)


def _changed(file: str, line: int) -> BundleProblem:
    return _photo_problem(line, f"照片文件“{file}”在筛查期间被改动，请重新筛查")


def fingerprint_photos(
    bundle: Bundle,
    *,
    cache_dir: Path | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> tuple[dict[str, Any], FileDigests, list[BundleProblem]]:
    """Fingerprint every distinct photo file of the bundle (``cache_dir``: a folder or the
    cache's SQLite file; default ``$QIJIA_PHOTO_CACHE`` or ~/.cache/qijia).

    Returns (prints by file, content SHA-256 by file, problems). A problem is a file that is not a
    JPEG/PNG/WebP or that cannot be decoded; it names the photos.csv line that refers to it.
    """
    from qijia.screening import photos

    cache_path = Path(cache_dir) if cache_dir else default_cache_dir()
    if cache_path.is_dir():
        cache_path = cache_path / "photo-prints.sqlite3"
    cache = photos.FingerprintCache(cache_path)
    lines: dict[str, int] = {}
    for row in bundle.photos:
        lines.setdefault(row.file, row.line)
    prints: dict[str, Any] = {}
    keys: dict[str, str] = {}
    problems: list[BundleProblem] = []
    same_bytes: dict[str, list[str]] = {}
    files = list(lines)
    todo: list[str] = []  # the files to decode, in the order of their jobs

    def jobs() -> Iterator[tuple[str, str, str]]:
        """Read every file here once (size, format, content key, cache) and yield the ones to
        decode: the pool takes them as they come, so its workers start while the rest are read."""
        for file in progress(files, desc="读取照片", unit="张") if progress else files:
            try:
                if bundle.size(file) > photos.MAX_PHOTO_BYTES:
                    problems.append(
                        _photo_problem(
                            lines[file],
                            f"照片文件“{file}”过大（超过 {photos.MAX_PHOTO_BYTES // 2**20} MB），未读取",
                        )
                    )
                    continue
                data = bundle.read_bytes(file)
            except (OSError, KeyError):
                problems.append(_photo_problem(lines[file], f"照片文件“{file}”无法读取"))
                continue
            if sniff_image_format(data[:16]) is None:
                problems.append(
                    _photo_problem(lines[file], f"照片文件“{file}”不是 JPEG、PNG 或 WebP 图像")
                )
                continue
            key = keys[file] = photos.content_key(data)
            if key in same_bytes:  # an exact copy under another name: decoded once
                same_bytes[key].append(file)
                continue
            same_bytes[key] = [file]
            cached = cache.get(key)
            if cached is not None:
                prints[file] = cached
            else:
                todo.append(file)
                yield str(bundle.root), bundle.prefix, file

    workers = workers or min(len(files) // 64 + 1, os.cpu_count() or 1)
    # (a process pool starts its workers at the first job: none when every photo is cached)
    pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
    unsaved: list[Any] = []
    try:
        results: Iterable[tuple[str, Any, str | None]]
        if pool is not None:
            # map() submits every job before it returns: the files are read as the workers start
            results = pool.map(_fingerprint_job, jobs(), chunksize=16)
        else:
            results = map(_fingerprint_job, list(jobs()))
        if progress and todo:
            results = progress(results, total=len(todo), desc="照片指纹", unit="张")
        for file, fp, error in results:
            if error is not None:
                problems.append(_photo_problem(lines[file], f"照片文件“{file}”无法解码：{error}"))
                continue
            if fp.key != keys[file]:  # the worker read other bytes than this process
                problems.append(_changed(file, lines[file]))
                continue
            prints[file] = fp
            unsaved.append(fp)
            if len(unsaved) >= CACHE_BATCH:
                cache.put(*unsaved)
                unsaved.clear()
    finally:
        cache.put(*unsaved)  # what was computed is kept, also when a later photo fails
        if pool is not None:
            pool.shutdown()
    cache.close()
    for first, *copies in same_bytes.values():
        for file in copies:
            if first in prints:
                prints[file] = prints[first]
            else:  # the first file could not be decoded: neither can its copies
                problems.append(
                    _photo_problem(lines[file], f"照片文件“{file}”与“{first}”内容相同，无法解码")
                )
    return prints, FileDigests(bundle, keys, lines), problems


def load_for_screening(
    path: str | Path,
    *,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    timings: dict[str, float] | None = None,
) -> tuple[Bundle, dict[str, Any], Mapping[str, str]]:
    """Load, validate and fingerprint; raises BundleError with every problem, the rows' and the
    photo files' together (photos are read even when rows have problems: their fingerprints are
    cached, so the corrected bundle does not decode them again). ``timings`` receives the
    seconds of each step."""
    stages = timings if timings is not None else {}
    started = time.perf_counter()
    bundle, problems = read_bundle(path)
    stages["load"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    prints, digests, photo_problems = fingerprint_photos(
        bundle, cache_dir=cache_dir, progress=progress
    )
    stages["fingerprint"] = round(time.perf_counter() - started, 3)
    if problems or photo_problems:
        raise BundleError(problems + photo_problems)
    return bundle, prints, digests


def screen(
    bundle: Bundle,
    as_of: dt.date,
    *,
    prints: dict[str, Any] | None = None,
    digests: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    timings: dict[str, float] | None = None,
) -> list[Finding]:
    """All findings for the bundle, one per (application, kind, subject), sorted.

    ``timings``, when given, receives the seconds each stage took (for benchmarks).
    """
    if prints is None or digests is None:
        prints, digests, problems = fingerprint_photos(
            bundle, cache_dir=cache_dir, progress=progress
        )
        if problems:
            raise BundleError(problems)
    stages = timings if timings is not None else {}

    def timed(name: str, fn: Callable[[], list[Finding]]) -> list[Finding]:
        started = time.perf_counter()
        result = fn()
        stages[name] = round(time.perf_counter() - started, 3)
        return result

    raw: list[Finding] = []
    raw += timed("invalid_uscc", lambda: invoices.detect_invalid_uscc(bundle))
    raw += timed("registry", lambda: registry.detect(bundle, as_of))
    raw += timed("duplicate_invoice", lambda: invoices.detect_duplicates(bundle))
    raw += timed("invoice_rows", lambda: invoices.detect_buyer_and_period(bundle))
    raw += timed("relations", lambda: relations.detect(bundle, progress=progress))
    if bundle.photos:
        raw += timed(
            "duplicate_photo",
            lambda: photo_detector.detect(bundle, prints or {}, digests or {}, progress=progress),
        )
    return timed("dedupe_sort", lambda: dedupe_and_sort(raw))


_KIND_ORDER = {k: i for i, k in enumerate(KINDS)}


def dedupe_and_sort(findings: Iterable[Finding]) -> list[Finding]:
    keyed: dict[tuple[str, str, str], Finding] = {}
    for f in findings:
        keyed.setdefault((f.application_id, f.kind, finding_subject(f.kind, f.evidence)), f)
    order = sorted(keyed, key=lambda k: (k[0], _KIND_ORDER.get(k[1], 99), k[1], k[2]))
    return [keyed[k] for k in order]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return _jsonable(item())
    return str(value)


def findings_document(findings: list[Finding], as_of: dt.date) -> dict[str, Any]:
    """The findings.json document (integrity-bundle.md)."""
    return {
        "format": "qijia-findings",
        "version": 1,
        "as_of": as_of.isoformat(),
        "findings": [_jsonable(f.as_json()) for f in findings],
    }
