"""``qijia demo_accounts``: one demo account per role, printed with the password and login URL."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from qijia.core.errors import DomainError
from qijia.demo.accounts import DEMO_PASSWORD, LOGIN_URL, demo_accounts_ensure


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


class Command(BaseCommand):
    help = "创建或重置演示账号（每个角色一个），并打印用户名、角色、所属单位和密码。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="在 DEBUG 关闭时也创建（勿用于生产环境）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "演示账号使用公开的密码，只能在 DEBUG 模式下创建；确需创建请加 --force。"
            )
        try:
            accounts = demo_accounts_ensure(actor=None)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        header = ("用户名", "角色", "所属单位", "密码")
        rows = [(a.username, a.role_label, a.unit, DEMO_PASSWORD) for a in accounts]
        widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(4)]
        line = "-+-".join("-" * w for w in widths)
        self.stdout.write("演示账号（每个角色一个）：")
        self.stdout.write(line)
        for row in [header, *rows]:
            self.stdout.write(
                " | ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True))
            )
            if row is header:
                self.stdout.write(line)
        self.stdout.write(line)
        created = sum(a.created for a in accounts)
        self.stdout.write(
            f"新建 {created} 个，重置 {len(accounts) - created} 个。登录地址：{LOGIN_URL}"
        )
