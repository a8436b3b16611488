"""Duplicate pairs among many photos (a bundle) and against an incremental index (the platform)."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Hashable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Generic, TypeVar

import cv2
import numpy as np

from qijia.screening.model import Progress

from .fingerprint import CANDIDATE_RADIUS, EXTRA_RADIUS, PhotoPrint, _with_views
from .hashindex import HashIndex
from .verify import compare

PARALLEL_MIN_PAIRS = 2_000  # verify in worker processes from this many candidate pairs

# Textures (a brick wall, gravel, grass) have no structure as coarse as the window hashes' 32x32
# bins: a crop moves every coefficient about the median, and copies cropped to 80-86% of the
# area were 12-14 bits from their originals, past the radius (brick 26 of 40 missed). Such a
# picture keeps little of its variance at 32x32 (brick 0.21, gravel 0.17, grass 0.15 and
# hubble's star field 0.28, and at most 0.35 under the spec's changes; ordinary photographs
# 0.74-0.96, the city bundle's scenes 0.36 at the least of 3,000): below TEXTURE_DETAIL a photo
# is also paired with the TEXTURE_NEIGHBOURS textures most like it by how its variance falls
# with scale and how its grey levels are spread (``_texture_signature``), and verification
# decides, as for any candidate (it rejected every shifted framing of these textures tried).
# A copy's share may come out a few hundredths higher than its original's (a brick tile 0.376,
# its crop, re-encoded in grey, 0.417: an independent bundle's miss), so a texture's neighbours
# are looked for among the photos below TEXTURE_NEAR. The cost is linear: at most
# TEXTURE_NEIGHBOURS candidate pairs a texture, about 60 ms of CPU at the gate.
TEXTURE_DETAIL = 0.4
TEXTURE_NEAR = 0.5
TEXTURE_NEIGHBOURS = 16
NEAR_NEIGHBOURS = 4  # for a photo near a texture (between TEXTURE_DETAIL and TEXTURE_NEAR)
_TEXTURE_SCALES = (8, 16, 64)  # besides 32

#: The caller's key for a photo (a file name, an evidence id...), returned as given.
K = TypeVar("K", bound=Hashable)


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


def _texture_signature(fp: PhotoPrint) -> np.ndarray | None:
    """How a texture's variance falls with scale (the first entry: the log of the share left at
    32x32) and how its grey levels spread (both unchanged by a crop, a mirror image or a
    brightness or contrast change), or None if ``fp`` is not near a texture (most photos: one
    32x32 reduction tells, about 20 us)."""
    thumb = fp.thumb
    total = float(cv2.meanStdDev(thumb)[1][0, 0]) ** 2
    if total < 1.0:
        return None  # flat: nothing to compare

    def kept(side: int) -> float:
        small = cv2.resize(thumb, (side, side), interpolation=cv2.INTER_AREA)
        return max(float(cv2.meanStdDev(small)[1][0, 0]) ** 2 / total, 1e-4)

    at_32 = kept(32)
    if at_32 >= TEXTURE_NEAR:
        return None
    spread = (np.percentile(thumb, (10, 25, 50, 75, 90)) - float(thumb.mean())) / np.sqrt(total)
    return np.concatenate([np.log([at_32, *map(kept, _TEXTURE_SCALES)]), spread])


def _textures(prints: Sequence[PhotoPrint], start: int = 0) -> list[tuple[int, np.ndarray]]:
    """(position, signature) of the photos near a texture among ``prints``, positions counted
    from ``start``."""
    return [
        (start + pos, sig)
        for pos, fp in enumerate(prints)
        if (sig := _texture_signature(fp)) is not None
    ]


def _nearest_textures(
    queries: list[tuple[int, np.ndarray]], stored: list[tuple[int, np.ndarray]], same_set: bool
) -> list[tuple[int, int]]:
    """(query, stored) positions, as ``_textures`` gives them: each query's TEXTURE_NEIGHBOURS
    nearest stored signatures (NEAR_NEIGHBOURS for a query that is only near a texture), of
    pairs where at least one is a texture (below TEXTURE_DETAIL), a query itself left out when
    the two lists are one."""
    if not queries or not stored:
        return []
    q = np.stack([sig for _pos, sig in queries])
    s = np.stack([sig for _pos, sig in stored])
    k = min(TEXTURE_NEIGHBOURS, len(s))
    q_texture = q[:, 0] < np.log(TEXTURE_DETAIL)
    s_texture = s[:, 0] < np.log(TEXTURE_DETAIL)
    pairs: list[tuple[int, int]] = []
    s_norms = (s * s).sum(axis=1)
    for start in range(0, len(q), 256):  # a bounded distance matrix, however many textures
        part = slice(start, start + 256)
        dist = (q[part] * q[part]).sum(axis=1)[:, None] + s_norms[None, :] - 2 * q[part] @ s.T
        dist[~(q_texture[part, None] | s_texture[None, :])] = np.inf
        if same_set:
            dist[np.arange(len(dist)), np.arange(start, start + len(dist))] = np.inf
        nearest = np.argpartition(dist, k - 1, axis=1)[:, :k]
        for r, row in enumerate(nearest):
            if not q_texture[start + r]:  # near a texture: its few nearest textures will do
                row = row[np.argsort(dist[r, row])[:NEAR_NEIGHBOURS]]
            pairs.extend((queries[start + r][0], stored[c][0]) for c in row if dist[r, c] < np.inf)
    return pairs


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
    items: Sequence[tuple[K, PhotoPrint]], progress: Progress | None = None
) -> list[tuple[K, K, dict]]:
    """Every unordered pair of items that shows the same photograph, with verification evidence.

    Keys are returned as given, in input order within a pair (a's position < b's). A photo whose
    EXIF orientation turns it is compared as stored and as shown (``upright_view``); evidence
    from the shown view lists that side under ``upright``. ``progress`` shows the verification
    of the candidate pairs, the long part at city scale.
    """
    if len(items) < 2:
        return []
    prints, origin = _with_views([fp for _key, fp in items])
    index = HashIndex()
    index.add(np.concatenate([p.codes for p in prints]))
    owners = np.repeat(np.arange(len(prints), dtype=np.int64), [len(p.codes) for p in prints])
    candidates = _candidate_pairs(index, owners, *_codes_of(prints))
    # Same content under two keys is always a pair, whatever the hashes say.
    by_key: dict[str, list[int]] = {}
    for pos, fp in enumerate(prints):
        by_key.setdefault(fp.key, []).append(pos)
    merged: dict[tuple[int, int], set[bool]] = {}
    for (qi, oi), flips in candidates.items():
        if origin[qi] == origin[oi]:
            continue
        pair = (min(qi, oi), max(qi, oi))
        # the flag says which side was mirrored; verification mirrors the second of the pair
        merged.setdefault(pair, set()).update(flips)
    textures = _textures(prints)
    for i, j in _nearest_textures(textures, textures, True):
        if origin[i] != origin[j]:
            merged.setdefault((min(i, j), max(i, j)), set()).update((False, True))
    for positions in by_key.values():
        for x in range(len(positions)):
            for y in range(x + 1, len(positions)):
                merged.setdefault((positions[x], positions[y]), set()).add(False)

    # One verification per pair of contents, in (i, j) order so a photo's keypoints are reused
    # by its consecutive pairs.
    def contents(i: int, j: int) -> tuple[str, str]:
        a, b = prints[i].key, prints[j].key
        return (a, b) if a <= b else (b, a)

    tasks: dict[tuple[str, str], tuple[int, int, tuple[bool, ...]]] = {}
    for i, j in sorted(merged):
        tasks.setdefault(contents(i, j), (i, j, tuple(sorted(merged[(i, j)]))))
    verdicts = dict(zip(tasks, _verify_all(prints, list(tasks.values()), progress), strict=True))
    found: dict[tuple[int, int], dict] = {}
    for i, j in sorted(merged):
        evidence = verdicts[contents(i, j)]
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
    prints: Sequence[PhotoPrint],
    tasks: list[tuple[int, int, tuple[bool, ...]]],
    progress: Progress | None = None,
) -> list[dict | None]:
    """compare() for every task, on every core when there are many (worker processes forked
    with the fingerprints in memory, so nothing but pair positions and verdicts is sent)."""
    global _WORKER_PRINTS

    def shown(verdicts: Iterable[dict | None]) -> list[dict | None]:
        if progress is not None and tasks:
            verdicts = progress(verdicts, total=len(tasks), desc="照片比对", unit="对")
        return list(verdicts)

    workers = min(os.cpu_count() or 1, 8)
    if len(tasks) < PARALLEL_MIN_PAIRS or workers < 2 or "fork" not in mp.get_all_start_methods():
        return shown(compare(prints[i], prints[j], flips) for i, j, flips in tasks)
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
            return shown(verdict for part in pool.map(_verify_chunk, chunks) for verdict in part)
    finally:
        _WORKER_PRINTS = ()
        cv2.setNumThreads(threads)


class PhotoIndex(Generic[K]):
    """Photos already screened, for screening one new application against all of them.

    A crop is found from its original's extra windows. Either may be the stored one, so the
    stored photos' extra codes get an index of their own, searched with the new photos' window
    codes; the new photos' extra codes are searched in the main index, as in a bundle.
    """

    def __init__(self) -> None:
        self._index = HashIndex()
        self._extra = HashIndex()
        self._keys: list[K] = []
        self._prints: list[PhotoPrint] = []
        self._owners: list[np.ndarray] = []
        self._extra_owners: list[np.ndarray] = []
        self._by_key: dict[str, list[int]] = {}
        self._textures: list[tuple[int, np.ndarray]] = []  # (position, signature)
        self._photos = 0  # stored photos; _keys/_prints also hold their upright views

    def __len__(self) -> int:
        return self._photos

    def add(self, keys: Sequence[K], prints: Sequence[PhotoPrint]) -> None:
        if len(keys) != len(prints):
            raise ValueError("keys and prints differ in length")
        prints, origin = _with_views(prints)
        start = len(self._keys)
        for offset, fp in enumerate(prints):
            self._owners.append(np.full(len(fp.codes), start + offset, dtype=np.int64))
            self._extra_owners.append(np.full(len(fp.extra_codes), start + offset, dtype=np.int64))
            self._by_key.setdefault(fp.key, []).append(start + offset)
        self._textures.extend(_textures(prints, start))
        self._keys.extend(keys[o] for o in origin)
        self._prints.extend(prints)
        self._photos += len(keys)
        if prints:
            self._index.add(np.concatenate([p.codes for p in prints]))
            self._extra.add(np.concatenate([p.extra_codes for p in prints]))

    def query(self, prints: Sequence[PhotoPrint]) -> list[tuple[int, K, dict]]:
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
        for pair in _nearest_textures(_textures(views), self._textures, False):
            candidates.setdefault(pair, set()).update((False, True))
        for pos, fp in enumerate(prints):  # identical content is always found
            for stored in self._by_key.get(fp.key, ()):
                candidates.setdefault((pos, stored), set()).add(False)
        out: dict[tuple[int, K], dict] = {}
        for (qi, si), flips in sorted(candidates.items()):
            if (origin[qi], self._keys[si]) in out:
                continue
            # compare(stored, query): the flag marks the query side as mirrored
            evidence = compare(self._prints[si], views[qi], tuple(sorted(flips)))
            if evidence is not None:
                out[(origin[qi], self._keys[si])] = evidence
        return [(qi, key, evidence) for (qi, key), evidence in out.items()]
