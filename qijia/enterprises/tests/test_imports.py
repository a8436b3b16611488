import io

import pytest
from openpyxl import load_workbook

from qijia.audit.models import AuditEvent
from qijia.core.testing import EnterpriseFactory, make_id_number, make_uscc
from qijia.enterprises.imports import Upload, import_file
from qijia.enterprises.models import (
    Enterprise,
    Holding,
    ImportBatch,
    MonthlyIndicator,
    Person,
    PersonRole,
)

from .helpers import ENTERPRISE_HEADER, csv_upload, xlsx_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(user_factory):
    return user_factory("officer")


def enterprise_rows(n, start=1000):
    return [
        [
            make_uscc(start + i),
            f"东莞市导入测试有限公司{i}",
            "南城街道",
            "C39",
            f"测试路{i}号",
            "小型",
            "2015-03-01",
        ]
        for i in range(n)
    ]


def snapshot_registry():
    return {
        "enterprises": list(Enterprise.objects.order_by("uscc").values()),
        "persons": list(Person.objects.order_by("id").values()),
        "roles": list(PersonRole.objects.order_by("id").values()),
        "holdings": list(Holding.objects.order_by("id").values()),
        "indicators": list(MonthlyIndicator.objects.order_by("id").values()),
    }


@pytest.mark.parametrize("builder", [csv_upload, xlsx_upload])
def test_good_enterprise_file_is_imported_and_audited(officer, builder):
    upload_rows = enterprise_rows(3)
    upload = builder([ENTERPRISE_HEADER, *upload_rows])
    batch = import_file(actor=officer, kind="enterprises", upload=upload)
    assert batch.status == "imported", batch.errors_preview
    assert (batch.row_count, batch.created_count, batch.updated_count) == (3, 3, 0)
    assert Enterprise.objects.filter(name__startswith="东莞市导入测试").count() == 3
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "enterprises.import.apply" in actions
    created = AuditEvent.objects.get(action="enterprises.enterprise.import_create")
    assert created.after["import_batch"] == batch.pk
    assert sorted(r["uscc"] for r in created.after["records"]) == sorted(r[0] for r in upload_rows)
    with batch.file.open("rb") as kept:
        assert kept.read() == upload.data


@pytest.mark.parametrize("builder", [csv_upload, xlsx_upload])
def test_file_with_one_bad_row_imports_nothing_and_reports_row_column_reason(officer, builder):
    rows = enterprise_rows(4)
    bad_uscc = rows[2][0][:17] + ("0" if rows[2][0][17] != "0" else "1")
    rows[2][0] = bad_uscc
    upload = builder([ENTERPRISE_HEADER, *rows])
    before = Enterprise.objects.count()
    batch = import_file(actor=officer, kind="enterprises", upload=upload)
    assert batch.status == "rejected"
    assert Enterprise.objects.count() == before
    assert batch.error_count == 1
    error = batch.errors_preview[0]
    assert error["line"] == 4 and error["cell"] == "A4" and error["column"] == "统一社会信用代码"
    assert "校验位" in error["message"]
    with batch.error_report.open("rb") as fh:
        report = load_workbook(io.BytesIO(fh.read()))
    sheet = report["错误明细"]
    assert [c.value for c in sheet[2]][:3] == [4, "A4", "统一社会信用代码"]
    assert "校验位错误" in sheet.cell(row=2, column=5).value
    assert AuditEvent.objects.filter(action="enterprises.import.reject").count() == 1
    assert not AuditEvent.objects.filter(action__startswith="enterprises.enterprise.").exists()


def test_every_bad_cell_of_every_bad_row_is_reported(officer):
    rows = enterprise_rows(3)
    rows[0][2] = "火星镇"
    rows[0][5] = "巨型"
    rows[2][6] = "2015-13-40"
    rows.append(list(rows[1]))  # duplicate USCC
    batch = import_file(
        actor=officer, kind="enterprises", upload=csv_upload([ENTERPRISE_HEADER, *rows])
    )
    found = {(e["line"], e["column"]) for e in batch.errors_preview}
    assert found == {(2, "镇街"), (2, "规模"), (4, "成立日期"), (5, "统一社会信用代码")}
    assert any("与第3行" in e["message"] for e in batch.errors_preview)


@pytest.mark.parametrize("builder", [csv_upload, xlsx_upload])
def test_importing_the_same_file_twice_changes_nothing(officer, builder):
    e1, e2 = EnterpriseFactory(), EnterpriseFactory()
    n1, n2 = make_id_number(11), make_id_number(12, birth="19750505")
    files = [
        ("enterprises", builder([ENTERPRISE_HEADER, *enterprise_rows(2, start=5000)])),
        (
            "persons",
            builder(
                [["身份证号码", "姓名", "手机号"], [n1, "张三", "13800138000"], [n2, "李四", ""]]
            ),
        ),
        (
            "roles",
            builder(
                [
                    ["身份证号码", "统一社会信用代码", "职务", "持股比例(%)"],
                    [n1, e1.uscc, "法定代表人", ""],
                    [n1, e1.uscc, "股东", "51.5"],
                    [n2, e2.uscc, "shareholder", "30"],
                ]
            ),
        ),
        (
            "holdings",
            builder(
                [
                    ["持股企业统一社会信用代码", "被持股企业统一社会信用代码", "持股比例(%)"],
                    [e1.uscc, e2.uscc, "60"],
                ]
            ),
        ),
        (
            "indicators",
            builder(
                [
                    ["统一社会信用代码", "月份", "营业收入(万元)", "从业人员(人)"],
                    [e1.uscc, "2024-01", "1200.50", "85"],
                    [e1.uscc, "2024-02", "1300", "86"],
                ]
            ),
        ),
    ]
    for kind, upload in files:
        batch = import_file(actor=officer, kind=kind, upload=upload)
        assert batch.status == "imported", (kind, batch.errors_preview)
    first = snapshot_registry()
    audit_count = AuditEvent.objects.count()
    for kind, upload in files:
        batch = import_file(actor=officer, kind=kind, upload=upload)
        assert batch.status == "imported"
        assert (batch.created_count, batch.updated_count) == (0, 0)
        assert batch.unchanged_count == batch.row_count
    assert snapshot_registry() == first
    # Only the batch bookkeeping is audited the second time: receive + apply per file.
    assert AuditEvent.objects.count() == audit_count + 2 * len(files)
    person = Person.objects.get(name="张三")
    assert person.id_number_masked == n1[:6] + "********" + n1[-4:]
    assert n1 not in person.id_number_encrypted and person.id_number_hash != n1


def test_changed_row_updates_only_what_changed(officer):
    rows = enterprise_rows(2, start=7000)
    import_file(actor=officer, kind="enterprises", upload=csv_upload([ENTERPRISE_HEADER, *rows]))
    rows[1][1] = "东莞市改名后的有限公司"
    batch = import_file(
        actor=officer, kind="enterprises", upload=csv_upload([ENTERPRISE_HEADER, *rows])
    )
    assert (batch.created_count, batch.updated_count, batch.unchanged_count) == (0, 1, 1)
    event = AuditEvent.objects.filter(action="enterprises.enterprise.update").get()
    assert event.before == {"name": "东莞市导入测试有限公司1"}
    assert event.after["name"] == "东莞市改名后的有限公司"


def test_roles_naming_unknown_person_or_enterprise_are_rejected(officer):
    e1 = EnterpriseFactory()
    upload = csv_upload(
        [
            ["身份证号码", "统一社会信用代码", "职务", "持股比例(%)"],
            [make_id_number(99), e1.uscc, "董事", ""],
            [make_id_number(98), make_uscc(99999), "董事", "10"],
        ]
    )
    batch = import_file(actor=officer, kind="roles", upload=upload)
    assert batch.status == "rejected"
    messages = {(e["line"], e["column"]): e["message"] for e in batch.errors_preview}
    assert "尚未登记" in messages[(2, "身份证号码")]
    assert "尚未登记" in messages[(3, "统一社会信用代码")]
    assert "只有股东" in messages[(3, "持股比例(%)")]
    assert not PersonRole.objects.exists()


def test_content_decides_the_format_not_the_name(officer):
    fake = Upload(name="data.xlsx", data=b"\x89PNG\r\n\x1a\n\x00\x00\x00 not a table")
    batch = import_file(actor=officer, kind="enterprises", upload=fake)
    assert batch.status == "rejected"
    assert "不是文本表格" in batch.errors_preview[0]["message"]
    gbk = Upload(name="data.csv", data="统一社会信用代码,企业名称\n".encode("gbk"))
    batch = import_file(actor=officer, kind="enterprises", upload=gbk)
    assert "UTF-8" in batch.errors_preview[0]["message"]
    real = xlsx_upload([ENTERPRISE_HEADER, *enterprise_rows(1, start=8000)], name="data.csv")
    batch = import_file(actor=officer, kind="enterprises", upload=real)
    assert batch.status == "imported" and batch.file_format == "xlsx"
    assert ImportBatch.objects.count() == 3


def test_unknown_and_missing_headers_reject_the_file(officer):
    upload = csv_upload([["统一社会信用代码", "公司名", "镇街"], [make_uscc(1), "x", "南城街道"]])
    batch = import_file(actor=officer, kind="enterprises", upload=upload)
    messages = [e["message"] for e in batch.errors_preview]
    assert "未知的列名“公司名”" in messages
    assert "缺少必填列“企业名称”" in messages


def test_numeric_identifier_cells_in_xlsx_are_refused(officer):
    upload = xlsx_upload([["身份证号码", "姓名"], [441900198001010011, "王五"]])
    batch = import_file(actor=officer, kind="persons", upload=upload)
    assert batch.status == "rejected"
    assert "文本格式" in batch.errors_preview[0]["message"]


def test_upload_over_the_size_bound_is_refused(officer, settings):
    from qijia.core.errors import ValidationFailed
    from qijia.enterprises.imports import read_upload

    settings.QIJIA_MAX_UPLOAD_BYTES = 100
    with pytest.raises(ValidationFailed) as exc:
        read_upload(io.BytesIO(b"x" * 101), name="big.csv")
    assert exc.value.code == "upload_too_large"


def test_only_officers_may_import(user_factory):
    from qijia.core.errors import PermissionDenied

    for role in ("town", "inspector", "partner", "expert", "enterprise"):
        with pytest.raises(PermissionDenied):
            import_file(
                actor=user_factory(role), kind="enterprises", upload=csv_upload([ENTERPRISE_HEADER])
            )
    assert not ImportBatch.objects.exists()


def test_a_processed_batch_is_not_processed_again(officer):
    from qijia.enterprises.imports import import_process

    batch = import_file(
        actor=officer,
        kind="enterprises",
        upload=csv_upload([ENTERPRISE_HEADER, *enterprise_rows(2, start=9100)]),
    )
    events = AuditEvent.objects.count()
    again = import_process(batch_id=batch.pk)
    assert again.status == "imported" and AuditEvent.objects.count() == events


def test_upload_page_processes_the_file_and_shows_the_result(officer, client):
    client.force_login(officer)
    upload = csv_upload([ENTERPRISE_HEADER, *enterprise_rows(2, start=9200)], name="企业.csv")
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/enterprises/import/",
        {"kind": "enterprises", "file": SimpleUploadedFile("企业.csv", upload.data, "text/csv")},
        follow=True,
    )
    assert response.status_code == 200
    assert "新增 2" in response.content.decode()
    batch = ImportBatch.objects.get()
    assert batch.status == "imported" and batch.original_name == "企业.csv"
    assert batch.uploaded_by == officer


def test_upload_page_refuses_an_oversized_file_with_a_field_error(officer, client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.QIJIA_MAX_UPLOAD_BYTES = 1024
    client.force_login(officer)
    response = client.post(
        "/enterprises/import/",
        {"kind": "enterprises", "file": SimpleUploadedFile("big.csv", b"a," * 1000, "text/csv")},
    )
    assert response.status_code == 400
    assert "文件超过大小上限" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_command_line_import_reports_errors_and_imports_good_files(officer, tmp_path):
    from django.core.management import CommandError, call_command

    good = tmp_path / "企业.csv"
    good.write_bytes(csv_upload([ENTERPRISE_HEADER, *enterprise_rows(2, start=9300)]).data)
    out = io.StringIO()
    call_command("import_registry", "enterprises", str(good), user=officer.username, stdout=out)
    assert "新增 2" in out.getvalue()
    rows = enterprise_rows(1, start=9400)
    rows[0][2] = "不存在镇"
    bad = tmp_path / "坏.csv"
    bad.write_bytes(csv_upload([ENTERPRISE_HEADER, *rows]).data)
    err = io.StringIO()
    with pytest.raises(CommandError, match="未导入"):
        call_command("import_registry", "enterprises", str(bad), user=officer.username, stderr=err)
    assert "第2行 C2 镇街" in err.getvalue()


def test_upload_declared_over_the_bound_is_refused_before_reading_it(officer, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    settings.QIJIA_MAX_UPLOAD_BYTES = 1024
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    response = client.post(
        "/enterprises/import/",
        {"kind": "enterprises", "file": SimpleUploadedFile("big.csv", b"a," * 100_000, "text/csv")},
    )
    assert response.status_code == 413
    assert "文件超过大小上限" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_small_upload_without_csrf_token_is_still_refused(officer):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    response = client.post(
        "/enterprises/import/",
        {"kind": "enterprises", "file": SimpleUploadedFile("a.csv", b"x", "text/csv")},
    )
    assert response.status_code == 403
    assert not ImportBatch.objects.exists()
