"""ineligible_applicant / blacklisted_applicant: a registry window that covers the application.

The window is inclusive at both ends and an empty ``valid_to`` is open-ended. It must contain
either the submission date (the applicant was listed when it applied) or the as-of date (it is
listed now, when the money would be paid) — either is reason enough to stop a subsidy.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from qijia.screening.model import Bundle, Finding, RegistryRow
from qijia.screening.normalize import tax_id

KIND_BY_LIST = {"ineligible": "ineligible_applicant", "blacklist": "blacklisted_applicant"}
LIST_LABEL = {"ineligible": "不予资助名单", "blacklist": "失信黑名单"}


def window_contains(row: RegistryRow, day: dt.date | None) -> bool:
    if day is None:
        return False
    return row.valid_from <= day and (row.valid_to is None or day <= row.valid_to)


def detect(bundle: Bundle, as_of: dt.date) -> list[Finding]:
    by_uscc: dict[str, list[RegistryRow]] = defaultdict(list)
    for row in bundle.registry:
        by_uscc[tax_id(row.uscc)].append(row)
    findings: list[Finding] = []
    for app in bundle.applications:
        rows = by_uscc.get(tax_id(app.uscc))
        if not rows:
            continue
        for row in rows:
            at_submission = window_contains(row, app.submitted_on)
            at_as_of = window_contains(row, as_of)
            if not (at_submission or at_as_of):
                continue
            until = row.valid_to.isoformat() if row.valid_to else "长期"
            when = "申报时" if at_submission else "核查日"
            findings.append(
                Finding(
                    application_id=app.application_id,
                    kind=KIND_BY_LIST[row.list],
                    severity="high",
                    summary=(
                        f"申报单位{when}在{LIST_LABEL[row.list]}内（{row.category or '未注明类别'}，"
                        f"{row.valid_from.isoformat()}至{until}，来源：{row.source or '未注明'}）。"
                    ),
                    evidence={
                        "list": row.list,
                        "category": row.category,
                        "reason": row.reason,
                        "source": row.source,
                        "valid_from": row.valid_from.isoformat(),
                        "valid_to": row.valid_to.isoformat() if row.valid_to else "",
                        "uscc": tax_id(app.uscc),
                        "submitted_on": app.submitted_on.isoformat() if app.submitted_on else "",
                        "as_of": as_of.isoformat(),
                        "covers_submitted_on": at_submission,
                        "covers_as_of": at_as_of,
                        "registry_line": row.line,
                    },
                )
            )
    return findings
