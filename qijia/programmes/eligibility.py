"""Eligibility criteria as data, evaluated to pass / fail / unknown with the fact used.

Plain Python (no database): ``facts.py`` gathers an enterprise's ``Facts``; this module judges
them. "Unknown" is a first-class answer: missing indicators must not silently pass nor fail an
enterprise, the calculator says what is missing and the reviewer decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"

SET_FACTS = {"industry", "town", "size_class"}
NUMBER_FACTS = {
    "years_established",
    "revenue_last_year",
    "tax_last_year",
    "revenue_growth_pct",
}
FLAG_FACTS = {"operating", "not_listed"}
FACT_LABELS = {
    "industry": "所属行业",
    "town": "所在镇街",
    "size_class": "企业规模",
    "years_established": "成立年限(年)",
    "revenue_last_year": "上年营业收入(万元)",
    "tax_last_year": "上年纳税额(万元)",
    "revenue_growth_pct": "上年营业收入增长率(%)",
    "operating": "经营状态正常",
    "not_listed": "未列入不予资助名单",
}
OPERATORS_FOR = {
    **{f: {"in", "not_in"} for f in SET_FACTS},
    **{f: {"gte", "lte"} for f in NUMBER_FACTS},
    **{f: {"is_true"} for f in FLAG_FACTS},
}
OPERATOR_WORDS = {"in": "属于", "not_in": "不属于", "gte": "≥", "lte": "≤", "is_true": ""}


@dataclass(frozen=True)
class Facts:
    """What is known about one enterprise at one date. ``None`` means not known; ``gaps`` says why."""

    industry: str | None = None
    town: str | None = None
    size_class: str | None = None
    years_established: Decimal | None = None
    revenue_last_year: Decimal | None = None
    tax_last_year: Decimal | None = None
    revenue_growth_pct: Decimal | None = None
    operating: bool | None = None
    not_listed: bool | None = None
    gaps: Mapping[str, str] = field(default_factory=dict)
    #: Why a flag is false (e.g. the registry entries), shown to the enterprise.
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    fact: str
    operator: str
    expected: str
    result: str
    used: str
    reason: str

    @property
    def label(self) -> str:
        return f"{FACT_LABELS.get(self.fact, self.fact)} {OPERATOR_WORDS.get(self.operator, '')} {self.expected}".strip()


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def validate_criterion(fact: str, operator: str, value: Any) -> dict[str, str]:
    """Field errors (Chinese) for a criterion definition; empty when it is well formed."""
    if fact not in OPERATORS_FOR:
        return {"fact": f"未知的条件项：{fact}"}
    if operator not in OPERATORS_FOR[fact]:
        return {"operator": f"条件项“{FACT_LABELS[fact]}”不能使用比较方式 {operator}"}
    if fact in SET_FACTS:
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v for v in value)
        ):
            return {"value": "取值应为非空的代码列表"}
    elif fact in NUMBER_FACTS:
        if isinstance(value, bool) or _decimal(value) is None:
            return {"value": "取值应为数字"}
    elif value not in (None, True):
        return {"value": "该条件项不需要取值"}
    return {}


def _expected_text(fact: str, value: Any) -> str:
    if fact in SET_FACTS:
        return "、".join(str(v) for v in value or [])
    if fact in NUMBER_FACTS:
        return str(_decimal(value))
    return ""


def _used_text(fact: str, actual: Any) -> str:
    if actual is None:
        return "无数据"
    if isinstance(actual, bool):
        return "是" if actual else "否"
    return str(actual)


def evaluate(fact: str, operator: str, value: Any, facts: Facts) -> Outcome:
    """Judge one criterion against the facts."""
    actual = getattr(facts, fact, None) if fact in OPERATORS_FOR else None
    expected = _expected_text(fact, value)
    used = _used_text(fact, actual)

    def outcome(result: str, reason: str) -> Outcome:
        return Outcome(fact, operator, expected, result, used, reason)

    if validate_criterion(fact, operator, value):
        return outcome(UNKNOWN, "条件定义有误，请联系主管科室")
    if actual is None or actual == "":
        return outcome(UNKNOWN, facts.gaps.get(fact, "平台暂无该项数据"))
    if fact in SET_FACTS:
        inside = actual in value
        ok = inside if operator == "in" else not inside
        return outcome(PASS if ok else FAIL, "" if ok else f"{FACT_LABELS[fact]}为 {actual}")
    if fact in NUMBER_FACTS:
        threshold = _decimal(value)
        assert threshold is not None  # validated above
        ok = actual >= threshold if operator == "gte" else actual <= threshold
        reason = (
            ""
            if ok
            else f"{FACT_LABELS[fact]}为 {actual}，要求{OPERATOR_WORDS[operator]} {threshold}"
        )
        return outcome(PASS if ok else FAIL, reason)
    ok = bool(actual)
    return outcome(
        PASS if ok else FAIL, "" if ok else facts.details.get(fact, f"不满足：{FACT_LABELS[fact]}")
    )


def overall(outcomes: Iterable[Outcome]) -> str:
    """Fail if any criterion fails, unknown if any is unknown, else pass."""
    results = {o.result for o in outcomes}
    if FAIL in results:
        return FAIL
    if UNKNOWN in results:
        return UNKNOWN
    return PASS
