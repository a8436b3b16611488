"""Identifier rules (shared/specs/identifiers.md), with hypothesis over valid and corrupted codes."""

import datetime as dt

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from qijia.core.identifiers import (
    USCC_ALPHABET,
    IdentifierError,
    id_check_char,
    mask_id_number,
    normalize_email,
    normalize_invoice_part,
    normalize_phone,
    uscc_check_char,
    validate_id_number,
    validate_invoice,
    validate_uscc,
)

uscc_body = st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9)
division = st.text(alphabet="0123456789", min_size=6, max_size=6)


@st.composite
def valid_usccs(draw):
    first17 = (
        draw(st.sampled_from(["91", "92", "93", "11", "51"])) + draw(division) + draw(uscc_body)
    )
    return first17 + uscc_check_char(first17)


@st.composite
def valid_id_numbers(draw):
    birth = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)))
    first17 = (
        draw(division)
        + birth.strftime("%Y%m%d")
        + draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    )
    return first17 + id_check_char(first17)


@pytest.mark.parametrize("code", ["914403001922038216", "91440300708461136T", "91330100799655058B"])
def test_public_uscc_examples_pass(code):
    assert validate_uscc(code) == code


def test_uscc_lower_case_is_accepted_and_stored_upper():
    assert validate_uscc("  91440300708461136t ") == "91440300708461136T"


@given(valid_usccs())
def test_every_generated_uscc_passes(code):
    assert validate_uscc(code) == code


@given(valid_usccs(), st.integers(min_value=0, max_value=17), st.sampled_from(USCC_ALPHABET))
def test_changing_any_one_character_of_a_uscc_is_caught(code, position, replacement):
    assume(code[position] != replacement)
    corrupted = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(IdentifierError):
        validate_uscc(corrupted)


@given(valid_usccs(), st.integers(min_value=0, max_value=15))
def test_swapping_adjacent_characters_of_a_uscc_is_caught(code, position):
    assume(code[position] != code[position + 1])
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    assume(swapped[2:8].isdigit())
    with pytest.raises(IdentifierError) as err:
        validate_uscc(swapped)
    assert err.value.code == "uscc_check"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "uscc_empty"),
        ("9144030019220382", "uscc_length"),
        ("91440300192203821I", "uscc_charset"),
        ("9144O3001922038216", "uscc_charset"),
        ("914403001922038217", "uscc_check"),
    ],
)
def test_uscc_errors_name_the_rule(value, code):
    with pytest.raises(IdentifierError) as err:
        validate_uscc(value)
    assert err.value.code == code
    assert err.value.message  # Chinese text for the user


def test_public_id_example_passes_and_lower_x_is_stored_upper():
    assert validate_id_number("11010519491231002x") == "11010519491231002X"


@given(valid_id_numbers())
def test_every_generated_id_number_passes(number):
    assert validate_id_number(number) == number


@given(valid_id_numbers(), st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_changing_one_digit_of_an_id_number_is_caught(number, position, replacement):
    assume(number[position] != replacement)
    assume(position == 17 or replacement != "X")
    corrupted = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(IdentifierError):
        validate_id_number(corrupted)


def test_id_number_with_impossible_or_future_birth_date_is_refused():
    first17 = "44190019990230123"
    with pytest.raises(IdentifierError) as err:
        validate_id_number(first17 + id_check_char(first17))
    assert err.value.code == "id_birth_date"
    first17 = "44190020990101123"
    with pytest.raises(IdentifierError) as err:
        validate_id_number(first17 + id_check_char(first17), today=dt.date(2026, 11, 28))
    assert err.value.code == "id_birth_future"


@given(valid_id_numbers())
def test_masked_id_number_hides_the_birth_date(number):
    masked = mask_id_number(number)
    assert masked[:6] == number[:6] and masked[-4:] == number[-4:]
    assert set(masked[6:14]) == {"*"}


def test_invoice_pairs_and_digital_invoices():
    assert validate_invoice("044001 900111", "0012-3456") == ("044001900111", "00123456")
    assert validate_invoice("", "2644 2000 0000 1234 5678") == ("", "26442000000012345678")
    with pytest.raises(IdentifierError):
        validate_invoice("", "00123456")
    with pytest.raises(IdentifierError):
        validate_invoice("12345", "00123456")


@given(
    st.text(alphabet="0123456789", min_size=8, max_size=20),
    st.lists(st.sampled_from([" ", "-"]), max_size=4),
)
def test_invoice_normalisation_keeps_leading_zeros_and_drops_separators(digits, seps):
    typed = digits
    for i, sep in enumerate(seps):
        cut = (i + 1) * len(digits) // (len(seps) + 1)
        typed = typed[:cut] + sep + typed[cut:]
    assert normalize_invoice_part(typed) == digits


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("+86 138-0013-8000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("(0769) 2283-1234", "076922831234"),
        ("138 0013 8000", "13800138000"),
        ("+86 769 2283 1234", "076922831234"),  # the same Dongguan line, written abroad
        ("0086-769-22831234", "076922831234"),
        ("+86 (0769) 2283 1234", "076922831234"),
        ("+86 10 6552 9988", "01065529988"),  # Beijing: 10 digits from 1, not a mobile
        ("+86 400-123-4567", "4001234567"),  # service numbers have no trunk 0
        ("400-123-4567", "4001234567"),
        ("+86 95588", "95588"),
    ],
)
def test_phone_normalisation(raw, normal):
    assert normalize_phone(raw) == normal


def test_email_normalisation():
    assert normalize_email("  Zhang.San@Example.COM ") == "zhang.san@example.com"
