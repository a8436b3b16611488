from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from qijia.enterprises import bench
from qijia.identity.models import OrgUnit, User
from qijia.identity.roles import TOWN_KINDS


class Command(BaseCommand):
    help = "Time registry searches (one page, as the list shows it); --populate N adds N synthetic enterprises first."

    def add_arguments(self, parser):
        parser.add_argument("--populate", type=int, default=0)
        parser.add_argument("--repeat", type=int, default=7)

    def handle(self, *args, populate: int, repeat: int, **options):
        towns = list(OrgUnit.objects.filter(kind__in=TOWN_KINDS).values_list("pk", flat=True))
        if not towns:
            raise CommandError("没有镇街参考数据：请先运行 manage.py load_reference")
        if populate:
            started = time.perf_counter()
            made = bench.populate(populate, town_ids=towns)
            self.stdout.write(
                f"populated {made} enterprises in {time.perf_counter() - started:.1f}s"
            )
        actor = User(username="bench", role="inspector", is_active=True)
        for row in bench.run(actor=actor, repeat=repeat):
            self.stdout.write(
                f"{row['case']:<16} rows={row['count']:>7}  median={row['median_ms']:>7} ms  "
                f"max={row['max_ms']:>7} ms  {','.join(row['indexes'])}"
            )
