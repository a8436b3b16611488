"""Fingerprints, unreadable files, the content cache, the Hamming index and photogen."""

from __future__ import annotations

import hashlib
import io
import sqlite3

import blake3
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from qijia.screening import photogen as g
from qijia.screening import photos as P
from qijia.screening.photos import cache as photo_cache
from qijia.screening.photos import fingerprint as fingerprint_module


def _jpeg(size=(320, 240), seed=1) -> bytes:
    return g.encode(g.source_photo(seed, size), "JPEG", 90)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "为空"),
        (b"application_id,file\nA1,x.jpg\n", "不是可识别的图片"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", "不是可识别的图片"),
    ],
)
def test_non_image_content_raises_photo_error_in_chinese(data, words):
    with pytest.raises(P.PhotoError) as err:
        P.fingerprint_bytes(data)
    assert words in err.value.message
    assert err.value.code == "photo_unreadable"


def test_truncated_jpeg_raises_photo_error():
    data = _jpeg()
    with pytest.raises(P.PhotoError) as err:
        P.fingerprint_bytes(data[: len(data) // 3])
    assert "损坏" in err.value.message


def test_unsupported_format_is_named_in_the_error():
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(out, format="GIF")
    with pytest.raises(P.PhotoError) as err:
        P.fingerprint_bytes(out.getvalue())
    assert "GIF" in err.value.message


def test_missing_file_names_the_path(tmp_path):
    missing = tmp_path / "photos" / "nope.jpg"
    with pytest.raises(P.PhotoError) as err:
        P.fingerprint_file(missing)
    assert "nope.jpg" in err.value.message


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_supported_formats_fingerprint_with_thumbnail_and_window_codes(fmt):
    fp = P.fingerprint_bytes(g.encode(g.source_photo(3, (400, 300)), fmt, 90))
    assert (fp.width, fp.height) == (400, 300)
    assert max(fp.thumb.shape) == P.THUMB_SIDE
    assert fp.codes.shape == fp.mirror_codes.shape == (len(P.WINDOWS),)


def test_large_jpeg_is_decoded_at_reduced_size(monkeypatch):
    """An eighth of 2400 x 1800 is decoded: from the DC coefficients, or, when that decoder
    declines the file, by libjpeg through the draft request."""
    from qijia.screening.photos import jpegdc

    seen = {}
    original_load = Image.Image.load
    original_dc = jpegdc.luma_eighth

    def spy_load(self):
        result = original_load(self)
        seen["pillow"] = self.size
        return result

    def spy_dc(blob):
        grey = original_dc(blob)
        seen["dc"] = grey.shape[::-1]
        return grey

    data = g.encode(Image.new("RGB", (2400, 1800), (120, 80, 40)), "JPEG", 90)
    monkeypatch.setattr(Image.Image, "load", spy_load)
    monkeypatch.setattr(jpegdc, "luma_eighth", spy_dc)
    fp = P.fingerprint_bytes(data)
    assert seen == {"dc": (300, 225)}
    assert (fp.width, fp.height) == (2400, 1800)  # the photo's own size, not the decoded one
    monkeypatch.setattr(jpegdc, "luma_eighth", lambda blob: None)
    P.fingerprint_bytes(data)
    assert seen["pillow"] == (300, 225)


def test_print_round_trips_through_bytes():
    fp = P.fingerprint_bytes(_jpeg())
    back = P.PhotoPrint.from_bytes(fp.to_bytes())
    assert back.key == fp.key and (back.width, back.height) == (fp.width, fp.height)
    assert np.array_equal(back.codes, fp.codes)
    assert np.array_equal(back.mirror_codes, fp.mirror_codes)
    assert np.array_equal(back.thumb, fp.thumb)


def test_cache_fingerprints_each_content_once(tmp_path, monkeypatch):
    data = _jpeg()
    (tmp_path / "a.jpg").write_bytes(data)
    (tmp_path / "b.jpg").write_bytes(data)  # same content, another name
    (tmp_path / "c.jpg").write_bytes(_jpeg(seed=2))
    calls = []
    real = P.fingerprint_bytes
    monkeypatch.setattr(
        photo_cache, "fingerprint_bytes", lambda raw, key=None: calls.append(1) or real(raw, key)
    )
    cache = P.FingerprintCache(tmp_path / "cache" / "prints.sqlite")
    first = [P.fingerprint_file(tmp_path / n, cache) for n in ("a.jpg", "b.jpg", "c.jpg")]
    assert len(calls) == 2 and cache.hits == 1 and len(cache) == 2
    cache.close()
    again = P.FingerprintCache(tmp_path / "cache" / "prints.sqlite")  # a later run
    second = [P.fingerprint_file(tmp_path / n, again) for n in ("a.jpg", "c.jpg")]
    assert len(calls) == 2 and again.hits == 2
    assert [fp.key for fp in second] == [first[0].key, first[2].key]
    assert np.array_equal(second[1].thumb, first[2].thumb)


def test_a_print_is_keyed_by_the_content_or_by_its_callers_digest(tmp_path, monkeypatch):
    data = _jpeg()
    expected = P.fingerprint_bytes(data)
    assert expected.key == "blake3:" + blake3.blake3(data).hexdigest() == P.content_key(data)
    assert P.content_key(data[:-1]) != expected.key
    hashed = []
    real = fingerprint_module.content_key
    counting = lambda raw: hashed.append(1) or real(raw)  # noqa: E731
    monkeypatch.setattr(fingerprint_module, "content_key", counting)
    monkeypatch.setattr(photo_cache, "content_key", counting)
    # a caller that keeps the bytes by its own digest (the platform: the stored SHA-256)
    given = P.fingerprint_bytes(data, "sha256:" + hashlib.sha256(data).hexdigest())
    assert hashed == []
    assert given.key == "sha256:" + hashlib.sha256(data).hexdigest()
    cache = P.FingerprintCache(tmp_path / "prints.sqlite")
    through_cache = cache.fingerprint(data)  # keyed once, to look it up, then not again
    cache.close()
    assert hashed == [1]
    assert through_cache.key == expected.key
    for fp in (given, through_cache):
        assert np.array_equal(fp.codes, expected.codes) and np.array_equal(fp.thumb, expected.thumb)


def test_a_cache_of_the_sha256_keyed_format_is_dropped(tmp_path):
    path = tmp_path / "prints.sqlite"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE prints (sha256 TEXT PRIMARY KEY, version INTEGER, data BLOB)")
    old.execute("INSERT INTO prints VALUES ('ab', 5, x'00')")
    old.commit()
    old.close()
    cache = P.FingerprintCache(path)
    fp = cache.fingerprint(_jpeg())
    assert len(cache) == 1 and cache.get(fp.key) is not None
    cache.close()
    tables = sqlite3.connect(path).execute("SELECT name FROM sqlite_master").fetchall()
    assert ("prints",) not in tables


def test_photogen_is_deterministic_for_a_seed():
    assert g.encode(g.source_photo(11, (200, 150))) == g.encode(g.source_photo(11, (200, 150)))
    assert g.encode(g.source_photo(11, (200, 150))) != g.encode(g.source_photo(12, (200, 150)))
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    img = g.source_photo(11, (200, 150))
    assert (
        g.transformed_copy(img, ["crop", "resize"], rng_a)[0]
        == g.transformed_copy(img, ["crop", "resize"], rng_b)[0]
    )


def _brute_force(stored: np.ndarray, queries: np.ndarray, radius: int) -> set[tuple[int, int]]:
    dist = P.hamming(queries[:, None], stored[None, :])
    rows, cols = np.nonzero(dist <= radius)
    return set(zip(rows.tolist(), cols.tolist(), strict=True))


codes_strategy = st.lists(st.integers(min_value=0, max_value=2**64 - 1), min_size=1, max_size=60)


@settings(max_examples=40, deadline=None)
@given(
    base=codes_strategy,
    flips=st.lists(st.lists(st.integers(0, 63), max_size=14), min_size=1, max_size=60),
    radius=st.sampled_from([3, 7, 11]),
)
def test_hash_index_finds_exactly_the_codes_within_the_radius(base, flips, radius):
    stored = np.array(base, dtype=np.uint64)
    queries = []
    for i, bits in enumerate(flips):
        code = int(base[i % len(base)])
        for bit in bits:
            code ^= 1 << bit
        queries.append(code)
    queries = np.array(queries, dtype=np.uint64)
    index = P.HashIndex(radius=radius)
    index.add(stored[: len(stored) // 2])
    index.search(queries[:1])  # builds the tables for the first part
    index.add(stored[len(stored) // 2 :])  # pending: searched by a scan until the next build
    rows, ids, dist = index.search(queries)
    assert set(zip(rows.tolist(), ids.tolist(), strict=True)) == _brute_force(
        stored, queries, radius
    )
    assert len(rows) == len(set(zip(rows.tolist(), ids.tolist(), strict=True)))  # no repeats
    assert np.array_equal(dist, P.hamming(queries[rows], stored[ids]))
    for smaller in range(radius):  # fewer flipped bits per probe, same tables
        rows, ids, _dist = index.search(queries, radius=smaller)
        found = list(zip(rows.tolist(), ids.tolist(), strict=True))
        assert set(found) == _brute_force(stored, queries, smaller), smaller
        assert len(found) == len(set(found)), smaller


@settings(max_examples=25, deadline=None)
@given(base=codes_strategy, radius=st.sampled_from([3, 7, 11]))
def test_hash_index_self_join_reports_each_close_pair_once(base, radius):
    stored = np.array(base + [c ^ 0b1011 for c in base[::3]], dtype=np.uint64)
    index = P.HashIndex(radius=radius)
    index.add(stored)
    i, j, _d = index.self_join()
    expected = {(a, b) for a, b in _brute_force(stored, stored, radius) if a < b}
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == expected
    assert len(i) == len(expected)


@pytest.mark.parametrize(
    "size", [(640, 480), (480, 640), (1000, 563), (333, 500), (1200, 40), (40, 900)]
)
def test_window_hashes_from_the_integral_image_equal_the_reference_bit_for_bit(size):
    """_hashes samples one integral image at bin edges; _phash_windows resizes and transforms
    each window with OpenCV. Both must give the same codes, thin images (the fallback path)
    included."""
    from qijia.screening.photos import fingerprint as F

    img = g.source_photo(21, (640, 480)).resize(size)
    data = g.encode(img, "JPEG", 90)
    thumb = F._grey_thumbnail(F._open(data), data)
    mirror = np.ascontiguousarray(thumb[:, ::-1])
    fast = F._hashes(thumb)
    assert np.array_equal(fast["codes"], F._phash_windows(thumb))
    assert np.array_equal(fast["mirror_codes"], F._phash_windows(mirror))
    assert np.array_equal(fast["extra_codes"], F._phash_windows(thumb, P.EXTRA_WINDOWS))
    assert np.array_equal(fast["extra_mirror_codes"], F._phash_windows(mirror, P.EXTRA_WINDOWS))


def _area_matrix(size: int, out: int) -> np.ndarray:
    """out x size: output pixel o averages source pixels over [o, o + 1) * size / out."""
    scale = size / out
    lo, pixel = np.arange(out)[:, None] * scale, np.arange(size)[None, :]
    return np.clip(np.minimum(pixel + 1, lo + scale) - np.maximum(pixel, lo), 0, None) / scale


@settings(max_examples=40, deadline=None)
@given(
    height=st.integers(8, 900),
    width=st.integers(8, 900),
    seed=st.integers(0, 2**32 - 1),
    smooth=st.booleans(),
)
def test_area_shrink_is_the_rounded_area_average_and_within_a_grey_level_of_opencv(
    height, width, seed, smooth
):
    """The thumbnail's own area shrink is the exact area average rounded (halves up), and no
    pixel is more than one grey level from cv2.INTER_AREA's (float32 weights, and halves
    rounded to even for some whole ratios)."""
    import cv2

    from qijia.screening.photos import fingerprint as F

    rng = np.random.default_rng(seed)
    grey = rng.integers(0, 256, (height, width), dtype=np.uint8)
    if smooth:
        grey = cv2.GaussianBlur(grey, (0, 0), 2)
    scale = F.THUMB_SIDE / max(height, width)
    tw, th = max(round(width * scale), 1), max(round(height * scale), 1)
    if th > height or tw > width:
        return  # enlarged with cv2's cubic interpolation, not shrunk
    ours = F._area_shrink(grey, *F._area_taps(height, th), *F._area_taps(width, tw))
    exact = _area_matrix(height, th) @ grey @ _area_matrix(width, tw).T
    near_half = np.abs(exact - np.floor(exact) - 0.5) < 1e-9
    expected = np.floor(exact + 0.5)
    assert np.array_equal(ours[~near_half], expected[~near_half])
    assert np.abs(ours - exact).max() <= 0.5 + 1e-9
    theirs = cv2.resize(grey, (tw, th), interpolation=cv2.INTER_AREA)
    assert np.abs(ours.astype(int) - theirs).max() <= 1
