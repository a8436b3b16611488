"""Normalisation for matching, checked over many generated inputs (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from qijia.core.identifiers import id_check_char, is_valid_uscc, uscc_check_char
from qijia.screening.detectors.invoices import duplicate_groups, invoice_key
from qijia.screening.detectors.relations import merge_persons
from qijia.screening.findings import finding_subject
from qijia.screening.normalize import invoice_part, normalize_phone, tax_id

digits = st.text(alphabet="0123456789", min_size=1, max_size=20)
noise = st.lists(st.sampled_from([" ", "-", "\t", "－"]), max_size=3)


@st.composite
def noisy(draw, base):
    """``base`` with spaces / hyphens inserted at random positions."""
    chars = list(base)
    for sep in draw(noise):
        chars.insert(draw(st.integers(0, len(chars))), sep)
    return "".join(chars)


@given(st.data(), digits)
def test_invoice_part_removes_only_spaces_and_hyphens_and_keeps_leading_zeros(data, number):
    typed = data.draw(noisy(number))
    assert invoice_part(typed) == number
    assert invoice_part("0" + number) != invoice_part(number)


@given(st.data(), digits, st.text(alphabet="0123456789", min_size=0, max_size=12))
def test_same_invoice_key_iff_normalised_code_and_number_equal(data, number, code):
    a = invoice_key(data.draw(noisy(code)), data.draw(noisy(number)))
    assert a == invoice_key(code, number)
    other_code = code + "1"
    assert invoice_key(other_code, number) != a


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", "4400231130"]),
            st.sampled_from(["00000001", "0000001", "00000002"]),
            st.sampled_from(["A1", "A2", "A3"]),
        ),
        max_size=30,
    )
)
def test_duplicate_groups_match_a_naive_pairwise_definition(rows) -> None:
    groups = duplicate_groups([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    fast = {frozenset(g) for g in groups}
    naive: dict[tuple[str, str], set[int]] = {}
    for i, (code, number, _) in enumerate(rows):
        naive.setdefault((code, number), set()).add(i)
    expected = {frozenset(g) for g in naive.values() if len({rows[i][2] for i in g}) > 1}
    assert fast == expected


USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@given(
    st.text(alphabet=USCC_CHARS, min_size=2, max_size=2),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=USCC_CHARS, min_size=9, max_size=9),
    noise,
)
def test_tax_id_normalisation_accepts_lower_case_and_separators(head, division, body, seps):
    first17 = head + division + body
    code = first17 + uscc_check_char(first17)
    typed = " " + "".join(seps) + code.lower() + " "
    assert tax_id(typed) == code
    assert is_valid_uscc(tax_id(typed))


@given(
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.sampled_from(["", "+86", "0086", "+86 ", "86"]),
    noise,
)
def test_mobile_numbers_normalise_to_the_same_eleven_digits(mobile, prefix, seps):
    typed = prefix + mobile[:3] + "".join(seps) + mobile[3:]
    assert normalize_phone(typed) == mobile


@given(
    # an area code without its 0; 400 and 800 begin service numbers, never an area code
    st.from_regex(r"(10|2[0-9]|[3-9][0-9]{2})", fullmatch=True).filter(
        lambda area: area not in ("400", "800")
    ),
    st.from_regex(r"[2-8][0-9]{6,7}", fullmatch=True),
    st.sampled_from(
        ["0{a}{n}", "0{a}-{n}", "(0{a}) {n}", "+86 {a} {n}", "0086-{a}-{n}", "+86{a}{n}"]
    ),
)
def test_a_landline_written_at_home_or_abroad_normalises_to_one_number(area, number, form):
    assert normalize_phone(form.format(a=area, n=number)) == "0" + area + number


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["王伟", "李娜", ""]),
            st.sampled_from(["", "a", "b"]),
            st.sampled_from(["", "138", "139"]),
            st.sampled_from(["", "x@y.cn", "X@Y.CN "]),
        ),
        max_size=12,
    )
)
def test_person_merge_never_joins_different_ids_and_never_by_name_alone(rows):
    ids = {"": "", "a": "11010519491231002X", "b": "110105194912310029"}
    comp = merge_persons(
        [r[0] for r in rows], [ids[r[1]] for r in rows], [r[2] for r in rows], [r[3] for r in rows]
    )
    for i, ri in enumerate(rows):
        for j, rj in enumerate(rows):
            if comp[i] != comp[j]:
                continue
            assert not (ri[1] and rj[1] and ri[1] != rj[1])  # different IDs never merge
        # equal ID numbers always merge
        for j, rj in enumerate(rows):
            if ri[1] and ri[1] == rj[1]:
                assert comp[i] == comp[j]
    # a row with no ID and no contact is never merged: equal names alone do not make a person
    for i, r in enumerate(rows):
        if not r[1] and not r[2] and not r[3]:
            assert comp.count(comp[i]) == 1


@given(
    st.text(alphabet="0123456789", min_size=17, max_size=17),
    st.sampled_from(
        [
            lambda n: f" {n} ",
            lambda n: f"{n[:6]} {n[6:14]} {n[14:]}",
            str.lower,  # a check character X typed as x
        ]
    ),
    st.sampled_from(["王伟", "王 伟", "Wang Wei"]),
)
def test_one_id_number_however_typed_is_one_person_whatever_the_names(first17, typed, name):
    number = first17 + id_check_char(first17)
    assert merge_persons(["王伟", name], [number, typed(number)], ["", ""], ["", ""]) == [0, 0]


@given(
    st.from_regex(r"[a-z0-9]{1,8}@[a-z0-9]{1,8}\.cn", fullmatch=True),
    st.sampled_from([str.upper, str.title, lambda e: f"  {e} "]),
)
def test_same_name_and_one_email_however_cased_without_ids_is_one_person(email, typed):
    assert merge_persons(["李娜", "李娜"], ["", ""], ["", ""], [email, typed(email)]) == [0, 0]


@given(digits, digits)
def test_subject_of_invoice_findings_ignores_separators(code, number):
    spaced = {
        "invoice_code": " ".join(code),
        "invoice_number": "-".join(number),
        "other_application_id": "A2",
    }
    plain = {"invoice_code": code, "invoice_number": number, "other_application_id": "A2"}
    assert finding_subject("duplicate_invoice", spaced) == finding_subject(
        "duplicate_invoice", plain
    )


def test_id_check_character_example_from_the_spec():
    assert id_check_char("11010519491231002") == "X"
