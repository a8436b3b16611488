"""A baseline JPEG's luma at 1/8 scale, read from the DC coefficients alone.

libjpeg-turbo's 1/8-scale decode (``Image.draft``) still spends almost all its time in the entropy
pass: it decodes every AC coefficient's Huffman code one at a time, with a hard-to-predict branch
per code, only to drop the value. That pass is also most of a full-size decode, so the 1/8 decode
was only 1.9 to 2.8 times faster than a full one. No library offers a faster entropy pass (PyTurboJPEG,
simplejpeg, jpegio and jpeglib all call libjpeg), hence this module.

Here the AC codes are skipped through a multi-symbol table: one lookup of the next ``LOOKAHEAD``
bits tells how many bits the whole run of AC codes (with their value bits) in them takes, how far
it moves along the block and whether it ends the block with an EOB, so a block's AC coefficients
cost about a third as many lookups and no branch per code. Only the DC differences are decoded
into values, and the luma's are turned into pixels exactly as libjpeg's 1x1 inverse DCT does:
the result is byte-identical to ``draft("L", ...)`` at 1/8 scale (tested against Pillow).

Only what a camera or phone writes is read here: baseline or extended sequential Huffman JPEGs of
8-bit samples, greyscale or YCbCr with the luma at full sampling, one interleaved scan, with or
without restart markers, followed by the end-of-image marker. Anything else, anything libjpeg
would refuse, and any stream that does not decode cleanly to the last block give ``None``, and
the caller decodes the file through Pillow as before.
"""

from __future__ import annotations

import functools

import numba
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.cpython.unsafe.numbers import trailing_zeros
from numba.extending import intrinsic

# Bits looked at per table lookup: 12 keep each lookahead table at 8 KB, in the L1 cache with the
# others (13-16 bits need fewer lookups but were no faster; docs/screening.md).
LOOKAHEAD = 12


class _Unsupported(Exception):
    """Not a file this decoder reads; the caller falls back to Pillow."""


def _code_table(counts: bytes, symbols: bytes) -> np.ndarray:
    """(length << 8 | symbol) for every 16-bit prefix of a canonical Huffman code; 0 if invalid."""
    table = np.zeros(1 << 16, dtype=np.int32)
    code = 0
    k = 0
    for length in range(1, 17):
        for _ in range(counts[length - 1]):
            if k >= len(symbols) or code >= 1 << length:
                raise _Unsupported("bad Huffman table")
            lo = code << (16 - length)
            table[lo : lo + (1 << (16 - length))] = length << 8 | symbols[k]
            code += 1
            k += 1
        code <<= 1
    return table


@numba.njit(cache=True, nogil=True, inline="always")
def _moved(symbol):  # pragma: no cover - compiled
    """How far an AC symbol moves along its block, as libjpeg's decode_mcu reads it: 128 (the
    end of the block) for EOB and for any other symbol of size 0 but ZRL, 16 for ZRL, else the
    run of zeros and the coefficient itself. The one place this rule lives."""
    if symbol & 15 == 0 and symbol != 0xF0:
        return 128
    return 16 if symbol == 0xF0 else (symbol >> 4) + 1


@numba.njit(cache=True, nogil=True, inline="always")
def _extend(value, size):  # pragma: no cover - compiled
    """A DC difference from its ``size`` value bits (JPEG's EXTEND, F.2.2.1)."""
    if size == 0:
        return 0
    return value if value >= 1 << (size - 1) else value - (1 << size) + 1


@numba.njit(cache=True, nogil=True)
def _multi_table(single: np.ndarray, bits: int) -> np.ndarray:  # pragma: no cover - compiled
    """For every ``bits``-bit prefix, the run of whole AC codes with their value bits in it:
    bits used (0-5), coefficients moved, plus 128 if the run ends with an EOB (6-13).
    Prefixes whose first code does not fit say "moved 64", which no block allows."""
    size = 1 << bits
    out = np.empty(size, dtype=np.uint16)
    for v in range(size):
        used = 0
        moved = 0
        while True:
            entry = single[((v << used) & (size - 1)) << (16 - bits)]
            length = entry >> 8
            symbol = entry & 255
            if length == 0 or used + length + (symbol & 15) > bits:
                break
            used += length + (symbol & 15)
            moved += _moved(symbol)
            if moved >= 63:  # (an end of block is 128 or more)
                break
        out[v] = used | (moved if used else 64) << 6
    return out


@numba.njit(cache=True, nogil=True)
def _dc_table(single: np.ndarray, bits: int) -> np.ndarray:  # pragma: no cover - compiled
    """For every ``bits``-bit prefix whose DC code and value bits fit in it, with a difference
    within +-127: bits used (0-5) and the difference + 128 (6-13); 0 for the others."""
    size = 1 << bits
    out = np.zeros(size, dtype=np.uint16)
    for v in range(size):
        entry = single[v << (16 - bits)]
        length = entry >> 8
        s = entry & 255
        if length == 0 or s > 7 or length + s > bits:
            continue
        diff = _extend((v >> (bits - length - s)) & ((1 << s) - 1), s)
        out[v] = (length + s) | (diff + 128) << 6
    return out


@functools.lru_cache(maxsize=32)
def _stacked(
    dc_specs: tuple[tuple[bytes, bytes], ...], ac_specs: tuple[tuple[bytes, bytes], ...]
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """A scan's DC tables (single-code, lookahead) and AC tables (single-code, multi-code),
    each stacked in the order of their table ids. Cameras write the same tables into every file,
    so they are built once per process."""
    dc_single = [_code_table(*spec) for spec in dc_specs]
    ac_single = [_code_table(*spec) for spec in ac_specs]
    return (
        (np.stack(dc_single), np.stack([_dc_table(t, LOOKAHEAD) for t in dc_single])),
        (np.stack(ac_single), np.stack([_multi_table(t, LOOKAHEAD) for t in ac_single])),
    )


def _word_pointer(context, builder, array_type, array, index):
    data = context.make_array(array_type)(context, builder, array)
    return builder.bitcast(builder.gep(data.data, [index]), ir.IntType(64).as_pointer())


@intrinsic
def _load(typingctx, array, index):  # pragma: no cover - compiled
    """The eight bytes of a uint8 array from ``index`` on, as one big-endian uint64: a single
    unaligned load and a byte swap (numba does not merge eight byte loads into one). Unchecked:
    the caller keeps ``index + 8`` within the array."""

    def codegen(context, builder, signature, args):
        pointer = _word_pointer(context, builder, signature.args[0], args[0], args[1])
        return builder.bswap(builder.load(pointer, align=1))

    return types.uint64(array, index), codegen


@intrinsic
def _copy8(typingctx, source, i, target, j):  # pragma: no cover - compiled
    """Copy eight bytes from ``source[i:]`` to ``target[j:]`` (unchecked, as ``_load``) and
    return them as a little-endian uint64: the first byte is the lowest."""

    def codegen(context, builder, signature, args):
        word = builder.load(
            _word_pointer(context, builder, signature.args[0], args[0], args[1]), align=1
        )
        builder.store(
            word, _word_pointer(context, builder, signature.args[2], args[2], args[3]), align=1
        )
        return word

    return types.uint64(source, i, target, j), codegen


@numba.njit(cache=True, nogil=True)
def _decode(
    data,  # uint8, entropy-coded bytes unstuffed, each restart interval from seg_start[i]
    seg_start,  # int64, len = intervals + 1 (the last is the end of the data)
    mcus_per_seg,  # MCUs in each interval but maybe the last
    mcu_count,
    block_comp,  # int64 per block of an MCU: its component
    block_dc,  # per block: index of its DC table
    block_ac,  # per block: index of its AC table
    block_dy,  # per block: its row among the luma blocks of an MCU, or -1 for chroma
    block_dx,  # per block: its column among them
    dc_single,  # int32 (n, 65536): length << 8 | symbol for every 16-bit prefix
    dc_fast,  # uint16 (n, 1 << lookahead), see _dc_table
    ac_single,  # int32 (n, 65536)
    ac_multi,  # uint16 (n, 1 << lookahead), see _multi_table
    lookahead,
    components,
    q0,  # the luma's DC quantiser
    range_limit,  # uint8 (1024,): libjpeg's range limit after the inverse DCT
    out,  # uint8 (ceil(h / 8), ceil(w / 8)): the luma at 1/8 scale
):  # pragma: no cover - compiled
    """Decode every block; return 0, or 1 + the MCU where the stream stopped making sense.

    The bit buffer ``acc`` holds ``nbits`` valid bits at its top, at least 27 (the most one code
    and its value bits take) before every lookup. It is refilled after every lookup, branch-free
    (eight bytes at a time, as many whole bytes as fit): a conditional refill was mispredicted
    often enough to cost a third of the time.

    Only the low 6 bits of ``nbits`` are kept exact (its true value is always 0-63): the fast
    paths subtract the whole table entry from it, so that the entry's mask ``e & 63`` feeds the
    shift of ``acc`` alone, which the compiler then drops (x86 shifts mask their count), and the
    chain from one lookup to the next is one instruction shorter: 9-12% faster (docs/screening.md)."""
    pred = np.zeros(components, dtype=np.int64)
    top = np.uint64(64 - lookahead)
    n_blocks = block_comp.shape[0]
    rows, cols = out.shape
    mcus_x = -(-cols // (block_dx.max() + 1))
    mcu_h = block_dy.max() + 1
    mcu_w = block_dx.max() + 1
    mcu = 0
    mcu_y = 0  # the first luma block row and column of the MCU
    mcu_x = 0
    for seg in range(seg_start.shape[0] - 1):
        pos = seg_start[seg]
        end_bits = seg_start[seg + 1] * 8
        acc = _load(data, pos)
        pos += 7
        nbits = 56
        pred[:] = 0
        last = min(mcu + mcus_per_seg, mcu_count)
        while mcu < last:
            for b in range(n_blocks):
                # the refill's bits come in below the valid ones, so the lookup (of the top bits)
                # need not wait for the refill's load
                e = dc_fast[block_dc[b], acc >> top]
                acc |= _load(data, pos) >> np.uint64(nbits & 63)
                pos += ((nbits & 63) ^ 63) >> 3
                nbits |= 56
                if e:
                    acc <<= np.uint64(e & 63)
                    nbits -= e  # (only nbits' low 6 bits count: see the docstring)
                    diff = np.int64(e >> 6) - 128
                else:
                    entry = dc_single[block_dc[b], acc >> np.uint64(48)]
                    length = entry >> 8
                    s = entry & 255
                    if length == 0 or s > 11:
                        return mcu + 1
                    # (the shift is split so that s = 0 shifts by 64 in two legal steps)
                    v = np.int64(((acc << np.uint64(length)) >> np.uint64(1)) >> np.uint64(63 - s))
                    diff = _extend(v, s)
                    used = length + s
                    acc <<= np.uint64(used)
                    nbits -= used
                c = block_comp[b]
                pred[c] += diff
                if block_dy[b] >= 0:
                    y = mcu_y + block_dy[b]
                    x = mcu_x + block_dx[b]
                    if y < rows and x < cols:
                        # libjpeg's 1x1 inverse DCT (jidctred.c) of the coefficient it stores
                        # (a 16-bit JCOEF): the DC over 8, rounded
                        coef = ((pred[c] + 32768) & 65535) - 32768
                        out[y, x] = range_limit[((coef * q0 + 4) >> 3) & 1023]
                t = block_ac[b]
                k = 1
                # k: the next coefficient; 64 when the 63rd was the last, 128 + where an EOB was
                while k < 64:
                    e = ac_multi[t, acc >> top]
                    acc |= _load(data, pos) >> np.uint64(nbits & 63)
                    pos += ((nbits & 63) ^ 63) >> 3
                    nbits |= 56
                    kk = k + (e >> 6)
                    # valid: still in the block, or just at its end, or ended by an EOB in it
                    if (kk & 127) < 64 or kk == 64:
                        # (the mask's only use: see the docstring)
                        acc <<= np.uint64(e & 63)
                        nbits -= e
                        k = kk
                        continue
                    entry = ac_single[t, acc >> np.uint64(48)]
                    length = entry >> 8
                    if length == 0:
                        return mcu + 1
                    symbol = entry & 255
                    used = length + (symbol & 15)
                    acc <<= np.uint64(used)
                    nbits -= used
                    k += _moved(symbol)
                if 64 < k < 128:
                    return mcu + 1
            mcu += 1
            mcu_x += mcu_w
            if mcu_x >= mcus_x * mcu_w:
                mcu_x = 0
                mcu_y += mcu_h
            if pos * 8 - (nbits & 63) > end_bits:
                return mcu  # read past the interval: truncated or corrupt
    return 0


@numba.njit(cache=True, nogil=True)
def _unstuff(buf, start, out, seg_start, rst_interval):  # pragma: no cover - compiled
    """Copy the entropy-coded bytes from ``start`` to the scan's end into ``out`` without the
    stuffed zero bytes, recording where each restart interval starts. Returns the number of
    intervals, or -1 unless the markers are as the header promised and the scan is followed by
    the end-of-image marker.

    0xFF is about one byte in a hundred: the bytes are copied eight at a time, and a word that has
    a 0xFF (its complement has a zero byte) is copied only up to it."""
    n = buf.shape[0]
    i = start
    j = 0
    segs = 1
    seg_start[0] = 0
    expect = 0
    low = np.uint64(0x0101010101010101)
    high = np.uint64(0x8080808080808080)
    while i < n:
        if i + 8 <= n:
            w = ~_copy8(buf, i, out, j)
            found = (w - low) & ~w & high
            if found == 0:
                i += 8
                j += 8
                continue
            step = trailing_zeros(found) >> 3  # the first 0xFF's place in memory order
            i += step
            j += step
        elif buf[i] != 0xFF:
            out[j] = buf[i]
            i += 1
            j += 1
            continue
        m = i + 1
        while m < n and buf[m] == 0xFF:
            m += 1
        if m >= n:
            return -1  # no EOI: Pillow calls such a file truncated
        marker = buf[m]
        if marker == 0:
            out[j] = 0xFF
            j += 1
            i = m + 1
        elif 0xD0 <= marker <= 0xD7:
            if rst_interval == 0 or marker - 0xD0 != expect or segs >= seg_start.shape[0] - 1:
                return -1
            expect = (expect + 1) & 7
            seg_start[segs] = j
            segs += 1
            i = m + 1
        elif marker == 0xD9:
            seg_start[segs] = j
            return segs
        else:
            return -1  # another marker after the scan: left to libjpeg
    return -1  # no EOI


def _segments(data: bytes) -> dict:
    """The header fields this decoder needs; raises _Unsupported for anything else."""
    if data[:2] != b"\xff\xd8":
        raise _Unsupported("not a JPEG")
    n = len(data)
    pos = 2
    frame = None
    dc_specs: dict[int, tuple[bytes, bytes]] = {}
    ac_specs: dict[int, tuple[bytes, bytes]] = {}
    quant: dict[int, int] = {}
    restart = 0
    jfif = False
    adobe = None
    while True:
        while pos < n and data[pos] != 0xFF:
            pos += 1  # libjpeg skips garbage between segments (with a warning)
        while pos < n and data[pos] == 0xFF:
            pos += 1
        if pos + 3 > n:
            raise _Unsupported("no scan")
        marker = data[pos]
        pos += 1
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue  # libjpeg passes over a stray restart marker or TEM
        if marker not in _KNOWN_MARKERS:
            raise _Unsupported(f"marker {marker:#x}")  # libjpeg stops (a second SOI, or unknown)
        length = int.from_bytes(data[pos : pos + 2], "big")
        body = data[pos + 2 : pos + length]
        if length < 2 or len(body) != length - 2:
            raise _Unsupported("truncated segment")
        pos += length
        if marker in (0xC0, 0xC1):
            if frame is not None or body[0] != 8:
                raise _Unsupported("frame")
            height = int.from_bytes(body[1:3], "big")
            width = int.from_bytes(body[3:5], "big")
            ncomp = body[5]
            comps = [
                (body[6 + 3 * i], body[7 + 3 * i] >> 4, body[7 + 3 * i] & 15, body[8 + 3 * i])
                for i in range(ncomp)
            ]
            if len(body) != 6 + 3 * ncomp or height == 0 or width == 0:
                raise _Unsupported("frame")
            frame = (height, width, comps)
        elif 0xC2 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            raise _Unsupported("not a sequential Huffman JPEG")
        elif marker == 0xC4:
            p = 0
            while p < len(body):
                tc, th = body[p] >> 4, body[p] & 15
                counts = bytes(body[p + 1 : p + 17])
                total = sum(counts)
                symbols = bytes(body[p + 17 : p + 17 + total])
                if tc > 1 or th > 3 or len(counts) != 16 or len(symbols) != total or total > 256:
                    raise _Unsupported("Huffman table")
                (ac_specs if tc else dc_specs)[th] = (counts, symbols)
                p += 17 + total
        elif marker == 0xDB:
            p = 0
            while p < len(body):
                pq, tq = body[p] >> 4, body[p] & 15
                if pq > 1 or tq > 3 or p + 1 + 64 * (pq + 1) > len(body):
                    raise _Unsupported("quantisation table")
                quant[tq] = int.from_bytes(body[p + 1 : p + 2 + pq], "big")
                p += 1 + 64 * (pq + 1)
        elif marker == 0xDD:
            if len(body) != 2:
                raise _Unsupported("restart interval")
            restart = int.from_bytes(body, "big")
        elif marker == 0xE0 and body[:5] == b"JFIF\x00":
            jfif = True
        elif marker == 0xEE and body[:5] == b"Adobe" and len(body) >= 12:
            adobe = body[11]
        elif marker == 0xDA:
            break
        elif marker == 0xD9:
            raise _Unsupported("no scan")
    if frame is None:
        raise _Unsupported("no frame")
    height, width, comps = frame
    ns = body[0]
    if ns != len(comps) or len(body) != 4 + 2 * ns or tuple(body[-3:]) != (0, 63, 0):
        raise _Unsupported("not one interleaved baseline scan")
    ids = [c[0] for c in comps]
    if [body[1 + 2 * i] for i in range(ns)] != ids or len(set(ids)) != ns:
        raise _Unsupported("scan components")
    if len(comps) == 3:
        # libjpeg's guess of the colour space (jdapimin.c): only YCbCr has its luma first.
        rgb = (
            (adobe == 0) if (not jfif and adobe is not None) else (ids == [82, 71, 66] and not jfif)
        )
        if rgb:
            raise _Unsupported("RGB JPEG")
    elif len(comps) != 1:
        raise _Unsupported("components")
    return {
        "height": height,
        "width": width,
        "comps": comps,
        "tables": [(body[2 + 2 * i] >> 4, body[2 + 2 * i] & 15) for i in range(ns)],
        "dc_specs": dc_specs,
        "ac_specs": ac_specs,
        "quant": quant,
        "restart": restart,
        "scan_start": pos,
    }


# The markers libjpeg reads or passes over (jdmarker.c); any other stops it with an error.
_KNOWN_MARKERS = frozenset(
    [*range(0xC0, 0xD0), 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, *range(0xE0, 0xF0), 0xFE]
)

# Zero bytes after the entropy-coded data: the decoder checks once per MCU whether it has read past
# its interval, and an MCU of at most 10 blocks of at most 64 codes of at most 26 bits reads less.
_PADDING = 4096

# libjpeg's range limit after the inverse DCT (jdmaster.c): x + 128 clamped for x in
# [-512, 511], wrapping with the mask 1023 beyond.
_RANGE = np.concatenate(
    [np.arange(128, 256), np.full(384, 255), np.zeros(384), np.arange(0, 128)]
).astype(np.uint8)


def luma_eighth(data: bytes) -> np.ndarray | None:
    """The luma of a baseline JPEG at 1/8 scale (``ceil(h/8) x ceil(w/8)``, uint8), or None."""
    try:
        header = _segments(data)
    except (_Unsupported, IndexError):
        return None
    comps = header["comps"]
    if not all(1 <= c[1] <= 4 and 1 <= c[2] <= 4 for c in comps):
        return None
    hmax = max(c[1] for c in comps)
    vmax = max(c[2] for c in comps)
    if len(comps) == 1:
        hmax = vmax = 1  # a single-component scan is not interleaved: one block per MCU
        comps = [(comps[0][0], 1, 1, comps[0][3])]
    if comps[0][1] != hmax or comps[0][2] != vmax:
        return None  # libjpeg would upsample the luma
    height, width = header["height"], header["width"]
    mcus_x = -(-width // (8 * hmax))
    mcus_y = -(-height // (8 * vmax))
    if sum(c[1] * c[2] for c in comps) > 10:
        return None
    dc_ids = sorted({t[0] for t in header["tables"]})
    ac_ids = sorted({t[1] for t in header["tables"]})
    try:
        dc_specs = tuple(header["dc_specs"][i] for i in dc_ids)
        dc, ac = _stacked(dc_specs, tuple(header["ac_specs"][i] for i in ac_ids))
    except (KeyError, _Unsupported):
        return None
    if any(max(symbols, default=0) > 15 for _counts, symbols in dc_specs):
        return None  # libjpeg refuses a DC table with a symbol over 15
    if any(c[3] not in header["quant"] for c in comps):
        return None  # libjpeg wants every component's table, the chroma's too
    q0 = header["quant"][comps[0][3]]
    if q0 > 32767:  # libjpeg keeps quantisers as 16-bit signed numbers
        return None
    block_comp, block_dc, block_ac, block_dy, block_dx = [], [], [], [], []
    for ci, (_, h, v, _) in enumerate(comps):
        for i in range(h * v):
            block_comp.append(ci)
            block_dc.append(dc_ids.index(header["tables"][ci][0]))
            block_ac.append(ac_ids.index(header["tables"][ci][1]))
            block_dy.append(i // h if ci == 0 else -1)
            block_dx.append(i % h if ci == 0 else -1)

    buf = np.frombuffer(data, dtype=np.uint8)
    restart = header["restart"]
    mcu_count = mcus_x * mcus_y
    intervals = -(-mcu_count // restart) if restart else 1
    entropy = np.empty(buf.shape[0] + _PADDING, dtype=np.uint8)
    seg_start = np.zeros(intervals + 1, dtype=np.int64)
    segs = _unstuff(buf, header["scan_start"], entropy, seg_start, restart)
    if segs != intervals:
        return None
    # the bytes after the data must be zeros: libjpeg reads zeros past the end of a scan
    entropy[seg_start[-1] : seg_start[-1] + _PADDING] = 0
    out = np.empty((-(-height // 8), -(-width // 8)), dtype=np.uint8)
    failed = _decode(
        entropy,
        seg_start,
        restart or mcu_count,
        mcu_count,
        np.array(block_comp, dtype=np.int64),
        np.array(block_dc, dtype=np.int64),
        np.array(block_ac, dtype=np.int64),
        np.array(block_dy, dtype=np.int64),
        np.array(block_dx, dtype=np.int64),
        *dc,
        *ac,
        LOOKAHEAD,
        len(comps),
        q0,
        _RANGE,
        out,
    )
    return None if failed else out
