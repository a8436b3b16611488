"""A phone's portrait photo: landscape pixels plus an EXIF orientation tag.

A copy sent through a messenger or an editor has the turn applied and the tag removed; a copy that
only lost its metadata keeps the stored pixels. Both are the same photograph.
"""

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from qijia.screening import photogen as g
from qijia.screening import photos as P


def _tagged(img: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    img.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def _shown_copy(data: bytes, scale: float = 0.7) -> bytes:
    """What a messenger sends on: turned as shown, smaller, re-encoded, no metadata."""
    with Image.open(io.BytesIO(data)) as img:
        shown = ImageOps.exif_transpose(img)
    size = (round(shown.width * scale), round(shown.height * scale))
    return g.encode(shown.resize(size, Image.Resampling.LANCZOS), "JPEG", 80)


@pytest.fixture(scope="module")
def scene() -> Image.Image:
    return g.source_photo(4242, (640, 480))


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_a_turned_copy_of_a_tagged_photo_is_found(scene, orientation):
    original = P.fingerprint_bytes(_tagged(scene, orientation))
    copy = P.fingerprint_bytes(_shown_copy(_tagged(scene, orientation)))
    assert original.orientation == orientation and copy.orientation == 1
    assert P.compare(original, copy) is None  # the stored pixels alone do not match

    pairs = P.find_duplicate_pairs([("original", original), ("copy", copy)])

    assert [(a, b) for a, b, _e in pairs] == [("original", "copy")]
    assert pairs[0][2]["upright"] == ["a"]


def test_a_copy_that_only_lost_its_metadata_is_still_found(scene):
    original = P.fingerprint_bytes(_tagged(scene, 6))
    stripped = P.fingerprint_bytes(g.encode(scene, "JPEG", 85))  # same stored pixels, no tag

    pairs = P.find_duplicate_pairs([("original", original), ("stripped", stripped)])

    assert [(a, b) for a, b, _e in pairs] == [("original", "stripped")]
    assert "upright" not in pairs[0][2]


def test_a_tagged_photo_is_not_paired_with_itself_or_an_unrelated_one(scene):
    original = P.fingerprint_bytes(_tagged(scene, 6))
    other = P.fingerprint_bytes(_shown_copy(_tagged(g.source_photo(77, (640, 480)), 6)))

    assert P.find_duplicate_pairs([("original", original), ("other", other)]) == []


def test_the_photo_index_finds_the_turned_copy_both_ways(scene):
    original = P.fingerprint_bytes(_tagged(scene, 8))
    copy = P.fingerprint_bytes(_shown_copy(_tagged(scene, 8)))
    stored_tagged = P.PhotoIndex()
    stored_tagged.add(["tagged"], [original])
    stored_copy = P.PhotoIndex()
    stored_copy.add(["copy"], [copy])

    assert len(stored_tagged) == 1
    assert [(q, key) for q, key, _e in stored_tagged.query([copy])] == [(0, "tagged")]
    assert [(q, key) for q, key, _e in stored_copy.query([original])] == [(0, "copy")]


def test_orientation_survives_the_fingerprint_cache(scene):
    fp = P.fingerprint_bytes(_tagged(scene, 6))
    back = P.PhotoPrint.from_bytes(fp.to_bytes())
    assert back.orientation == 6
    view = P.upright_view(back)
    assert view is not None and (view.width, view.height) == (fp.height, fp.width)
    assert np.array_equal(view.thumb, np.rot90(fp.thumb, -1))
    assert P.upright_view(P.fingerprint_bytes(g.encode(scene))) is None
