"""Loading bundles: what is accepted, and one invalid-bundle test per problem class.

An invalid bundle: ``qijia screen`` exits 2, lists every problem (file, line, column, what), and
writes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest

from qijia.screening import photogen
from qijia.screening.bundle import BundleError, load_bundle
from qijia.screening.cli import main
from qijia.screening.tests.bundlekit import (
    application,
    enterprise,
    invoice,
    uscc,
    write_bundle,
)


def _valid(tmp_path, **kw):
    base = {
        "enterprises": [enterprise(1), enterprise(2)],
        "applications": [application("A1", uscc(1)), application("A2", uscc(2))],
        "invoices": [invoice("A1", "00000001", uscc(2), uscc(1), invoice_code="4400231130")],
    }
    base.update(kw)
    return write_bundle(tmp_path / "bundle", **base)


def _problem_lines(err: str) -> list[str]:
    """The problems _run_invalid printed, one per line, without the heading line."""
    return [x.strip() for x in err.splitlines()[1:] if x.strip()]


def _run_invalid(tmp_path, root, capsys):
    out = tmp_path / "out" / "findings.json"
    report = tmp_path / "out" / "report.html"
    code = main(
        [
            "screen",
            str(root),
            "--out",
            str(out),
            "--report",
            str(report),
            "--as-of",
            "2025-06-30",
            "--no-progress",
            "--cache",
            str(tmp_path / "c.db"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert not out.exists() and not report.exists()
    return err


def _problems(root):
    with pytest.raises(BundleError) as info:
        load_bundle(root)
    return [(p.file, p.line, p.column) for p in info.value.problems]


def test_bom_any_column_order_unknown_columns_and_absent_optional_files_are_accepted(tmp_path):
    """Header names are matched trimmed and in any case."""
    root = tmp_path / "b"
    root.mkdir()
    (root / "manifest.json").write_text(
        '{"format": "qijia-integrity-bundle", "version": 1, "title": "t"}', encoding="utf-8"
    )
    cols = "email,extra, USCC ,name,town,Industry_Code,address,phone,established_on"
    (root / "enterprises.csv").write_bytes(
        (
            "\ufeff" + cols + "\n" + f"a@b.cn,x,{uscc(1)},企业一,镇,C39,路1号,0769-1,2010-01-01\n\n"
        ).encode("utf-8")
    )
    bundle = load_bundle(root)
    assert [e.uscc for e in bundle.enterprises] == [uscc(1)]
    assert bundle.enterprises[0].email == "a@b.cn" and bundle.enterprises[0].line == 2
    assert bundle.applications == () and bundle.photos == ()


def test_zip_with_a_top_folder_is_read_including_photos(tmp_path):
    data = photogen.encode(photogen.source_photo(3, (200, 150)))
    root = _valid(
        tmp_path,
        photos=[{"application_id": "A1", "file": "p/x.jpg", "caption": ""}],
        images={"p/x.jpg": data},
    )
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in root.rglob("*"):
            if path.is_file():
                zf.write(path, "top/" + path.relative_to(root).as_posix())
    bundle = load_bundle(archive)
    assert bundle.prefix == "top/"
    assert bundle.read_bytes("p/x.jpg") == data
    assert len(bundle.invoices) == 1


class _LegacyName(zipfile.ZipInfo):
    """A member whose name is written in ``encoding`` without the UTF-8 flag, as Chinese Windows
    writes them (zipfile itself always flags a non-ASCII name)."""

    encoding = "gbk"

    def _encodeFilenameFlags(self):  # noqa: N802 - zipfile's hook, used for both headers
        return self.filename.encode(self.encoding), self.flag_bits


def _zip_with_legacy_names(archive, files: dict[str, bytes], encoding: str) -> None:
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data in files.items():
            info = _LegacyName(name)
            info.encoding = encoding
            zf.writestr(info, data)


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_zip_member_names_without_the_utf8_flag_are_read(tmp_path, encoding):
    data = photogen.encode(photogen.source_photo(3, (200, 150)))
    root = _valid(
        tmp_path,
        photos=[{"application_id": "A1", "file": "照片/现场一.jpg", "caption": "厂房"}],
        images={"照片/现场一.jpg": data},
    )
    files = {
        "包/" + path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }
    archive = tmp_path / "bundle.zip"
    _zip_with_legacy_names(archive, files, encoding)
    with zipfile.ZipFile(archive) as raw:  # what zipfile alone would look for is not there
        assert "包/照片/现场一.jpg" not in raw.namelist()
    bundle = load_bundle(archive)
    assert bundle.prefix == "包/"
    assert bundle.read_bytes("照片/现场一.jpg") == data


def test_cli_screens_a_valid_bundle_and_writes_findings(tmp_path, capsys):
    root = _valid(tmp_path)
    out = tmp_path / "f.json"
    assert (
        main(["screen", str(root), "--out", str(out), "--as-of", "2025-06-30", "--no-progress"])
        == 0
    )
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == "qijia-findings" and doc["version"] == 1
    assert doc["as_of"] == "2025-06-30"


def test_missing_required_files_and_columns(tmp_path, capsys):
    root = _valid(tmp_path)
    (root / "manifest.json").unlink()
    (root / "enterprises.csv").unlink()
    text = (root / "applications.csv").read_text(encoding="utf-8").replace("submitted_on", "sub")
    (root / "applications.csv").write_text(text, encoding="utf-8")
    err = _run_invalid(tmp_path, root, capsys)
    assert "manifest.json：缺少必需的文件" in err
    assert "enterprises.csv：缺少必需的文件" in err
    assert "applications.csv 第1行 submitted_on列：表头缺少该列" in err


def test_bad_manifest(tmp_path, capsys):
    root = _valid(tmp_path, manifest={"format": "other", "version": 2})
    err = _run_invalid(tmp_path, root, capsys)
    assert "manifest.json format字段" in err and "manifest.json version字段" in err
    (root / "manifest.json").write_text("{not json", encoding="utf-8")
    assert "不是有效的 UTF-8 JSON" in _run_invalid(tmp_path, root, capsys)


def test_bad_dates_every_one_listed(tmp_path, capsys):
    root = _valid(
        tmp_path,
        applications=[
            application("A1", uscc(1), period_start="2024/01/01"),
            application("A2", uscc(2), submitted_on="2024-02-30", period_end=""),
        ],
        invoices=[invoice("A1", "00000001", uscc(2), uscc(1), issued_on="20240601")],
        registry=[
            {
                "uscc": uscc(1),
                "list": "blacklist",
                "valid_from": "2024-01-01",
                "valid_to": "2023-01-01",
            }
        ],
    )
    err = _run_invalid(tmp_path, root, capsys)
    for expected in (
        "applications.csv 第2行 period_start列：日期“2024/01/01”格式错误",
        "applications.csv 第3行 submitted_on列：日期“2024-02-30”不是有效日期",
        "applications.csv 第3行 period_end列：不能为空",
        "invoices.csv 第2行 issued_on列：日期“20240601”格式错误",
        "registry.csv 第2行 valid_to列",
    ):
        assert expected in err
    assert "共5处问题" in err


def test_bad_money(tmp_path, capsys):
    root = _valid(
        tmp_path,
        applications=[
            application("A1", uscc(1), amount_requested="1,000.00"),
            application("A2", uscc(2), amount_requested="-5"),
        ],
        invoices=[
            invoice("A1", "00000001", uscc(2), uscc(1), amount="12.345"),
            invoice("A1", "00000002", uscc(2), uscc(1), amount="-100.5", tax="¥13"),
        ],
    )
    problems = _problems(root)
    assert problems == [
        ("applications.csv", 2, "amount_requested"),
        ("applications.csv", 3, "amount_requested"),
        ("invoices.csv", 2, "amount"),
        ("invoices.csv", 3, "tax"),
    ]
    assert "最多两位小数" in _run_invalid(tmp_path, root, capsys)


def test_unknown_application_ids_in_invoices_and_photos(tmp_path, capsys):
    data = photogen.encode(photogen.source_photo(3, (200, 150)))
    root = _valid(
        tmp_path,
        invoices=[invoice("A9", "00000001", uscc(2), uscc(1))],
        photos=[{"application_id": "A8", "file": "p/x.jpg", "caption": ""}],
        images={"p/x.jpg": data},
    )
    err = _run_invalid(tmp_path, root, capsys)
    assert "invoices.csv 第2行 application_id列：申报编号“A9”在 applications.csv 中不存在" in err
    assert "photos.csv 第2行 application_id列：申报编号“A8”在 applications.csv 中不存在" in err


def test_missing_photo_files_and_paths_outside_the_bundle(tmp_path, capsys):
    root = _valid(
        tmp_path,
        photos=[
            {"application_id": "A1", "file": "p/missing.jpg", "caption": ""},
            {"application_id": "A1", "file": "../../etc/passwd", "caption": ""},
        ],
    )
    err = _run_invalid(tmp_path, root, capsys)
    assert "photos.csv 第2行 file列：照片文件“p/missing.jpg”不存在" in err
    assert "photos.csv 第3行 file列" in err and "相对路径" in err


def test_unreadable_and_non_image_photo_files(tmp_path, capsys):
    jpeg = photogen.encode(photogen.source_photo(3, (200, 150)))
    png = io.BytesIO()
    root = _valid(
        tmp_path,
        photos=[
            {"application_id": "A1", "file": "p/text.jpg", "caption": ""},
            {"application_id": "A1", "file": "p/truncated.jpg", "caption": ""},
            {"application_id": "A2", "file": "p/ok.jpg", "caption": ""},
            {"application_id": "A2", "file": "p/empty.png", "caption": ""},
            {"application_id": "A2", "file": "p/truncated_copy.jpg", "caption": ""},
        ],
        images={
            "p/text.jpg": b"not an image at all",
            "p/truncated.jpg": jpeg[:200],
            "p/truncated_copy.jpg": jpeg[:200],  # decoded once, reported on both lines
            "p/ok.jpg": jpeg,
            "p/empty.png": png.getvalue(),
        },
    )
    err = _run_invalid(tmp_path, root, capsys)
    assert "photos.csv 第2行 file列：照片文件“p/text.jpg”不是 JPEG、PNG 或 WebP 图像" in err
    assert "photos.csv 第3行 file列：照片文件“p/truncated.jpg”无法解码" in err
    assert "photos.csv 第5行 file列" in err
    assert (
        "photos.csv 第6行 file列：照片文件“p/truncated_copy.jpg”与“p/truncated.jpg”内容相同" in err
    )
    assert "p/ok.jpg" not in err


@pytest.mark.parametrize("as_zip", [False, True])
def test_a_photo_file_over_the_size_bound_is_a_problem_and_is_not_read(
    tmp_path, capsys, monkeypatch, as_zip
):
    from qijia.screening import photos
    from qijia.screening.model import Bundle

    jpeg = photogen.encode(photogen.source_photo(3, (200, 150)))
    root = _valid(
        tmp_path,
        photos=[{"application_id": "A1", "file": "p/big.jpg", "caption": ""}],
        images={"p/big.jpg": jpeg},
    )
    if as_zip:
        archive = tmp_path / "bundle.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for path in root.rglob("*"):
                if path.is_file():
                    zf.write(path, path.relative_to(root).as_posix())
        root = archive
    monkeypatch.setattr(photos, "MAX_PHOTO_BYTES", len(jpeg) - 1)
    monkeypatch.setattr(Bundle, "read_bytes", lambda self, rel: pytest.fail(f"read {rel}"))
    err = _run_invalid(tmp_path, root, capsys)
    assert "photos.csv 第2行 file列：照片文件“p/big.jpg”过大" in err


def test_a_table_over_the_size_bound_is_a_problem_and_is_not_read(tmp_path, monkeypatch):
    from qijia.screening import bundle

    root = _valid(tmp_path)
    size = (root / "invoices.csv").stat().st_size
    monkeypatch.setattr(bundle, "MAX_TABLE_BYTES", size - 1)
    problems = [p for p in _problems(root) if p[0] == "invoices.csv"]
    assert problems == [("invoices.csv", 0, "")]


def test_fingerprinting_refuses_bytes_over_the_size_bound(monkeypatch):
    from qijia.screening.photos import PhotoError, fingerprint, fingerprint_bytes

    jpeg = photogen.encode(photogen.source_photo(3, (200, 150)))
    monkeypatch.setattr(fingerprint, "MAX_PHOTO_BYTES", len(jpeg) - 1)
    with pytest.raises(PhotoError, match="过大"):
        fingerprint_bytes(jpeg)


def test_row_problems_and_photo_problems_are_listed_together(tmp_path, capsys):
    """Every problem in one run: a bad date does not hide a photo that is not an image."""
    jpeg = photogen.encode(photogen.source_photo(3, (200, 150)))
    root = _valid(
        tmp_path,
        applications=[
            {**application("A1", uscc(1)), "submitted_on": "2025-13-01"},
            application("A2", uscc(2)),
        ],
        photos=[
            {"application_id": "A1", "file": "p/text.jpg", "caption": ""},
            {"application_id": "A2", "file": "p/ok.jpg", "caption": ""},
        ],
        images={"p/text.jpg": b"not an image at all", "p/ok.jpg": jpeg},
    )
    err = _run_invalid(tmp_path, root, capsys)
    assert "共2处问题" in err
    assert "applications.csv 第2行 submitted_on列" in err
    assert "photos.csv 第2行 file列：照片文件“p/text.jpg”不是 JPEG、PNG 或 WebP 图像" in err


def test_duplicated_keys(tmp_path, capsys):
    root = _valid(
        tmp_path,
        enterprises=[
            enterprise(1),
            enterprise(2),
            enterprise(1, name="重复"),
            {**enterprise(2), "uscc": uscc(2).lower()},
            # the same code in groups of four: one party for every check, so listed twice
            {**enterprise(3), "uscc": " ".join(uscc(3)[k : k + 4] for k in range(0, 18, 4))},
            enterprise(3),
        ],
        persons=[{"person_key": "p1", "name": "甲"}, {"person_key": "p1", "name": "乙"}],
        applications=[
            application("A1", uscc(1)),
            application("A2", uscc(2)),
            application("A1", uscc(2)),
        ],
    )
    err = _run_invalid(tmp_path, root, capsys)
    assert "enterprises.csv 第4行 uscc列" in err and "enterprises.csv 第5行 uscc列" in err
    assert f"enterprises.csv 第7行 uscc列：统一社会信用代码“{uscc(3)}”与第6行重复" in err
    assert "persons.csv 第3行 person_key列：人员编号“p1”与第2行重复" in err
    assert "applications.csv 第4行 application_id列：申报编号“A1”与第2行重复" in err


def test_bad_role_list_and_unknown_person_values(tmp_path, capsys):
    root = _valid(
        tmp_path,
        persons=[{"person_key": "p1", "name": "甲"}],
        roles=[
            {"person_key": "p1", "uscc": uscc(1), "role": "boss"},
            {"person_key": "p2", "uscc": uscc(1), "role": "director"},
            {"person_key": "p1", "uscc": uscc(2), "role": "shareholder", "share_pct": "120"},
        ],
        registry=[{"uscc": uscc(1), "list": "greylist", "valid_from": "2024-01-01"}],
    )
    assert _problems(root) == [
        ("roles.csv", 2, "role"),
        ("roles.csv", 3, "person_key"),
        ("roles.csv", 4, "share_pct"),
        ("registry.csv", 2, "list"),
    ]
    assert "职务“boss”无效" in _run_invalid(tmp_path, root, capsys)


def test_role_and_list_values_are_read_in_any_case(tmp_path):
    root = _valid(
        tmp_path,
        persons=[{"person_key": "p1", "name": "甲"}],
        roles=[{"person_key": "p1", "uscc": uscc(1), "role": "Legal_Representative"}],
        registry=[{"uscc": uscc(1), "list": "Blacklist", "valid_from": "2024-01-01"}],
    )
    bundle = load_bundle(root)
    assert [r.role for r in bundle.roles] == ["legal_representative"]
    assert [r.list for r in bundle.registry] == ["blacklist"]


def test_rows_with_a_wrong_number_of_fields_and_non_utf8_files(tmp_path, capsys):
    root = _valid(tmp_path)
    with (root / "invoices.csv").open("a", encoding="utf-8") as fh:
        fh.write("A1,only,three\n")
    (root / "persons.csv").write_bytes(
        "person_key,name,id_number,phone,email\np1,张三,,,\n".encode("gbk")
    )
    err = _run_invalid(tmp_path, root, capsys)
    assert "invoices.csv 第3行：该行有3个字段，与表头的10列不一致" in err
    assert "persons.csv 第2行：文件不是 UTF-8 编码" in err


def test_a_malformed_row_is_one_problem_not_one_per_reference(tmp_path, capsys):
    """An application row with a stray comma is reported; the invoices and roles that refer to
    its id or to a malformed person's key are not also reported as referring to nothing."""
    root = _valid(
        tmp_path,
        persons=[{"person_key": "p1", "name": "甲"}],
        roles=[{"person_key": "p2", "uscc": uscc(1), "role": "director"}],
        invoices=[
            invoice("A3", "00000001", uscc(2), uscc(1)),
            invoice("A3", "00000002", uscc(2), uscc(1)),
            invoice("A9", "00000003", uscc(2), uscc(1)),
        ],
    )
    with (root / "applications.csv").open("a", encoding="utf-8") as fh:
        fh.write(f"A3,{uscc(1)},p,title, with a comma,2025-01-01,2025-12-31,2025-03-01,100\n")
    with (root / "persons.csv").open("a", encoding="utf-8") as fh:
        fh.write("p2,乙,,,,extra\n")
    err = _run_invalid(tmp_path, root, capsys)
    lines = _problem_lines(err)
    assert lines == [
        "persons.csv 第3行：该行有6个字段，与表头的5列不一致",
        "applications.csv 第4行：该行有9个字段，与表头的8列不一致",
        "invoices.csv 第4行 application_id列：申报编号“A9”在 applications.csv 中不存在",
    ], err


def test_problems_are_listed_file_by_file_in_line_order(tmp_path, capsys):
    """Rows are checked before photo files, yet a reviewer reads photos.csv's problems in one
    place, by line."""
    root = _valid(
        tmp_path,
        photos=[
            {"application_id": "A1", "file": "p/missing.jpg", "caption": ""},
            {"application_id": "A1", "file": "p/text.jpg", "caption": ""},
            {"application_id": "A404", "file": "p/also-missing.jpg", "caption": ""},
        ],
        images={"p/text.jpg": b"not an image at all"},
    )
    err = _run_invalid(tmp_path, root, capsys)
    lines = _problem_lines(err)
    assert [x.split("：")[0] for x in lines] == [
        "photos.csv 第2行 file列",
        "photos.csv 第3行 file列",
        "photos.csv 第4行 application_id列",
        "photos.csv 第4行 file列",
    ], err


def test_invalid_uscc_is_a_finding_not_a_bundle_problem(tmp_path):
    root = _valid(
        tmp_path, applications=[application("A1", "not-a-code"), application("A2", uscc(2))]
    )
    bundle = load_bundle(root)
    assert len(bundle.applications) == 2
    from qijia.screening.engine import screen

    found = [f for f in screen(bundle, dt.date(2025, 6, 30), prints={}, digests={})]
    invalid = [f for f in found if f.kind == "invalid_uscc"]
    assert [(f.application_id, f.evidence["value"]) for f in invalid] == [("A1", "NOT-A-CODE")]
    assert "18位" in invalid[0].evidence["problem"]
