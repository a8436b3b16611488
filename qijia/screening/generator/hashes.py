"""Precomputed photo hashes for the index benchmark: 1,000,000 photos' window codes.

Fingerprinting a million real photos would take hours, and the index benchmark measures the
Hamming index, not decoding. So the codes are drawn from a model of what
:mod:`qijia.screening.photos` produces, fitted on fingerprints of generated photos (measured on
the small bundle: two unrelated photos' codes differ in ~32 of 64 bits, 1% of pairs below 22,
none at or below 11; a photo's sub-window codes differ from its full-frame code in ~16-18 bits):

- every photo: a uniformly random 64-bit full-frame code, and ten window codes that each differ
  from it in about a quarter of the bits (XOR with ``r1 & r2``); the mirror image gets its own
  independent set of eleven;
- 1% of the photos are copies of another one: "near" copies (re-encoded, resized, brightness...)
  flip 0-3 bits of every code, "crop" copies carry one of the source's window codes as their
  full frame (2-6 bits off), "mirror" copies swap the normal and mirror sets (0-2 bits off).

Files (``np.save``, so byte-identical for a seed):
``index-codes.npy`` (N, 11) uint64 — ``PhotoPrint.codes`` of each photo;
``index-mirror-codes.npy`` (N, 11) uint64 — ``PhotoPrint.mirror_codes``;
``index-pairs.npy`` (M, 2) int64 — the planted (source, copy) rows, source < copy;
``index-hashes.json`` — this description and the counts.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

WINDOWS = 11
COPY_SHARE = 0.01


def _random_codes(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(0, np.iinfo(np.uint64).max, size=shape, dtype=np.uint64, endpoint=True)


def _photo_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, WINDOWS) codes: a full-frame code and windows about 16 bits away from it."""
    full = _random_codes(rng, (n, 1))
    flips = _random_codes(rng, (n, WINDOWS - 1)) & _random_codes(rng, (n, WINDOWS - 1))
    return np.concatenate([full, full ^ flips], axis=1)


def _sparse_flips(rng: np.random.Generator, shape: tuple[int, ...], lo: int, hi: int) -> np.ndarray:
    """Masks with between ``lo`` and ``hi`` bits set (positions may repeat, so at most ``hi``)."""
    counts = rng.integers(lo, hi + 1, size=shape)
    positions = rng.integers(0, 64, size=(*shape, hi)).astype(np.uint64)
    bits = np.left_shift(np.uint64(1), positions)
    bits[np.arange(hi) >= counts[..., None]] = 0
    out = np.zeros(shape, dtype=np.uint64)
    for k in range(hi):
        out ^= bits[..., k]
    return out


def make_index_hashes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(codes, mirror_codes, pairs) for ``n`` photos; deterministic for ``seed``."""
    rng = np.random.default_rng([seed, 4242])
    codes = _photo_codes(rng, n)
    mirror = _photo_codes(rng, n)
    m = int(n * COPY_SHARE)
    if m == 0 or n < 2:
        return codes, mirror, np.empty((0, 2), dtype=np.int64)
    # Sources and copies are 2m distinct photos: no chains, no two copies of one source, so the
    # planted pairs are exactly the pairs that are the same photograph.
    chosen = rng.choice(n, size=2 * m, replace=False)
    sources, copies = chosen[:m], chosen[m:]
    kind = rng.integers(0, 3, size=m)  # 0 near, 1 crop, 2 mirror
    near = kind == 0
    codes[copies[near]] = codes[sources[near]] ^ _sparse_flips(
        rng, (int(near.sum()), WINDOWS), 0, 3
    )
    mirror[copies[near]] = mirror[sources[near]] ^ _sparse_flips(
        rng, (int(near.sum()), WINDOWS), 0, 3
    )
    crop = kind == 1
    k = int(crop.sum())
    window = rng.integers(1, WINDOWS, size=k)
    full = codes[sources[crop], window] ^ _sparse_flips(rng, (k,), 2, 6)
    flips = _random_codes(rng, (k, WINDOWS - 1)) & _random_codes(rng, (k, WINDOWS - 1))
    codes[copies[crop]] = np.concatenate([full[:, None], full[:, None] ^ flips], axis=1)
    mirror[copies[crop]] = _photo_codes(rng, k)
    flip = kind == 2
    k = int(flip.sum())
    codes[copies[flip]] = mirror[sources[flip]] ^ _sparse_flips(rng, (k, WINDOWS), 0, 2)
    mirror[copies[flip]] = codes[sources[flip]] ^ _sparse_flips(rng, (k, WINDOWS), 0, 2)
    pairs = np.sort(np.stack([sources, copies], axis=1), axis=1).astype(np.int64)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    return codes, mirror, pairs


def write_index_hashes(root: Path, n: int, seed: int) -> dict:
    codes, mirror, pairs = make_index_hashes(n, seed)
    np.save(root / "index-codes.npy", codes)
    np.save(root / "index-mirror-codes.npy", mirror)
    np.save(root / "index-pairs.npy", pairs)
    info = {
        "photos": int(n),
        "codes_per_photo": WINDOWS,
        "planted_pairs": int(len(pairs)),
        "files": ["index-codes.npy", "index-mirror-codes.npy", "index-pairs.npy"],
        "model": (__doc__ or "").strip().split("\n\n")[1],
    }
    (root / "index-hashes.json").write_text(
        json.dumps(info, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return {k: v for k, v in info.items() if k != "model"}
