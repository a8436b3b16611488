"""Field rules and table reading without a database (hypothesis over many inputs)."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qijia.core.identifiers import USCC_ALPHABET, uscc_check_char
from qijia.enterprises import validation as v
from qijia.enterprises.imports.reading import FileRejected, column_letter, read_table, sniff

NO_LOOKUPS = v.Lookups(towns={"南城街道": 1}, industries={"C39": "C39"})
uscc_body = st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17).map(
    lambda s: "91441900" + s[8:]
)


@given(uscc_body)
def test_every_valid_uscc_is_accepted_in_any_case(first17):
    code = first17 + uscc_check_char(first17)
    assert v.uscc(code.lower(), NO_LOOKUPS) == code
    assert v.uscc(f"  {code} ", NO_LOOKUPS) == code


@given(uscc_body, st.integers(0, 17), st.sampled_from(USCC_ALPHABET))
def test_a_uscc_with_one_changed_character_is_refused(first17, position, replacement):
    code = first17 + uscc_check_char(first17)
    if code[position] == replacement:
        return
    corrupted = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(v.CellError):
        v.uscc(corrupted, NO_LOOKUPS)


def test_identifier_typed_as_a_number_is_refused_with_the_reason():
    with pytest.raises(v.CellError, match="文本格式"):
        v.id_number(441900198001010011, NO_LOOKUPS)


@given(st.decimals(min_value=0, max_value=Decimal("99999999999999.99"), places=2))
def test_money_with_two_places_round_trips_from_text_and_float(value):
    parse = v.decimal(16, 2)
    assert parse(str(value), NO_LOOKUPS) == value
    assert parse(f"{value:,}", NO_LOOKUPS) == value  # thousands separators as Excel shows them


@given(st.decimals(min_value=Decimal("0.001"), max_value=1000, places=3))
def test_more_decimal_places_than_the_field_keeps_are_refused(value):
    parse = v.decimal(16, 2)
    if value == value.quantize(Decimal("0.01")):
        return
    with pytest.raises(v.CellError, match="小数"):
        parse(str(value), NO_LOOKUPS)


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date.today()))
def test_month_is_read_from_common_spellings_as_its_first_day(day):
    first = day.replace(day=1)
    for text in (f"{day:%Y-%m}", f"{day:%Y/%m}", f"{day.year}年{day.month}月", first.isoformat()):
        assert v.month(text, NO_LOOKUPS) == first
    assert v.month(dt.datetime(first.year, first.month, 1), NO_LOOKUPS) == first


def test_month_rules_name_the_problem():
    with pytest.raises(v.CellError, match="第一天"):
        v.month("2024-03-15", NO_LOOKUPS)
    with pytest.raises(v.CellError, match="尚未到来"):
        v.month(f"{dt.date.today().year + 1}-01", NO_LOOKUPS)
    with pytest.raises(v.CellError, match="YYYY-MM"):
        v.month("三月", NO_LOOKUPS)


def test_choices_accept_the_chinese_label_or_the_value():
    parse = v.choice(v.SizeClass, "企业规模")
    assert (
        parse("中型", NO_LOOKUPS)
        == parse("medium", NO_LOOKUPS)
        == parse("MEDIUM", NO_LOOKUPS)
        == "medium"
    )
    with pytest.raises(v.CellError, match="大型、中型、小型、微型"):
        parse("巨型", NO_LOOKUPS)


def test_industry_accepts_code_two_digits_or_name():
    lookups = v.Lookups(
        towns={}, industries={"C39": "C39", "计算机、通信和其他电子设备制造业": "C39"}
    )
    assert v.industry("c39", lookups) == v.industry("39", lookups) == "C39"
    assert v.industry("计算机、通信和其他电子设备制造业", lookups) == "C39"
    with pytest.raises(v.CellError, match="GB/T 4754"):
        v.industry("C99", lookups)


def test_phone_and_email_are_normalised():
    assert v.phone("+86 138-0013-8000", NO_LOOKUPS) == "13800138000"
    assert v.phone("0769-2233 4455", NO_LOOKUPS) == "076922334455"
    assert v.email("  Boss@Example.COM ", NO_LOOKUPS) == "boss@example.com"
    with pytest.raises(v.CellError):
        v.phone("call me", NO_LOOKUPS)
    with pytest.raises(v.CellError):
        v.email("not-an-address", NO_LOOKUPS)


def test_clean_or_raise_names_every_bad_field():
    with pytest.raises(Exception) as exc:
        v.clean_or_raise(
            v.PERSON_COLUMNS, {"id_number": "123", "name": "", "phone": "x"}, NO_LOOKUPS
        )
    assert set(exc.value.fields) == {"id_number", "name", "phone"}


@given(st.integers(0, 5000))
def test_column_letters_are_spreadsheet_letters(index):
    letters = column_letter(index)
    value = 0
    for char in letters:
        value = value * 26 + (ord(char) - 64)
    assert value - 1 == index


cell_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00")
    | st.sampled_from(',"\n;\t'),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip())


@settings(max_examples=60)
@given(st.lists(st.tuples(cell_text, cell_text), min_size=1, max_size=8))
def test_csv_cells_survive_quoting_commas_and_newlines(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["身份证号码", "姓名"])
    writer.writerows(rows)
    table = read_table(buffer.getvalue().encode("utf-8"), v.PERSON_COLUMNS)
    assert [(r[1]["id_number"], r[1]["name"]) for r in table.rows] == rows
    assert table.rows[0][2] == {"id_number": "A2", "name": "B2"}


def test_content_sniffing_refuses_what_is_not_a_table():
    with pytest.raises(FileRejected, match="xls"):
        sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(FileRejected, match="压缩包"):
        buffer = io.BytesIO()
        import zipfile

        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("readme.txt", "hello")
        sniff(buffer.getvalue())
    with pytest.raises(FileRejected, match="为空"):
        sniff(b"")
    assert sniff("统一社会信用代码\n".encode()) == "csv"


def test_semicolon_and_tab_separated_files_are_read_by_their_header():
    for sep in (";", "\t"):
        text = f'身份证号码{sep}姓名\n11010519491231002X{sep}"张,三"\n'
        table = read_table(text.encode(), v.PERSON_COLUMNS)
        assert table.rows[0][1] == {"id_number": "11010519491231002X", "name": "张,三"}
