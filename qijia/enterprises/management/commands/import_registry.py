from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from qijia.core import context
from qijia.core.errors import DomainError
from qijia.enterprises.imports import Upload, import_file
from qijia.enterprises.imports.kinds import KINDS
from qijia.identity.models import User


class Command(BaseCommand):
    help = (
        "导入企业库数据文件（XLSX 或 UTF-8 CSV，一个文件一类数据）。与网页导入相同：有任何错误则整个文件不导入，"
        "并生成错误报告。Import one registry file as the given officer (same rules as the web page)."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(KINDS))
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--user", required=True, help="username of the officer the import is recorded for"
        )

    def handle(self, *args, kind: str, path: Path, user: str, **options):
        actor = User.objects.filter(username=user, is_active=True).first()
        if actor is None:
            raise CommandError(f"用户“{user}”不存在或已停用")
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        token = context.bind(context.RequestContext(channel="cli"))
        try:
            batch = import_file(actor=actor, kind=kind, upload=Upload(path.name, path.read_bytes()))
        except DomainError as exc:
            raise CommandError(exc.message) from None
        finally:
            context.reset(token)
        if batch.status == "imported":
            self.stdout.write(
                f"已导入 {path.name}：{batch.row_count} 行，新增 {batch.created_count}，"
                f"更新 {batch.updated_count}，未变化 {batch.unchanged_count}（批次 {batch.pk}）"
            )
            return
        for error in batch.errors_preview:
            where = f"第{error['line']}行 {error['cell']}" if error["line"] else "整个文件"
            self.stderr.write(f"{path.name} {where} {error['column']}：{error['message']}")
        report = batch.error_report.path if batch.error_report else ""
        raise CommandError(
            f"{path.name} 未导入（{batch.get_status_display()}，{batch.error_count} 处错误）"
            + (f"；错误报告：{report}" if report else "")
            + (f"；{batch.failure_message}" if batch.failure_message else "")
        )
