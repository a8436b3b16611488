"""Search benchmark for the registry: how long a partial name / USCC search takes at city scale,
and whether PostgreSQL uses the trigram indexes for it. Run by ``manage.py bench_enterprise_search``
against a database of its own (``--populate`` fills it with synthetic enterprises first)."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.db import connection

from qijia.core.identifiers import USCC_ALPHABET, uscc_check_char

from .models import Enterprise, Industry
from .selectors import EnterpriseFilters, enterprise_list, paginate

BRAND = "华新宏达盛鑫泰丰源隆裕嘉和恒兴诚信美佳永利金银富贵辉煌明光伟业天成广博立德"
TRADE = [
    "精密",
    "五金",
    "电子",
    "塑胶",
    "模具",
    "光电",
    "智能",
    "新材料",
    "家具",
    "纺织",
    "服装",
    "印刷",
    "包装",
    "机械",
    "自动化",
    "通讯",
    "照明",
    "玩具",
    "食品",
    "化工",
    "陶瓷",
    "线缆",
]
FORM = ["制品", "科技", "实业", "工业", "制造", "电器", "设备", "材料"]


def synthetic_uscc(n: int) -> str:
    body, value = [], n
    for _ in range(9):
        body.append(USCC_ALPHABET[value % 31])
        value //= 31
    first17 = "91441900" + "".join(reversed(body))
    return first17 + uscc_check_char(first17)


def populate(count: int, *, seed: int = 7, town_ids: list[int], batch: int = 10_000) -> int:
    """Insert ``count`` synthetic enterprises (valid USCCs, believable names) in bulk."""
    rnd = random.Random(seed)
    industries = list(Industry.objects.values_list("code", flat=True))
    start = Enterprise.objects.count()
    made = 0
    while made < count:
        rows = []
        for i in range(start + made, start + min(count, made + batch)):
            brand = "".join(rnd.sample(BRAND, 2))
            name = f"东莞市{brand}{rnd.choice(TRADE)}{rnd.choice(FORM)}有限公司{i}"
            rows.append(
                Enterprise(
                    uscc=synthetic_uscc(1_000_000 + i),
                    name=name,
                    town_id=rnd.choice(town_ids),
                    industry_id=rnd.choice(industries) if industries else None,
                    size_class=rnd.choices(["large", "medium", "small", "micro"], [1, 6, 30, 63])[
                        0
                    ],
                )
            )
        Enterprise.objects.bulk_create(rows, batch_size=batch)
        made += len(rows)
    return made


def _time(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


def run(*, actor: Any, repeat: int = 7) -> list[dict[str, Any]]:
    """Median and worst milliseconds for one page of typical searches, with the plan's indexes."""
    sample = Enterprise.objects.order_by("pk")[Enterprise.objects.count() // 2]
    cases = [
        ("名称片段（常见）", EnterpriseFilters(q="精密")),
        ("名称片段（少见）", EnterpriseFilters(q=sample.name[3:8])),
        ("信用代码片段", EnterpriseFilters(q=sample.uscc[8:16])),
        ("完整信用代码", EnterpriseFilters(q=sample.uscc)),
        ("镇街+规模", EnterpriseFilters(town=sample.town_id, size_class="medium")),
        (
            "名称+镇街+行业",
            EnterpriseFilters(q="科技", town=sample.town_id, industry=sample.industry_id or ""),
        ),
        ("无条件首页", EnterpriseFilters()),
    ]
    results = []
    for label, filters in cases:
        qs = enterprise_list(actor=actor, filters=filters)

        def one_page(qs: Any = qs) -> Any:
            return paginate(qs, page=1, page_size=25)

        median, worst = _time(one_page, repeat)
        plan = ""
        if connection.vendor == "postgresql":
            sql, params = qs[:25].query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + sql, params)
                plan = " ".join(row[0] for row in cursor.fetchall())
        indexes = sorted(
            {
                w
                for w in plan.replace('"', " ").split()
                if w.endswith(("_trgm", "_idx", "_key", "_like"))
            }
        )
        results.append(
            {
                "case": label,
                "count": qs.count(),
                "median_ms": round(median, 1),
                "max_ms": round(worst, 1),
                "indexes": indexes,
            }
        )
    return results
