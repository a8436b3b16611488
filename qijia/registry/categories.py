"""The six grounds for listing the issue names. The migration seeds them; the code list is data
after that (staff may add or retire categories in the admin)."""

from __future__ import annotations

from typing import Any

CATEGORIES: tuple[tuple[str, str, int], ...] = (
    ("environmental", "环境违法", 10),
    ("tax_arrears", "欠缴税款", 20),
    ("dishonesty", "严重失信/失信被执行人", 30),
    ("public_funds_fraud", "骗取财政资金", 40),
    ("safety_accident", "重大安全事故", 50),
    ("other", "其他", 90),
)


def ensure_categories(category_model: Any = None) -> None:
    """Create the seeded categories that are missing (used by the migration and test fixtures)."""
    if category_model is None:
        from .models import Category as category_model
    for code, name, order in CATEGORIES:
        category_model.objects.get_or_create(
            code=code, defaults={"name": name, "sort_order": order}
        )
