"""ineligible / blacklisted applicant: inclusive windows on submitted_on or the as-of date."""

from __future__ import annotations

import datetime as dt

import pytest

from qijia.screening.bundle import load_bundle
from qijia.screening.engine import screen
from qijia.screening.tests.bundlekit import application, enterprise, uscc, write_bundle

AS_OF = dt.date(2025, 6, 30)


def _registry_findings(tmp_path, rows, submitted_on="2025-01-15", as_of=AS_OF):
    root = write_bundle(
        tmp_path / "b",
        enterprises=[enterprise(1)],
        applications=[application("A1", uscc(1), submitted_on=submitted_on)],
        registry=[
            {"uscc": uscc(1), "category": "骗取补贴", "reason": "r", "source": "市监局", **row}
            for row in rows
        ],
    )
    findings = screen(load_bundle(root), as_of, prints={}, digests={})
    return [f for f in findings if f.kind in ("ineligible_applicant", "blacklisted_applicant")]


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "listed"),
    [
        ("2025-01-15", "2025-02-01", True),  # starts on the submission date (inclusive)
        ("2024-01-01", "2025-01-15", True),  # ends on the submission date (inclusive)
        ("2024-01-01", "2025-01-14", False),  # expired the day before submission, before as-of
        ("2025-07-01", "", False),  # future: starts after the as-of date
        ("2025-06-30", "", True),  # starts on the as-of date
        ("2025-03-01", "2025-06-30", True),  # covers the as-of date only, ends on it
        ("2020-01-01", "", True),  # open-ended
        ("2025-01-16", "2025-06-29", False),  # strictly between the two dates
    ],
)
def test_registry_window_contains_submission_or_as_of_date_inclusive(
    tmp_path, valid_from, valid_to, listed
):
    found = _registry_findings(
        tmp_path, [{"list": "ineligible", "valid_from": valid_from, "valid_to": valid_to}]
    )
    assert bool(found) is listed
    if listed:
        ev = found[0].evidence
        assert found[0].kind == "ineligible_applicant"
        assert (ev["list"], ev["valid_from"], ev["valid_to"]) == (
            "ineligible",
            valid_from,
            valid_to,
        )
        assert ev["category"] == "骗取补贴" and ev["source"] == "市监局"
        assert found[0].severity == "high"


def test_blacklist_row_gives_blacklisted_kind_and_other_enterprises_are_not_flagged(tmp_path):
    root = write_bundle(
        tmp_path / "b",
        enterprises=[enterprise(1), enterprise(2)],
        applications=[application("A1", uscc(1)), application("A2", uscc(2))],
        registry=[
            {
                "uscc": uscc(1).lower(),
                "list": "blacklist",
                "category": "失信被执行人",
                "source": "法院",
                "valid_from": "2024-01-01",
                "valid_to": "",
            }
        ],
    )
    findings = screen(load_bundle(root), AS_OF, prints={}, digests={})
    assert [(f.application_id, f.kind) for f in findings] == [("A1", "blacklisted_applicant")]


def test_two_rows_with_the_same_subject_give_one_finding_and_distinct_rows_give_two(tmp_path):
    row = {"list": "ineligible", "valid_from": "2024-01-01", "valid_to": ""}
    found = _registry_findings(tmp_path, [row, dict(row), {**row, "valid_from": "2024-02-01"}])
    assert sorted(f.evidence["valid_from"] for f in found) == ["2024-01-01", "2024-02-01"]
