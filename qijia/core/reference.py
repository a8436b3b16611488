"""Reference data from shared/reference/: towns (as org units) and GB/T 4754 industries."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from django.conf import settings
from django.db import transaction

from qijia.core.errors import ValidationFailed


def reference_dir() -> Path:
    configured = os.environ.get("QIJIA_REFERENCE_DIR")
    if configured:
        return Path(configured)
    for candidate in (
        settings.BASE_DIR.parent / "shared" / "reference",
        settings.BASE_DIR / "reference",
    ):
        if candidate.is_dir():
            return candidate
    raise ValidationFailed(
        "找不到参考数据目录（../shared/reference），请设置 QIJIA_REFERENCE_DIR",
        code="reference_missing",
    )


def _rows(name: str, columns: set[str]) -> list[dict[str, str]]:
    path = reference_dir() / name
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = columns - set(reader.fieldnames or [])
        if missing:
            raise ValidationFailed(
                f"{path}: 缺少列 {', '.join(sorted(missing))}", code="reference_columns"
            )
        rows = []
        for line, row in enumerate(reader, start=2):
            if any(not (row.get(c) or "").strip() for c in columns):
                raise ValidationFailed(f"{path} 第{line}行: 有空值", code="reference_row")
            rows.append({c: row[c].strip() for c in columns})
        return rows


TOWN_KIND = {
    "town": "town",
    "subdistrict": "subdistrict",
    "zone": "zone",
    "functional_zone": "zone",
}


@transaction.atomic
def load_reference() -> dict[str, int]:
    """Idempotent: upserts towns (org units of kind town/subdistrict/zone) and industries."""
    from qijia.enterprises.models import Industry
    from qijia.identity.models import OrgUnit

    towns = _rows("dongguan-towns.csv", {"name", "kind"})
    for index, row in enumerate(towns, start=1):
        kind = TOWN_KIND.get(row["kind"])
        if kind is None:
            raise ValidationFailed(
                f"dongguan-towns.csv 第{index + 1}行: 未知类型 {row['kind']}", code="reference_row"
            )
        OrgUnit.objects.update_or_create(
            name=row["name"], defaults={"kind": kind, "code": f"town-{index:02d}"}
        )
    industries = _rows("industries.csv", {"code", "name"})
    for row in industries:
        Industry.objects.update_or_create(code=row["code"], defaults={"name": row["name"]})
    return {"towns": len(towns), "industries": len(industries)}
