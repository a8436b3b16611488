"""Every 64-bit code within a Hamming radius, by multi-index hashing, compiled with numba."""

from __future__ import annotations

from math import comb

import numba
import numpy as np

from .fingerprint import CANDIDATE_RADIUS

PENDING_MAX = 20_000  # codes added since the last build searched by a scan, up to this many


def _layout(n: int, radius: int) -> tuple[int, int]:
    """(substrings m, flipped bits f) with m * (f + 1) > radius, cheapest for ``n`` codes.

    Probing costs one bucket visit (a cache miss) per probe and one sequential check per code in
    the bucket: few wide substrings suit a large index, more narrow ones a small index.
    """
    best: tuple[float, int, int] | None = None
    for m in range(2, 17):
        f = radius // m  # smallest f with m * (f + 1) > radius
        width = 64 // m
        probes = sum(comb(width, k) for k in range(f + 1)) * m
        checks = probes * n / float(1 << width)
        cost = probes * 25.0 + checks * 1.5
        if width > 20:
            continue
        if best is None or cost < best[0]:
            best = (cost, m, f)
    assert best is not None
    return best[1], best[2]


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
    probes = 0
    while probes < len(masks) and masks[probes] <= mask_c:  # masks ascend
        probes += 1
    # The probes are visited in bucket order, not query order. A bucket is a random place in the
    # table, so query order waited for memory at every probe (1,100 queries' 600,000 probes took
    # 50 ms on an AMD EPYC host, 17 ms on an Intel Xeon); in bucket order the table is read front
    # to back and a bucket probed again is still in the cache. A counting sort gives the probes
    # of each bucket, as query rows.
    buckets = np.int64(mask_c) + 1
    ends = np.zeros(buckets, dtype=np.int64)
    for qi in range(len(queries)):
        qc = (queries[qi] >> shift) & mask_c
        for j in range(probes):
            ends[np.int64(qc ^ masks[j])] += 1
    total = 0
    for b in range(buckets):
        total += ends[b]
        ends[b] = total - ends[b]  # the bucket's first slot, for now
    rows = np.empty(total, dtype=np.int32)
    for qi in range(len(queries)):
        qc = (queries[qi] >> shift) & mask_c
        for j in range(probes):
            b = np.int64(qc ^ masks[j])
            rows[ends[b]] = qi
            ends[b] += 1  # ends up the bucket's end
    first = 0
    for b in range(buckets):
        last = ends[b]
        for slot in range(first, last):
            qi = rows[slot]
            q = queries[qi]
            for k in range(starts[c, b], starts[c, b + 1]):
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
        first = last
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


#: On every core for any batch: measured on 1,000,000 codes, 22 queries took 0.23 ms against
#: 0.55 ms on one core, 1,100 took 21 ms against 42 ms (Intel host, in query order; in bucket
#: order on a busy AMD host, 1.2 ms for 22, the sort's passes over 65,536 buckets, and 17 ms).
#: (An earlier serial twin for small batches shared its numba cache entry with this kernel, so
#: "parallel" had been running serial code.)
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
        all_rows, all_ids, all_dist = (np.concatenate(parts) for parts in zip(*more, strict=True))
        return all_rows, all_ids, all_dist

    def self_join(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every pair (i < j) of indexed codes within the radius."""
        if not self.ntotal:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty.astype(np.int32)
        return self._run(None, build=True)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bitwise Hamming distance of uint64 codes (broadcasting)."""
    return np.bitwise_count(np.bitwise_xor(np.asarray(a, np.uint64), np.asarray(b, np.uint64)))
