"""Eligibility rules without a database."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from qijia.programmes.eligibility import (
    FAIL,
    PASS,
    UNKNOWN,
    Facts,
    evaluate,
    overall,
    validate_criterion,
)


def test_industry_in_list_passes_and_names_the_fact_used():
    outcome = evaluate("industry", "in", ["C39"], Facts(industry="C39"))
    assert (outcome.result, outcome.used) == (PASS, "C39")


def test_industry_outside_list_fails_with_reason():
    outcome = evaluate("industry", "in", ["C39"], Facts(industry="C13"))
    assert outcome.result == FAIL and "C13" in outcome.reason


def test_missing_revenue_is_unknown_with_the_gap():
    facts = Facts(gaps={"revenue_last_year": "2025年营业收入数据不完整（7/12个月）"})
    outcome = evaluate("revenue_last_year", "gte", "2000", facts)
    assert outcome.result == UNKNOWN and "7/12" in outcome.reason


def test_listed_enterprise_fails_not_listed_with_registry_detail():
    facts = Facts(not_listed=False, details={"not_listed": "环境违法（生态环境局）"})
    outcome = evaluate("not_listed", "is_true", None, facts)
    assert outcome.result == FAIL and "环境违法" in outcome.reason


def test_malformed_criterion_is_unknown_not_pass():
    assert (
        evaluate("revenue_last_year", "gte", "abc", Facts(revenue_last_year=Decimal(5))).result
        == UNKNOWN
    )
    assert validate_criterion("industry", "gte", 3)
    assert validate_criterion("nonsense", "in", ["x"])


def test_overall_fail_dominates_unknown_dominates_pass():
    p = evaluate("industry", "in", ["A"], Facts(industry="A"))
    u = evaluate("industry", "in", ["A"], Facts())
    f = evaluate("industry", "in", ["A"], Facts(industry="B"))
    assert overall([p, u, f]) == FAIL
    assert overall([p, u]) == UNKNOWN
    assert overall([p, p]) == PASS
    assert overall([]) == PASS


@given(
    actual=st.decimals(min_value=-(10**9), max_value=10**9, places=2),
    threshold=st.decimals(min_value=-(10**9), max_value=10**9, places=2),
)
def test_numeric_thresholds_agree_with_decimal_comparison(actual, threshold):
    gte = evaluate("revenue_last_year", "gte", str(threshold), Facts(revenue_last_year=actual))
    lte = evaluate("revenue_last_year", "lte", str(threshold), Facts(revenue_last_year=actual))
    assert (gte.result == PASS) == (actual >= threshold)
    assert (lte.result == PASS) == (actual <= threshold)
    assert {gte.result, lte.result} <= {PASS, FAIL}
