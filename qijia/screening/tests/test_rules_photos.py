"""duplicate_photo through the engine: pairs across applications, never within one."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import numpy as np
import pytest

from qijia.screening import photogen
from qijia.screening.engine import load_for_screening, screen
from qijia.screening.report import render_report
from qijia.screening.tests.bundlekit import application, enterprise, uscc, write_bundle

AS_OF = dt.date(2025, 6, 30)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(5)
    src = photogen.source_photo(11, (480, 360))
    mirrored, ext, _ = photogen.transformed_copy(src, ["mirror", "resize"], rng)
    return {
        "photos/a1_site.jpg": photogen.encode(src, "JPEG", 90, exif=True),
        f"photos/a2_copy.{ext}": mirrored,
        "photos/a2_other.jpg": photogen.encode(photogen.source_photo(12, (480, 360))),
        "photos/a3_decoy.jpg": photogen.encode(photogen.decoy_photo(11, "shifted", 0, (480, 360))),
        "photos/a1_again.png": photogen.encode(src, "PNG"),
        "photos/a4_turned.jpg": photogen.encode(photogen.decoy_photo(11, "turned", 0, (480, 360))),
        "photos/a5_tilted.jpg": photogen.encode(photogen.decoy_photo(11, "tilted", 0, (480, 360))),
    }


def test_copies_across_applications_give_one_finding_on_each_side_decoys_none(tmp_path, images):
    names = list(images)
    root = write_bundle(
        tmp_path / "b",
        enterprises=[enterprise(k) for k in range(1, 6)],
        applications=[application(f"A{k}", uscc(k)) for k in range(1, 6)],
        photos=[
            {"application_id": "A1", "file": names[0], "caption": "现场"},
            {"application_id": "A2", "file": names[1], "caption": "<b>现场</b>"},
            {"application_id": "A2", "file": names[2], "caption": ""},
            {"application_id": "A3", "file": names[3], "caption": ""},
            {"application_id": "A1", "file": names[4], "caption": "同一申报内的副本"},
            {"application_id": "A4", "file": names[5], "caption": "转了两度的另一张"},
            {"application_id": "A5", "file": names[6], "caption": "仰拍的另一张"},
        ],
        images=images,
    )
    bundle, prints, digests = load_for_screening(root, cache_dir=tmp_path / "cache.sqlite3")
    found = [
        f
        for f in screen(bundle, AS_OF, prints=prints, digests=digests)
        if f.kind == "duplicate_photo"
    ]
    got = {
        (
            f.application_id,
            f.evidence["file"],
            f.evidence["other_application_id"],
            f.evidence["other_file"],
        )
        for f in found
    }
    assert got == {
        ("A1", names[0], "A2", names[1]),
        ("A2", names[1], "A1", names[0]),
        ("A1", names[4], "A2", names[1]),
        ("A2", names[1], "A1", names[4]),
    }
    assert all(f.severity == "high" for f in found)


def test_a_copy_between_two_applications_of_one_enterprise_is_a_finding(tmp_path, images):
    names = list(images)
    root = write_bundle(
        tmp_path / "b",
        enterprises=[enterprise(1)],
        applications=[application("A1", uscc(1)), application("A2", uscc(1))],
        photos=[
            {"application_id": "A1", "file": names[0], "caption": ""},
            {"application_id": "A2", "file": names[1], "caption": ""},
        ],
        images={names[0]: images[names[0]], names[1]: images[names[1]]},
    )
    bundle, prints, digests = load_for_screening(root, cache_dir=tmp_path / "cache.sqlite3")
    found = screen(bundle, AS_OF, prints=prints, digests=digests)
    assert sorted(
        (f.application_id, f.evidence["other_application_id"])
        for f in found
        if f.kind == "duplicate_photo"
    ) == [("A1", "A2"), ("A2", "A1")]


def test_fingerprints_are_cached_by_content(tmp_path, images, monkeypatch):
    """One decode per content: a second file with the same bytes and a second run decode
    nothing more."""
    from qijia.screening import engine, photos

    data = images["photos/a1_site.jpg"]
    root = write_bundle(
        tmp_path / "b",
        enterprises=[enterprise(1), enterprise(2)],
        applications=[application("A1", uscc(1)), application("A2", uscc(2))],
        photos=[
            {"application_id": "A1", "file": "photos/a1_site.jpg", "caption": ""},
            {"application_id": "A2", "file": "photos/same_bytes.jpg", "caption": ""},
        ],
        images={"photos/a1_site.jpg": data, "photos/same_bytes.jpg": data},
    )
    decoded: list[str] = []
    real_job = engine._fingerprint_job

    def counting_job(job):
        decoded.append(job[2])
        return real_job(job)

    monkeypatch.setattr(engine, "_fingerprint_job", counting_job)
    cache_file = tmp_path / "cache.sqlite3"
    load_for_screening(root, cache_dir=cache_file)
    assert len(photos.FingerprintCache(cache_file)) == 1
    assert decoded == ["photos/a1_site.jpg"]

    decoded.clear()
    bundle, prints, digests = load_for_screening(root, cache_dir=cache_file)
    assert decoded == []
    assert prints["photos/a1_site.jpg"] is prints["photos/same_bytes.jpg"]
    assert (
        digests["photos/same_bytes.jpg"]
        == hashlib.sha256((root / "photos" / "same_bytes.jpg").read_bytes()).hexdigest()
    )
    # the same bytes are the same photograph, and the evidence says why
    found = [
        f
        for f in screen(bundle, AS_OF, prints=prints, digests=digests)
        if f.kind == "duplicate_photo"
    ]
    assert [
        (f.application_id, f.evidence["method"], f.evidence["identical_content"]) for f in found
    ] == [
        ("A1", "identical_content", True),
        ("A2", "identical_content", True),
    ]


def _three_applications(tmp_path, images, files=(0, 1, 2)):
    """A bundle of applications A1-A3, one photo each: ``images``' entries at ``files``."""
    names = [list(images)[k] for k in files]
    return write_bundle(
        tmp_path / "b",
        enterprises=[enterprise(k) for k in range(1, 4)],
        applications=[application(f"A{k}", uscc(k)) for k in range(1, 4)],
        photos=[
            {"application_id": f"A{k + 1}", "file": name, "caption": ""}
            for k, name in enumerate(names)
        ],
        images={name: images[name] for name in names},
    )


def test_findings_name_photos_by_sha256_computed_only_for_their_files(
    tmp_path, images, monkeypatch
):
    from qijia.screening import engine

    root = _three_applications(tmp_path, images)
    names = list(images)
    bundle, prints, digests = load_for_screening(root, cache_dir=tmp_path / "cache.sqlite3")
    hashed: list[int] = []
    real = hashlib.sha256
    monkeypatch.setattr(
        engine,
        "hashlib",
        type("H", (), {"sha256": staticmethod(lambda b: hashed.append(1) or real(b))}),
    )
    found = [
        f
        for f in screen(bundle, AS_OF, prints=prints, digests=digests)
        if f.kind == "duplicate_photo"
    ]
    assert {f.evidence["file"] for f in found} == {names[0], names[1]}
    for f in found:
        for key, file in (("sha256", "file"), ("other_sha256", "other_file")):
            content = (root / f.evidence[file]).read_bytes()
            assert f.evidence[key] == real(content).hexdigest()
    assert len(hashed) == 2  # the two files in findings, each once; not the third


def test_a_photo_changed_while_it_is_screened_is_reported_not_described(
    tmp_path, images, monkeypatch, capsys
):
    """The SHA-256 in a finding is of the bytes that were screened, or the run stops (exit 2)."""
    from qijia.screening import engine
    from qijia.screening.bundle import BundleError
    from qijia.screening.cli import main

    root = _three_applications(tmp_path, images)
    names = list(images)
    cache = tmp_path / "cache.sqlite3"
    bundle, prints, digests = load_for_screening(root, cache_dir=cache)
    (root / names[1]).write_bytes(images[names[2]])
    with pytest.raises(BundleError) as raised:
        screen(bundle, AS_OF, prints=prints, digests=digests)
    assert [(p.line, p.message) for p in raised.value.problems] == [
        (3, f"照片文件“{names[1]}”在筛查期间被改动，请重新筛查")
    ]
    bundle, prints, digests = load_for_screening(root, cache_dir=cache)
    (root / names[1]).unlink()  # removed while being screened (it now pairs with names[2])
    with pytest.raises(BundleError) as raised:
        screen(bundle, AS_OF, prints=prints, digests=digests)
    assert [p.line for p in raised.value.problems] == [3]

    # read once by this process and once more (other bytes) by the fingerprinting worker
    (root / names[1]).write_bytes(images[names[3]])
    real_job = engine._fingerprint_job

    def rewriting_job(job):
        (root / job[2]).write_bytes(images[names[4]])
        return real_job(job)

    monkeypatch.setattr(engine, "_fingerprint_job", rewriting_job)
    out = tmp_path / "findings.json"
    assert (
        main(["screen", str(root), "--out", str(out), "--cache", str(cache), "--no-progress"]) == 2
    )
    assert not out.exists()
    assert f"照片文件“{names[1]}”在筛查期间被改动" in capsys.readouterr().err


def test_zip_bundle_fingerprinted_in_worker_processes_finds_the_same_pairs(tmp_path, images):
    import zipfile

    from qijia.screening.bundle import load_bundle
    from qijia.screening.engine import fingerprint_photos

    names = list(images)
    root = write_bundle(
        tmp_path / "b",
        enterprises=[enterprise(1), enterprise(2)],
        applications=[application("A1", uscc(1)), application("A2", uscc(2))],
        photos=[
            {"application_id": "A1", "file": names[0], "caption": ""},
            {"application_id": "A2", "file": "./" + names[1], "caption": ""},
        ],
        images={names[0]: images[names[0]], names[1]: images[names[1]]},
    )
    archive = tmp_path / "b.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in root.rglob("*"):
            if path.is_file():
                zf.write(path, path.relative_to(root).as_posix())
    bundle = load_bundle(archive)
    prints, digests, problems = fingerprint_photos(
        bundle, cache_dir=tmp_path / "c.sqlite3", workers=2
    )
    assert problems == []
    found = screen(bundle, AS_OF, prints=prints, digests=digests)
    assert {(f.application_id, f.evidence["file"]) for f in found} == {
        ("A1", names[0]),
        ("A2", "./" + names[1]),
    }


@pytest.mark.parametrize("parallel_from", [10**9, 1])  # in process, and in worker processes
def test_photo_verification_shows_its_progress(tmp_path, images, monkeypatch, parallel_from):
    """The verification of candidate pairs, the longest stage at city scale, has a progress bar
    that sees every pair, in process and from the workers; the findings do not change."""
    from qijia.screening.photos import pairs

    root = _three_applications(tmp_path, images, (0, 1, 4))
    bundle, prints, digests = load_for_screening(root, cache_dir=tmp_path / "cache.sqlite3")
    bars: list[tuple[str, int, int]] = []

    def progress(iterable, total=None, desc="", unit=""):
        seen = []
        for item in iterable:
            seen.append(item)
            yield item
        bars.append((desc, total, len(seen)))

    monkeypatch.setattr(pairs, "PARALLEL_MIN_PAIRS", parallel_from)
    with_bar = screen(bundle, AS_OF, prints=prints, digests=digests, progress=progress)
    without = screen(bundle, AS_OF, prints=prints, digests=digests)
    shown = [bar for bar in bars if bar[0] == "照片比对"]
    assert len(shown) == 1 and shown[0][1] == shown[0][2] == 3  # three copies of one photo
    assert [f.as_json() for f in with_bar] == [f.as_json() for f in without]
    assert len([f for f in with_bar if f.kind == "duplicate_photo"]) == 6


def test_two_copies_of_one_original_are_a_pair_through_it_with_the_chain_as_evidence(tmp_path):
    """Copies cropped from opposite sides (each keeps 80%, neither contains the other): the
    verifier cannot pair them directly, but both are the original's copies, so they are the
    same photograph, and the finding names the original between them."""
    src = photogen.source_photo(21, (500, 375))
    w, h = src.size
    images = {
        "photos/o.jpg": photogen.encode(src, "JPEG", 92),
        "photos/left.jpg": photogen.encode(src.crop((0, 0, int(w * 0.8), h)), "JPEG", 85),
        "photos/right.png": photogen.encode(src.crop((int(w * 0.2), 0, w, h)), "PNG"),
    }
    root = write_bundle(
        tmp_path / "b",
        enterprises=[enterprise(k) for k in range(1, 4)],
        applications=[application(f"A{k}", uscc(k)) for k in range(1, 4)],
        photos=[
            {"application_id": app, "file": name, "caption": ""}
            for app, name in zip(("A1", "A2", "A3"), images, strict=True)
        ],
        images=images,
    )
    bundle, prints, digests = load_for_screening(root, cache_dir=tmp_path / "cache.sqlite3")
    found = {
        (f.application_id, f.evidence["other_application_id"]): f
        for f in screen(bundle, AS_OF, prints=prints, digests=digests)
        if f.kind == "duplicate_photo"
    }
    assert set(found) == {(a, b) for a in ("A1", "A2", "A3") for b in ("A1", "A2", "A3") if a != b}
    assert found[("A1", "A2")].evidence["method"] != "transitive"
    chained = found[("A2", "A3")]
    assert chained.evidence["method"] == "transitive"
    assert chained.evidence["via"] == [{"application_id": "A1", "file": "photos/o.jpg"}]
    assert "经由申报 A1 的照片“photos/o.jpg”" in chained.summary
    assert found[("A3", "A2")].evidence["file"] == "photos/right.png"
    html = render_report(bundle, [chained], AS_OF)
    # the chain's photos in order, each shown, so a reviewer can check every link
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", html)
    assert captions == [
        "本申报：photos/left.jpg",
        "经由申报 A1：photos/o.jpg",
        "申报 A3：photos/right.png",
    ]
    assert html.count('<img src="data:image/') == 3
    assert "相邻两张照片均已逐一核验为同一张照片" in html


def test_chains_are_shortest_between_photos_not_paired_directly_and_stay_in_components():
    from qijia.screening.detectors.photos import _chains

    # 0-1-2-3 in a line, 1-3 also paired; 4-5 apart
    chains = _chains([(0, 1), (1, 2), (2, 3), (1, 3), (4, 5)])
    assert chains == {(0, 2): [1], (0, 3): [1]}
    assert _chains([(0, 1), (2, 3)]) == {}
    assert _chains([]) == {}


def test_chains_of_three_pairs_and_a_picture_on_hundreds_of_applications():
    from qijia.screening.detectors.photos import _chains

    assert _chains([(0, 1), (1, 2), (2, 3)]) == {(0, 2): [1], (0, 3): [1, 2], (1, 3): [2]}
    clique = [(a, b) for a in range(400) for b in range(a + 1, 400)]
    assert _chains(clique) == {}
    star = [(0, k) for k in range(1, 400)]
    chains = _chains(star)
    assert len(chains) == 399 * 398 // 2
    assert chains[(7, 300)] == [0]
