"""Invoice rules: same invoice, buyer mismatch, outside the period, invalid USCCs."""

from __future__ import annotations

import datetime as dt

from qijia.screening.bundle import load_bundle
from qijia.screening.engine import screen
from qijia.screening.findings import finding_subject
from qijia.screening.tests.bundlekit import (
    application,
    bad_uscc,
    enterprise,
    invoice,
    uscc,
    write_bundle,
)

AS_OF = dt.date(2025, 6, 30)
SELLER = uscc(50)


def _screen(tmp_path, invoices, applications=None):
    apps = applications or [
        application("A1", uscc(1)),
        application("A2", uscc(2)),
        application("A3", uscc(3)),
    ]
    root = write_bundle(
        tmp_path / "b",
        enterprises=[enterprise(1), enterprise(2), enterprise(3)],
        applications=apps,
        invoices=invoices,
    )
    return screen(load_bundle(root), AS_OF, prints={}, digests={})


def _of(findings, kind):
    return [f for f in findings if f.kind == kind]


def test_same_code_and_number_in_two_applications_gives_a_finding_on_each(tmp_path):
    findings = _screen(
        tmp_path,
        [
            invoice("A1", "00012345", SELLER, uscc(1), invoice_code="4400231130"),
            invoice("A2", "00012345", SELLER, uscc(2), invoice_code="4400231130"),
        ],
    )
    dups = _of(findings, "duplicate_invoice")
    assert {(f.application_id, f.evidence["other_application_id"]) for f in dups} == {
        ("A1", "A2"),
        ("A2", "A1"),
    }
    assert all(f.evidence["invoice_number"] == "00012345" for f in dups)
    assert (
        dups[0].evidence["invoice"]["application_id"]
        != dups[0].evidence["other_invoice"]["application_id"]
    )


def test_same_number_with_another_code_is_not_the_same_invoice(tmp_path):
    findings = _screen(
        tmp_path,
        [
            invoice("A1", "00012345", SELLER, uscc(1), invoice_code="4400231130"),
            invoice("A2", "00012345", SELLER, uscc(2), invoice_code="4400231131"),
        ],
    )
    assert not _of(findings, "duplicate_invoice")


def test_leading_zeros_are_kept_so_12345_is_not_00012345(tmp_path):
    findings = _screen(
        tmp_path,
        [
            invoice("A1", "00012345", SELLER, uscc(1), invoice_code="4400231130"),
            invoice("A2", "12345", SELLER, uscc(2), invoice_code="4400231130"),
        ],
    )
    assert not _of(findings, "duplicate_invoice")


def test_spaces_and_hyphens_are_removed_before_comparing(tmp_path):
    findings = _screen(
        tmp_path,
        [
            invoice("A1", "24442000000012345678", SELLER, uscc(1)),
            invoice("A2", " 2444-2000 0000-1234 5678", SELLER, uscc(2)),
            invoice("A3", "00012345", SELLER, uscc(3), invoice_code="4400-231130"),
            invoice("A1", "0001 2345", SELLER, uscc(1), invoice_code="4400 231130"),
        ],
    )
    pairs = {
        (f.application_id, f.evidence["other_application_id"], f.evidence["invoice_number"])
        for f in _of(findings, "duplicate_invoice")
    }
    assert pairs == {
        ("A1", "A2", "24442000000012345678"),
        ("A2", "A1", "24442000000012345678"),
        ("A1", "A3", "00012345"),
        ("A3", "A1", "00012345"),
    }


def test_digital_invoice_without_code_does_not_match_a_paper_invoice_with_a_code(tmp_path):
    findings = _screen(
        tmp_path,
        [
            invoice("A1", "24442000000012345678", SELLER, uscc(1)),
            invoice("A2", "24442000000012345678", SELLER, uscc(2), invoice_code="4400231130"),
        ],
    )
    assert not _of(findings, "duplicate_invoice")


def test_same_invoice_twice_in_one_application_is_not_a_duplicate(tmp_path):
    findings = _screen(
        tmp_path,
        [
            invoice("A1", "00012345", SELLER, uscc(1), invoice_code="4400231130"),
            invoice("A1", "00012345", SELLER, uscc(1), invoice_code="4400231130"),
        ],
    )
    assert not _of(findings, "duplicate_invoice")


def test_one_invoice_on_three_applications_gives_one_finding_each_naming_the_others(tmp_path):
    findings = _screen(
        tmp_path,
        [
            invoice(a, "00000001", SELLER, b, invoice_code="4400231130")
            for a, b in (("A1", uscc(1)), ("A2", uscc(2)), ("A3", uscc(3)), ("A3", uscc(3)))
        ],
    )
    dups = _of(findings, "duplicate_invoice")
    assert len(dups) == 3
    assert {f.application_id: f.evidence["other_application_ids"] for f in dups} == {
        "A1": ["A2", "A3"],
        "A2": ["A1", "A3"],
        "A3": ["A1", "A2"],
    }
    assert {f.evidence["other_application_id"] for f in dups if f.application_id == "A1"} == {"A2"}
    assert all(len(f.evidence["other_invoices"]) == 2 for f in dups)
    assert {finding_subject(f.kind, f.evidence) for f in dups} == {"4400231130|00000001"}
    assert "A2、A3" in next(f.summary for f in dups if f.application_id == "A1")


def test_buyer_mismatch_when_buyer_is_another_code_or_empty_not_for_lower_case(tmp_path):
    findings = _screen(
        tmp_path,
        [
            invoice("A1", "00000001", SELLER, uscc(9), invoice_code="4400231130"),
            invoice("A1", "00000002", SELLER, "", invoice_code="4400231130"),
            invoice("A1", "00000003", SELLER, f" {uscc(1).lower()} ", invoice_code="4400231130"),
        ],
    )
    mism = _of(findings, "invoice_buyer_mismatch")
    assert sorted(f.evidence["invoice_number"] for f in mism) == ["00000001", "00000002"]
    assert {f.evidence["buyer_tax_id"] for f in mism} == {uscc(9), ""}
    assert all(f.severity == "medium" for f in mism)


def test_issued_outside_the_period_with_inclusive_boundaries(tmp_path):
    findings = _screen(
        tmp_path,
        [
            invoice("A1", "1" * 20, SELLER, uscc(1), issued_on="2024-01-01"),  # first day: inside
            invoice("A1", "2" * 20, SELLER, uscc(1), issued_on="2024-12-31"),  # last day: inside
            invoice("A1", "3" * 20, SELLER, uscc(1), issued_on="2023-12-31"),  # day before
            invoice("A1", "4" * 20, SELLER, uscc(1), issued_on="2025-01-01"),  # day after
        ],
    )
    outside = _of(findings, "invoice_outside_period")
    assert sorted(f.evidence["issued_on"] for f in outside) == ["2023-12-31", "2025-01-01"]
    assert {finding_subject(f.kind, f.evidence) for f in outside} == {
        "|" + "3" * 20,
        "|" + "4" * 20,
    }


def test_invalid_applicant_uscc_and_18_character_seller_ids_only(tmp_path):
    findings = _screen(
        tmp_path,
        [
            invoice("A1", "00000001", bad_uscc(70), uscc(1), invoice_code="4400231130"),
            invoice("A1", "00000002", bad_uscc(70), uscc(1), invoice_code="4400231130"),
            invoice("A1", "00000003", "440300123456789", uscc(1), invoice_code="4400231130"),
            invoice("A1", "00000004", uscc(71).lower(), uscc(1), invoice_code="4400231130"),
            invoice("A2", "00000005", SELLER, bad_uscc(2), invoice_code="4400231130"),
        ],
        applications=[application("A1", uscc(1)), application("A2", bad_uscc(2))],
    )
    invalid = {
        (f.application_id, f.evidence["field"], f.evidence["value"], f.severity)
        for f in _of(findings, "invalid_uscc")
    }
    assert invalid == {
        ("A1", "seller_tax_id", bad_uscc(70), "medium"),
        ("A2", "uscc", bad_uscc(2), "high"),
    }


def test_uscc_with_forbidden_letter_is_invalid(tmp_path):
    code = "91441900MA4UXXXXXI"
    findings = _screen(tmp_path, [], applications=[application("A1", code)])
    assert [f.evidence["value"] for f in _of(findings, "invalid_uscc")] == [code]


def test_a_code_is_judged_as_written_but_matched_without_separators(tmp_path):
    """identifiers.md checks a USCC trimmed and upper-cased, nothing more: an applicant's code
    typed in groups fails its format. Matching still removes the separators, so the same code
    with hyphens as the buyer is no mismatch, and a seller written that way (19 characters) does
    not look like a USCC and is not judged."""
    code = uscc(1)
    spaced = f"{code[:4]} {code[4:10]} {code[10:]}"
    hyphenated = f"{code[:8]}-{code[8:]}"
    findings = _screen(
        tmp_path,
        [
            invoice("A1", "00000001", SELLER, hyphenated, invoice_code="4400231130"),
            invoice("A2", "00000002", hyphenated, uscc(2), invoice_code="4400231130"),
        ],
        applications=[application("A1", spaced), application("A2", uscc(2))],
    )
    invalid = [(f.application_id, f.evidence["field"]) for f in _of(findings, "invalid_uscc")]
    assert invalid == [("A1", "uscc")]
    assert _of(findings, "invalid_uscc")[0].evidence["value"] == spaced
    assert _of(findings, "invoice_buyer_mismatch") == []


def test_one_invoice_on_two_applications_of_one_enterprise_is_a_duplicate(tmp_path):
    findings = _screen(
        tmp_path,
        [
            invoice("A1", "00000009", SELLER, uscc(1), invoice_code="4400231130"),
            invoice("A2", "00000009", SELLER, uscc(1), invoice_code="4400231130"),
        ],
        applications=[application("A1", uscc(1)), application("A2", uscc(1))],
    )
    dups = _of(findings, "duplicate_invoice")
    assert sorted((f.application_id, f.evidence["other_application_id"]) for f in dups) == [
        ("A1", "A2"),
        ("A2", "A1"),
    ]


def test_an_18_character_seller_id_with_a_forbidden_letter_is_invalid(tmp_path):
    code = SELLER[:10] + "O" + SELLER[11:]  # O is not in the USCC alphabet
    findings = _screen(tmp_path, [invoice("A1", "00000010", code, uscc(1))])
    invalid = _of(findings, "invalid_uscc")
    assert [(f.evidence["field"], f.evidence["value"]) for f in invalid] == [
        ("seller_tax_id", code)
    ]
    assert "不允许的字符" in invalid[0].evidence["problem"]
