"""A baseline or progressive JPEG's luma at 1/8 scale, read from the DC coefficients alone.

libjpeg-turbo's 1/8-scale decode (``Image.draft``) still spends almost all its time in the entropy
pass: it decodes every AC coefficient's Huffman code one at a time, with a hard-to-predict branch
per code, only to drop the value. That pass is also most of a full-size decode, so the 1/8 decode
was only 1.9 to 2.8 times faster than a full one. No library offers a faster entropy pass (PyTurboJPEG,
simplejpeg, jpegio and jpeglib all call libjpeg), hence this module.

Here the AC codes are skipped through a multi-symbol table: one lookup of the next ``AC_LOOKAHEAD``
bits tells how many bits the whole run of AC codes (with their value bits) in them takes, how far
it moves along the block and whether it ends the block with an EOB, so a block's AC coefficients
cost about a third as many lookups and no branch per code. Only the DC differences are decoded
into values, and the luma's are turned into pixels exactly as libjpeg's 1x1 inverse DCT does:
the result is byte-identical to ``draft("L", ...)`` at 1/8 scale (tested against Pillow).

A progressive file keeps its DC coefficients in scans of their own: those are read (a first scan
of each block's DC code, refinement scans of one bit per block) and the AC scans are passed over
without being decoded, which libjpeg cannot do: a 12-megapixel progressive photo takes 4 ms here
against 87 ms through Pillow.

Read here: baseline, extended sequential and progressive Huffman JPEGs of 8-bit samples,
greyscale or YCbCr with the luma at full sampling, with or without restart markers, ending with
the end-of-image marker; a sequential file's one scan of every component, a progressive file's
DC scans of every component (as libjpeg's progression and its encoders write them). Anything
else, anything libjpeg would refuse, and any stream that does not decode cleanly to the last
block give ``None``, and the caller decodes the file through Pillow as before.
"""

from __future__ import annotations

import functools

import numba
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.cpython.unsafe.numbers import trailing_zeros
from numba.extending import intrinsic

# Bits looked at per table lookup. A DC code with its value bits fits in 12 almost always (a DC
# table is then 8 KB). An AC table of 13 bits (16 KB, uint16 entries) skips more codes a lookup:
# 4-8% faster than 12 on an AMD EPYC with 48 KB of L1 data cache, and 14 (32 KB) no faster
# than 13 (docs/screening.md); on CPUs with 32 KB, 13-16 bits were no faster than 12. Since AC
# value bits may run past the lookahead (_multi_table), 12, 13 and 14 are within noise of each
# other on an Intel Xeon with 48 KB.
DC_LOOKAHEAD = 12
AC_LOOKAHEAD = 13


class _Unsupported(Exception):
    """Not a file this decoder reads; the caller falls back to Pillow."""


def _canonical_codes(counts: bytes, symbols: bytes) -> list[tuple[int, int, int]]:
    """(length, code, symbol) of a table's canonical Huffman codes; raises _Unsupported where
    libjpeg's jpeg_make_d_derived_tbl stops (more codes of a length than fit)."""
    codes = []
    code = 0
    k = 0
    for length in range(1, 17):
        for _ in range(counts[length - 1]):
            if k >= len(symbols) or code >= 1 << length:
                raise _Unsupported("bad Huffman table")
            codes.append((length, code, symbols[k]))
            code += 1
            k += 1
        code <<= 1
    return codes


def _code_table(counts: bytes, symbols: bytes) -> np.ndarray:
    """(length << 8 | symbol) for every 16-bit prefix of a canonical Huffman code; 0 if invalid."""
    table = np.zeros(1 << 16, dtype=np.int32)
    for length, code, symbol in _canonical_codes(counts, symbols):
        lo = code << (16 - length)
        table[lo : lo + (1 << (16 - length))] = length << 8 | symbol
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
    """For every ``bits``-bit prefix, the run of whole AC codes in it: bits used with their
    value bits (0-5), coefficients moved, plus 128 if the run ends with an EOB (6-13).
    Prefixes whose first code does not fit say "moved 64", which no block allows.

    A code's value bits may run past the prefix: the decoder skips AC values, never reads them,
    and has at least 56 bits when it shifts. Counting only the codes against the prefix sends
    the large coefficients of detailed photos down the fast path too: 6-11% faster decode."""
    size = 1 << bits
    out = np.empty(size, dtype=np.uint16)
    for v in range(size):
        used = 0
        moved = 0
        while True:
            entry = single[((v << used) & (size - 1)) << (16 - bits)]
            length = entry >> 8
            symbol = entry & 255
            if length == 0 or used + length > bits:
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
def _dc_stacked(dc_specs: tuple[tuple[bytes, bytes], ...]) -> tuple[np.ndarray, np.ndarray]:
    """A scan's DC tables (single-code, lookahead), stacked in the order of their table ids.
    Cameras write the same tables into every file, so they are built once per process."""
    if any(max(symbols, default=0) > 15 for _counts, symbols in dc_specs):
        raise _Unsupported("DC symbol")  # libjpeg refuses a DC table with a symbol over 15
    single = [_code_table(*spec) for spec in dc_specs]
    return np.stack(single), np.stack([_dc_table(t, DC_LOOKAHEAD) for t in single])


@functools.lru_cache(maxsize=32)
def _ac_stacked(ac_specs: tuple[tuple[bytes, bytes], ...]) -> tuple[np.ndarray, np.ndarray]:
    """A scan's AC tables (single-code, multi-code), stacked in the order of their table ids."""
    single = [_code_table(*spec) for spec in ac_specs]
    return np.stack(single), np.stack([_multi_table(t, AC_LOOKAHEAD) for t in single])


# A progressive JPEG's DC scan through _decode: every block's AC lookup says "end of block"
# without reading a bit (used 0, an EOB: 128 << 6).
_NO_AC = (
    np.zeros((1, 1 << 16), dtype=np.int32),
    np.full((1, 1 << AC_LOOKAHEAD), 128 << 6, dtype=np.uint16),
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
    dc_fast,  # uint16 (n, 1 << dc_lookahead), see _dc_table
    ac_single,  # int32 (n, 65536)
    ac_multi,  # uint16 (n, 1 << ac_lookahead), see _multi_table
    dc_lookahead,
    ac_lookahead,
    components,
    al,  # a progressive DC scan's point transform: its values are stored shifted by it
    coef,  # int16 (ceil(h / 8), ceil(w / 8)): the luma's DC coefficients as libjpeg stores them
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
    dc_top = np.uint64(64 - dc_lookahead)
    ac_top = np.uint64(64 - ac_lookahead)
    n_blocks = block_comp.shape[0]
    rows, cols = coef.shape
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
                e = dc_fast[block_dc[b], acc >> dc_top]
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
                        coef[y, x] = pred[c] << al  # (a 16-bit JCOEF: it wraps as libjpeg's)
                t = block_ac[b]
                k = 1
                # k: the next coefficient; 64 when the 63rd was the last, 128 + where an EOB was
                while k < 64:
                    e = ac_multi[t, acc >> ac_top]
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


@numba.njit(cache=True, nogil=True, inline="always")
def _marker_after(buf, i):  # pragma: no cover - compiled
    """The 0xFF at ``i`` in entropy-coded data: where the byte after it and its fill bytes is
    (0 for a stuffed 0xFF, a restart or another marker), or the end of ``buf``. How libjpeg's
    fill_bit_buffer reads it; the one place that rule lives."""
    m = i + 1
    while m < buf.shape[0] and buf[m] == 0xFF:
        m += 1
    return m


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
        m = _marker_after(buf, i)
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


@numba.njit(cache=True, nogil=True)
def _dc_refine(
    data, seg_start, mcus_per_seg, mcu_count, block_dy, block_dx, bit, coef
):  # pragma: no cover - compiled
    """A progressive JPEG's DC refinement scan: one raw bit per block of every MCU, which sets
    ``bit`` in the luma's coefficients (libjpeg's decode_mcu_DC_refine). Returns 0, or 1 + the
    MCU where the scan ran past its interval."""
    rows, cols = coef.shape
    n_blocks = block_dy.shape[0]
    mcu_w = block_dx.max() + 1
    mcu_h = block_dy.max() + 1
    mcus_x = -(-cols // mcu_w)
    mcu = 0
    mcu_y = 0
    mcu_x = 0
    for seg in range(seg_start.shape[0] - 1):
        at = seg_start[seg] * 8
        end_bits = seg_start[seg + 1] * 8
        last = min(mcu + mcus_per_seg, mcu_count)
        while mcu < last:
            for b in range(n_blocks):
                if (data[at >> 3] >> (7 - (at & 7))) & 1 and block_dy[b] >= 0:
                    y = mcu_y + block_dy[b]
                    x = mcu_x + block_dx[b]
                    if y < rows and x < cols:
                        coef[y, x] |= bit
                at += 1
            mcu += 1
            mcu_x += mcu_w
            if mcu_x >= mcus_x * mcu_w:
                mcu_x = 0
                mcu_y += mcu_h
            if at > end_bits:
                return mcu
    return 0


@numba.njit(cache=True, nogil=True)
def _pixels(coef, q0, range_limit):  # pragma: no cover - compiled
    """libjpeg's 1x1 inverse DCT (jidctred.c) of each DC coefficient: over 8, rounded, then its
    range limit."""
    out = np.empty(coef.shape, dtype=np.uint8)
    for y in range(coef.shape[0]):
        for x in range(coef.shape[1]):
            out[y, x] = range_limit[((np.int64(coef[y, x]) * q0 + 4) >> 3) & 1023]
    return out


@numba.njit(cache=True, nogil=True)
def _entropy_end(buf, start):  # pragma: no cover - compiled
    """Where the entropy-coded data from ``start`` ends: the first marker other than a stuffed
    zero or a restart marker (its 0xFF, after any fill bytes), or -1 if there is none."""
    n = buf.shape[0]
    i = start
    while i < n:
        if buf[i] != 0xFF:
            i += 1
            continue
        m = _marker_after(buf, i)
        if m >= n:
            return -1
        if buf[m] != 0 and not 0xD0 <= buf[m] <= 0xD7:
            return i
        i = m + 1
    return -1


class _State:
    """What the marker segments read so far define: the frame, the tables, the restart
    interval and the colour markers (they may change between a progressive file's scans)."""

    def __init__(self) -> None:
        self.frame: tuple[int, int, list[tuple[int, int, int, int]]] | None = None
        self.progressive = False
        self.dc_specs: dict[int, tuple[bytes, bytes]] = {}
        self.ac_specs: dict[int, tuple[bytes, bytes]] = {}
        self.quant: dict[int, int] = {}
        self.restart = 0
        self.jfif = False
        self.adobe: int | None = None


def _next_segments(data: bytes, pos: int, state: _State) -> tuple[int, bytes, int]:
    """Read marker segments from ``pos`` into ``state`` up to a start of scan or the end of the
    image: returns (0xDA, the scan header, where its data starts) or (0xD9, b"", after it).
    Raises _Unsupported for what this decoder does not read or libjpeg refuses."""
    n = len(data)
    while True:
        while pos < n and data[pos] != 0xFF:
            pos += 1  # libjpeg skips garbage between segments (with a warning)
        while pos < n and data[pos] == 0xFF:
            pos += 1
        if pos >= n:
            raise _Unsupported("no end of image")
        marker = data[pos]
        pos += 1
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue  # libjpeg passes over a stray restart marker or TEM
        if marker == 0xD9:
            return marker, b"", pos
        if marker not in _KNOWN_MARKERS:
            raise _Unsupported(f"marker {marker:#x}")  # libjpeg stops (a second SOI, or unknown)
        if pos + 2 > n:
            raise _Unsupported("truncated segment")
        length = int.from_bytes(data[pos : pos + 2], "big")
        body = data[pos + 2 : pos + length]
        if length < 2 or len(body) != length - 2:
            raise _Unsupported("truncated segment")
        pos += length
        if marker in (0xC0, 0xC1, 0xC2):
            if state.frame is not None or body[0] != 8:
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
            state.frame = (height, width, comps)
            state.progressive = marker == 0xC2
        elif 0xC3 <= marker <= 0xCF and marker not in (0xC4, 0xCC):  # (0xC8, JPG, too)
            raise _Unsupported("not a Huffman JPEG of DCT blocks")
        elif marker == 0xC4:
            p = 0
            while p < len(body):
                tc, th = body[p] >> 4, body[p] & 15
                counts = bytes(body[p + 1 : p + 17])
                total = sum(counts)
                symbols = bytes(body[p + 17 : p + 17 + total])
                if tc > 1 or th > 3 or len(counts) != 16 or len(symbols) != total or total > 256:
                    raise _Unsupported("Huffman table")
                (state.ac_specs if tc else state.dc_specs)[th] = (counts, symbols)
                p += 17 + total
        elif marker == 0xDB:
            p = 0
            while p < len(body):
                pq, tq = body[p] >> 4, body[p] & 15
                if pq > 1 or tq > 3 or p + 1 + 64 * (pq + 1) > len(body):
                    raise _Unsupported("quantisation table")
                state.quant[tq] = int.from_bytes(body[p + 1 : p + 2 + pq], "big")
                p += 1 + 64 * (pq + 1)
        elif marker == 0xCC:
            # DAC, arithmetic coding's conditioning: libjpeg reads and checks it even in a
            # Huffman file (jdmarker.c get_dac: whole pairs, a table index under 32, a DC
            # table's lower bound not above its upper)
            pairs = zip(body[::2], body[1::2], strict=False)
            if len(body) % 2 or any(i >= 32 or (i < 16 and v & 15 > v >> 4) for i, v in pairs):
                raise _Unsupported("arithmetic conditioning")
        elif marker == 0xDD:
            if len(body) != 2:
                raise _Unsupported("restart interval")
            state.restart = int.from_bytes(body, "big")
        elif marker == 0xE0 and body[:5] == b"JFIF\x00":
            state.jfif = True
        elif marker == 0xEE and body[:5] == b"Adobe" and len(body) >= 12:
            state.adobe = body[11]
        elif marker == 0xDA:
            if state.frame is None:
                raise _Unsupported("no frame")
            return marker, body, pos


def _scan_header(body: bytes, ids: list[int]) -> tuple[list[int], list[tuple[int, int]], tuple]:
    """A scan header's components (their places in the frame), their (DC, AC) table ids and
    (Ss, Se, Ah, Al); raises _Unsupported where libjpeg's get_sos stops."""
    ns = body[0] if body else 0
    if not 1 <= ns <= 4 or len(body) != 4 + 2 * ns:
        raise _Unsupported("scan header")
    places = [ids.index(c) if c in ids else -1 for c in body[1 : 1 + 2 * ns : 2]]
    if -1 in places or len(set(places)) != ns:
        raise _Unsupported("scan components")
    tables = [(body[2 + 2 * i] >> 4, body[2 + 2 * i] & 15) for i in range(ns)]
    return places, tables, (body[-3], body[-2], body[-1] >> 4, body[-1] & 15)


def _segments(data: bytes) -> dict:
    """The header fields this decoder needs, up to the first scan; raises _Unsupported for
    anything else."""
    if data[:2] != b"\xff\xd8":
        raise _Unsupported("not a JPEG")
    state = _State()
    marker, body, pos = _next_segments(data, 2, state)
    if marker != 0xDA or state.frame is None:
        raise _Unsupported("no scan")
    height, width, comps = state.frame
    ids = [c[0] for c in comps]
    if len(set(ids)) != len(ids):
        raise _Unsupported("frame components")
    places, tables, spectrum = _scan_header(body, ids)
    if not state.progressive and (places != list(range(len(comps))) or spectrum[:3] != (0, 63, 0)):
        raise _Unsupported("not one interleaved baseline scan")
    if len(comps) == 3:
        # libjpeg's guess of the colour space (jdapimin.c): only YCbCr has its luma first.
        rgb = (
            (state.adobe == 0)
            if (not state.jfif and state.adobe is not None)
            else (ids == [82, 71, 66] and not state.jfif)
        )
        if rgb:
            raise _Unsupported("RGB JPEG")
    elif len(comps) != 1:
        raise _Unsupported("components")
    return {
        "height": height,
        "width": width,
        "comps": comps,
        "state": state,
        "places": places,
        "tables": tables,
        "spectrum": spectrum,
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


class _Geometry:
    """The MCU layout of a scan of every component: per block of an MCU its component, and its
    row and column among the luma blocks (-1 for the others), as int64 arrays for the kernels."""

    def __init__(self, height: int, width: int, comps: list[tuple[int, int, int, int]]):
        if not all(1 <= c[1] <= 4 and 1 <= c[2] <= 4 for c in comps):
            raise _Unsupported("sampling factors")  # libjpeg refuses them
        hmax = max(c[1] for c in comps)
        vmax = max(c[2] for c in comps)
        if len(comps) == 1:
            hmax = vmax = 1  # a single-component scan is not interleaved: one block per MCU
            comps = [(comps[0][0], 1, 1, comps[0][3])]
        if comps[0][1] != hmax or comps[0][2] != vmax:
            raise _Unsupported("subsampled luma")  # libjpeg would upsample it
        if sum(c[1] * c[2] for c in comps) > 10:
            raise _Unsupported("MCU size")
        self.mcu_count = -(-width // (8 * hmax)) * -(-height // (8 * vmax))
        self.shape = (-(-height // 8), -(-width // 8))
        blocks = [(ci, h, i) for ci, (_, h, v, _) in enumerate(comps) for i in range(h * v)]
        self.comp = np.array([ci for ci, _h, _i in blocks], dtype=np.int64)
        self.dy = np.array([i // h if ci == 0 else -1 for ci, h, i in blocks], dtype=np.int64)
        self.dx = np.array([i % h if ci == 0 else -1 for ci, h, i in blocks], dtype=np.int64)
        self.components = len(comps)

    def intervals(self, restart: int) -> int:
        return -(-self.mcu_count // restart) if restart else 1


def _unstuffed(
    scan: np.ndarray, start: int, geometry: _Geometry, restart: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """A scan's entropy-coded bytes from ``start`` unstuffed (``scan`` has the end-of-image
    marker right after them), with where each restart interval starts; None unless its
    restart markers are the ones the header promised."""
    intervals = geometry.intervals(restart)
    entropy = np.empty(scan.shape[0] - start + _PADDING, dtype=np.uint8)
    seg_start = np.zeros(intervals + 1, dtype=np.int64)
    if _unstuff(scan, start, entropy, seg_start, restart) != intervals:
        return None
    # the bytes after the data must be zeros: libjpeg reads zeros past the end of a scan
    entropy[seg_start[-1] : seg_start[-1] + _PADDING] = 0
    return entropy, seg_start


def _decoded(
    scan: np.ndarray,
    start: int,
    geometry: _Geometry,
    tables: list[tuple[int, int]],
    state: _State,
    al: int,
    coef: np.ndarray,
    with_ac: bool = True,
) -> bool:
    """Decode a scan of every component (``tables``: each one's DC and AC table ids) into
    ``coef``; False if the stream does not decode cleanly. Without AC (a progressive file's DC
    scan) every block is its DC code alone."""
    unstuffed = _unstuffed(scan, start, geometry, state.restart)
    if unstuffed is None:
        return False
    comp = geometry.comp.tolist()
    dc_ids = sorted({tables[ci][0] for ci in comp})
    dc = _dc_stacked(tuple(state.dc_specs[i] for i in dc_ids))
    block_dc = np.array([dc_ids.index(tables[ci][0]) for ci in comp], dtype=np.int64)
    block_ac = np.zeros(len(comp), dtype=np.int64)
    ac = _NO_AC
    if with_ac:
        ac_ids = sorted({tables[ci][1] for ci in comp})
        ac = _ac_stacked(tuple(state.ac_specs[i] for i in ac_ids))
        block_ac = np.array([ac_ids.index(tables[ci][1]) for ci in comp], dtype=np.int64)
    entropy, seg_start = unstuffed
    failed = _decode(
        entropy,
        seg_start,
        state.restart or geometry.mcu_count,
        geometry.mcu_count,
        geometry.comp,
        block_dc,
        block_ac,
        geometry.dy,
        geometry.dx,
        *dc,
        *ac,
        DC_LOOKAHEAD,
        AC_LOOKAHEAD,
        geometry.components,
        al,
        coef,
    )
    return not failed


def _baseline(buf: np.ndarray, header: dict, geometry: _Geometry, coef: np.ndarray) -> int | None:
    """Read a sequential file's one scan into ``coef``; its luma's quantiser, or None."""
    state = header["state"]
    if any(c[3] not in state.quant for c in header["comps"]):
        return None  # libjpeg wants every component's table, the chroma's too
    if not _decoded(buf, header["scan_start"], geometry, header["tables"], state, 0, coef):
        return None
    return state.quant[header["comps"][0][3]]


_EOI = np.array([0xFF, 0xD9], dtype=np.uint8)


def _progressive(
    data: bytes, buf: np.ndarray, header: dict, geometry: _Geometry, coef: np.ndarray
) -> int | None:
    """Read a progressive file's DC scans into ``coef`` and pass over its AC scans (their data
    is not decoded, only searched for its end); the luma's quantiser, or None.

    The first scan of each component's DC values holds them shifted right by its point
    transform, and refinement scans add one bit per block each (libjpeg's jdphuff.c). Read here
    are DC scans of every component, as libjpeg's own progression and its encoders write them;
    a DC scan of some components goes to Pillow. libjpeg's 1/8-scale output needs nothing else
    (its 1x1 inverse DCT reads the DC coefficient alone) unless it smooths the blocks, which it
    does when the file leaves some of the first nine AC coefficients of a component short of
    their last bit (a file that ends early, or a script that never sends them), and then
    libjpeg-turbo may change the DC too: such files go to Pillow (jdcoefct.c smoothing_ok)."""
    state = header["state"]
    comps = header["comps"]
    ids = [c[0] for c in comps]
    every = list(range(len(comps)))
    latched: dict[int, int] = {}  # a component's quantiser, fixed at its first scan (jdinput.c)
    places, tables, (ss, se, ah, al) = header["places"], header["tables"], header["spectrum"]
    pos = header["scan_start"]
    first_dc = False
    # each component's bits still unknown of coefficients 0-9 (-1: none sent), as libjpeg counts
    # them at each scan's start
    unknown = {place: [-1] * 10 for place in every}
    while True:
        # What libjpeg checks at a scan's start (jdphuff.c) and stops on; the rest it only warns of.
        bad = se != 0 if ss == 0 else ss > se or se > 63 or len(places) != 1
        if bad or (ah != 0 and al != ah - 1) or al > 13:
            return None
        for place in places:
            if place not in latched:
                if comps[place][3] not in state.quant:
                    return None
                latched[place] = state.quant[comps[place][3]]
            for k in range(ss, min(se, 9) + 1):
                unknown[place][k] = al
        end = _entropy_end(buf, pos)
        if end < 0:
            return None
        if ss == 0:
            if places != every:
                return None
            scan = np.concatenate([buf[pos:end], _EOI])
            if ah == 0:
                if not _decoded(scan, 0, geometry, tables, state, al, coef, with_ac=False):
                    return None
                first_dc = True
            else:
                unstuffed = _unstuffed(scan, 0, geometry, state.restart)
                if unstuffed is None or _dc_refine(
                    unstuffed[0],
                    unstuffed[1],
                    state.restart or geometry.mcu_count,
                    geometry.mcu_count,
                    geometry.dy,
                    geometry.dx,
                    1 << al,
                    coef,
                ):
                    return None
        else:
            # passed over, but libjpeg builds the scan's table first and stops if it is bad
            _canonical_codes(*state.ac_specs[tables[0][1]])
        marker, body, pos = _next_segments(data, end, state)
        if marker == 0xD9:
            smoothed = any(bits[1:] != [0] * 9 for bits in unknown.values())
            return latched[0] if first_dc and not smoothed else None
        places, tables, (ss, se, ah, al) = _scan_header(body, ids)


def luma_eighth(data: bytes) -> np.ndarray | None:
    """The luma of a baseline or progressive JPEG at 1/8 scale (``ceil(h/8) x ceil(w/8)``,
    uint8), or None."""
    try:
        header = _segments(data)
        state = header["state"]
        geometry = _Geometry(header["height"], header["width"], header["comps"])
        buf = np.frombuffer(data, dtype=np.uint8)
        coef = np.zeros(geometry.shape, dtype=np.int16)
        if state.progressive:
            q0 = _progressive(data, buf, header, geometry, coef)
        else:
            q0 = _baseline(buf, header, geometry, coef)
    except (_Unsupported, IndexError, KeyError):
        return None
    if q0 is None or q0 > 32767:  # libjpeg keeps quantisers as 16-bit signed numbers
        return None
    return _pixels(coef, q0, _RANGE)
