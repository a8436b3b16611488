"""Rules without a database: entry status, input cleaning, token text."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qijia.core.testing import make_uscc
from qijia.registry import validation as v
from qijia.registry.auth import TOKEN_PREFIX, hash_secret, new_token_text
from qijia.registry.models import Entry, EntryStatus


def _entry(valid_from, valid_to=None, revoked=False):
    return Entry(
        uscc="914403001922038216",
        list="ineligible",
        valid_from=valid_from,
        valid_to=valid_to,
        revoked_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC) if revoked else None,
    )


def test_entry_is_pending_before_its_window_and_active_on_its_first_day():
    entry = _entry(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert entry.status_on(dt.date(2026, 2, 28)) == EntryStatus.PENDING
    assert entry.status_on(dt.date(2026, 3, 1)) == EntryStatus.ACTIVE


def test_entry_is_still_active_on_its_last_day_and_expired_the_day_after():
    entry = _entry(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert entry.status_on(dt.date(2026, 3, 31)) == EntryStatus.ACTIVE
    assert entry.status_on(dt.date(2026, 4, 1)) == EntryStatus.EXPIRED


def test_open_ended_entry_never_expires_and_revocation_wins():
    assert _entry(dt.date(2020, 1, 1)).status_on(dt.date(2199, 1, 1)) == EntryStatus.ACTIVE
    assert _entry(dt.date(2020, 1, 1), revoked=True).status_on(dt.date(2021, 1, 1)) == "revoked"


@given(
    start=st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)),
    length=st.one_of(st.none(), st.integers(0, 3000)),
    day=st.dates(dt.date(1999, 1, 1), dt.date(2110, 1, 1)),
)
def test_applies_on_matches_the_window_definition(start, length, day):
    end = None if length is None else start + dt.timedelta(days=length)
    entry = _entry(start, end)
    expected = start <= day and (end is None or day <= end)
    assert entry.applies_on(day) is expected


def test_clean_text_reports_control_characters_and_length_by_field() -> None:
    errors: dict[str, str] = {}
    v.clean_text("a\x00b", "reason", errors)
    v.clean_text("x" * 201, "enterprise_name", errors)
    v.clean_text("  ", "reason", errors, required=False)
    assert errors == {
        "reason": "列入事由含有不可见的控制字符",
        "enterprise_name": "企业名称不能超过200个字符",
    }


def test_clean_list_accepts_codes_and_chinese_labels_only() -> None:
    errors: dict[str, str] = {}
    assert v.clean_list("blacklist", errors) == "blacklist"
    assert v.clean_list("不予资助", errors) == "ineligible"
    assert errors == {}
    v.clean_list("greylist", errors)
    assert "ineligible" in errors["list"]


def test_clean_date_names_the_field_and_window_must_be_ordered() -> None:
    errors: dict[str, str] = {}
    assert v.clean_date("2026/03/01", "valid_from", errors, required=True) == dt.date(2026, 3, 1)
    assert v.clean_date("", "valid_to", errors, required=False) is None
    v.clean_date("2026-02-30", "valid_from", errors, required=True)
    assert errors["valid_from"].startswith("生效日期“2026-02-30”不是有效日期")
    errors.clear()
    v.check_window(dt.date(2026, 3, 1), dt.date(2026, 2, 1), errors)
    assert errors == {"valid_to": "截止日期不能早于生效日期"}


def test_token_text_carries_a_lookup_prefix_and_only_the_hash_is_kept():
    text, prefix, digest = new_token_text()
    head, found_prefix, secret = text.split("_", 2)
    assert head == TOKEN_PREFIX and found_prefix == prefix
    assert digest == hash_secret(secret) and secret not in digest
    assert new_token_text()[0] != text


RAW_CODES = st.one_of(
    st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXYZIOSVabc ９Ａ", min_size=0, max_size=20),
    st.integers(0, 10**9).map(make_uscc),
)


@given(st.lists(RAW_CODES, max_size=25))
def test_fast_bulk_validation_agrees_with_the_identifier_rule(raws):
    from qijia.core.errors import ValidationFailed
    from qijia.core.identifiers import is_valid_uscc, normalize_uscc
    from qijia.registry.selectors import _fast_usccs, validate_codes

    for raw, fast in zip(raws, _fast_usccs(raws), strict=True):
        if fast is not None:
            assert is_valid_uscc(raw) and fast == normalize_uscc(raw)
        elif raw.strip().isascii():  # the fast path is exact on ASCII; the rest is rechecked
            assert not is_valid_uscc(raw)
    invalid = {f"uscc[{i}]" for i, raw in enumerate(raws) if not is_valid_uscc(raw)}
    if invalid:
        with pytest.raises(ValidationFailed) as caught:
            validate_codes(raws)
        assert set(caught.value.fields) == invalid or len(caught.value.fields) == 200
    else:
        assert validate_codes(raws) == [normalize_uscc(raw) for raw in raws]
