"""``manage.py registry_expire [--date YYYY-MM-DD]``: the expiry job, by hand or from cron."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from qijia.core import context
from qijia.registry.services import checklog_seal, registry_expire


class Command(BaseCommand):
    help = "记录已到期的名单条目并通知企业和来源部门（每个条目只通知一次），并封存查询记录"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--date", help="以该日期为今天（YYYY-MM-DD），默认为今天")

    def handle(self, *args, **options) -> None:
        today = None
        if options["date"]:
            try:
                today = dt.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(
                    f"--date “{options['date']}”不是有效日期，应为 YYYY-MM-DD"
                ) from None
        token = context.bind(context.RequestContext(channel="cli"))
        try:
            count = registry_expire(today=today)
            sealed = checklog_seal()
        finally:
            context.reset(token)
        self.stdout.write(f"已处理到期条目 {count} 条；封存查询记录 {sealed} 条")
