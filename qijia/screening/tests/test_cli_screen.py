"""``qijia screen``: findings.json as the spec says, the HTML report, scoring against truth."""

from __future__ import annotations

import json

from qijia.screening.cli import main
from qijia.screening.engine import dedupe_and_sort
from qijia.screening.model import Finding
from qijia.screening.report import path_svg
from qijia.screening.tests.bundlekit import (
    application,
    bad_uscc,
    enterprise,
    invoice,
    uscc,
    write_bundle,
)

EVIL = '<script>alert("x")</script>'


def _bundle(tmp_path):
    return write_bundle(
        tmp_path / "b",
        enterprises=[enterprise(1, name=EVIL), enterprise(2)],
        holdings=[{"holder_uscc": uscc(1), "held_uscc": uscc(2), "share_pct": "60"}],
        applications=[
            application("A2", uscc(2), title=EVIL),
            application("A1", uscc(1)),
            application("A3", bad_uscc(3)),
        ],
        invoices=[
            invoice(
                "A1", "00000007", uscc(2), uscc(1), invoice_code="4400231130", seller_name=EVIL
            ),
            invoice(
                "A2",
                "0000 0007",
                uscc(1),
                uscc(2),
                invoice_code="4400231130",
                issued_on="2023-05-05",
            ),
        ],
    )


def _screen(tmp_path, *extra):
    out = tmp_path / "findings.json"
    code = main(
        [
            "screen",
            str(_bundle(tmp_path)),
            "--as-of",
            "2025-06-30",
            "--out",
            str(out),
            "--no-progress",
            *extra,
        ]
    )
    return code, json.loads(out.read_text(encoding="utf-8"))


def test_findings_json_has_the_spec_shape_sorted_and_deduplicated(tmp_path):
    code, doc = _screen(tmp_path)
    assert code == 0
    assert list(doc) == ["format", "version", "as_of", "findings"]
    assert (doc["format"], doc["version"], doc["as_of"]) == ("qijia-findings", 1, "2025-06-30")
    keys = [(f["application_id"], f["kind"]) for f in doc["findings"]]
    assert keys == [
        ("A1", "duplicate_invoice"),
        ("A1", "related_party_supplier"),
        ("A2", "duplicate_invoice"),
        ("A2", "invoice_outside_period"),
        ("A2", "related_party_supplier"),
        ("A3", "invalid_uscc"),
    ]
    for f in doc["findings"]:
        assert set(f) == {"application_id", "kind", "severity", "summary", "evidence"}
        assert f["severity"] in ("high", "medium", "low")
        assert f["summary"].endswith("。") and "\n" not in f["summary"]
    related = [f for f in doc["findings"] if f["kind"] == "related_party_supplier"]
    assert {f["evidence"]["hops"] for f in related} == {1}


def test_same_run_twice_gives_byte_identical_output(tmp_path):
    _screen(tmp_path)
    first = (tmp_path / "findings.json").read_bytes()
    _screen(tmp_path)
    assert (tmp_path / "findings.json").read_bytes() == first


def test_dedupe_keeps_one_finding_per_application_kind_subject():
    ev = {"invoice_code": "", "invoice_number": "1", "other_application_id": "B"}
    a = Finding("A", "duplicate_invoice", "high", "x。", ev)
    b = Finding("A", "duplicate_invoice", "high", "y。", {**ev, "invoice_number": " 1 "})
    c = Finding("A", "duplicate_invoice", "high", "z。", {**ev, "invoice_number": "2"})
    d = Finding("A", "duplicate_photo", "high", "p。", {"file": "a", "other_file": "b", **ev})
    e = Finding("A", "duplicate_photo", "high", "q。", {"file": "a", "other_file": "c", **ev})
    assert dedupe_and_sort([e, c, d, a, b]) == [d, e, a, c]


def test_report_is_self_contained_and_escapes_untrusted_values(tmp_path):
    report = tmp_path / "report.html"
    code, _ = _screen(tmp_path, "--report", str(report))
    assert code == 0
    html = report.read_text(encoding="utf-8")
    assert EVIL not in html
    assert "&lt;script&gt;" in html
    assert "<svg" in html and "发票 2" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert 'lang="zh-CN"' in html


def test_path_svg_escapes_node_names():
    svg = path_svg(
        [
            {"element": "node", "type": "enterprise", "id": "X", "name": EVIL},
            {"element": "edge", "type": "role", "roles": [EVIL]},
            {"element": "node", "type": "person", "id": "p", "name": "张三"},
        ]
    )
    assert "<script" not in svg and svg.startswith("<svg")


def test_truth_file_prints_precision_and_recall_per_kind(tmp_path, capsys):
    truth = tmp_path / "truth.json"
    truth.write_text(
        json.dumps(
            {
                "format": "qijia-truth",
                "version": 1,
                "findings": [
                    {
                        "application_id": "A1",
                        "kind": "duplicate_invoice",
                        "subject": "4400231130|00000007",
                    },
                    {
                        "application_id": "A2",
                        "kind": "duplicate_invoice",
                        "subject": "4400231130|00000007",
                    },
                    {
                        "application_id": "A3",
                        "kind": "invalid_uscc",
                        "subject": f"uscc={bad_uscc(3)}",
                    },
                    {"application_id": "A9", "kind": "invalid_uscc", "subject": "uscc=X"},
                ],
            }
        ),
        encoding="utf-8",
    )
    capsys.readouterr()
    code, _ = _screen(tmp_path, "--truth", str(truth))
    out = capsys.readouterr().out
    assert code == 0
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:]}
    assert lines["duplicate_invoice"][:2] == ["1.0000", "1.0000"]
    assert lines["invalid_uscc"][:2] == ["1.0000", "0.5000"]
    assert lines["invoice_outside_period"][:2] == ["0.0000", "—"]


def test_bad_as_of_date_or_truth_file_exits_2_without_output(tmp_path, capsys):
    out = tmp_path / "f.json"
    root = _bundle(tmp_path)
    assert main(["screen", str(root), "--as-of", "2025-13-01", "--out", str(out)]) == 2
    (tmp_path / "t.json").write_text("{}", encoding="utf-8")
    assert main(["screen", str(root), "--out", str(out), "--truth", str(tmp_path / "t.json")]) == 2
    assert main(["screen", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    assert not out.exists()
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_as_of_defaults_to_today(tmp_path):
    import datetime as dt

    out = tmp_path / "today.json"
    before = dt.date.today().isoformat()
    assert main(["screen", str(_bundle(tmp_path)), "--out", str(out), "--no-progress"]) == 0
    after = dt.date.today().isoformat()
    assert json.loads(out.read_text(encoding="utf-8"))["as_of"] in {before, after}
