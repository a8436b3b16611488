"""Demo seed step (qijia.demo): registry entries from each partner department, a read-only API
token, and a pending objection from the demo enterprise, so every registry page has content."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

#: A minimal valid PDF, the demo objection's evidence.
DEMO_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
REASONS = {
    "environmental": "超标排放废水，环保部门作出行政处罚",
    "tax_arrears": "欠缴增值税逾期未缴",
    "dishonesty": "被人民法院列为失信被执行人",
    "public_funds_fraud": "以虚假材料骗取财政专项资金",
    "safety_accident": "发生较大生产安全事故",
    "other": "其他不予资助情形",
}
SOURCE_CATEGORIES = {
    "partner-ecology": ["environmental"],
    "partner-tax": ["tax_arrears"],
    "partner-market": ["dishonesty", "other"],
    "partner-science": ["public_funds_fraud"],
    "partner-commerce": ["safety_accident", "other"],
}


def _service_account(username: str, **fields: Any) -> Any:
    """A seeding actor that cannot log in (no usable password); audit rows name it."""
    from qijia.identity.models import User

    user, created = User.objects.get_or_create(username=username, defaults=fields)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def seed_registry_demo(ctx: Any) -> None:
    from qijia.enterprises.models import Enterprise
    from qijia.identity.models import OrgUnit

    from . import services
    from .models import Entry

    rnd = ctx.rng("registry.demo")
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=SOURCE_CATEGORIES)}
    if not units:
        ctx.log("  registry.demo: no partner departments, skipped")
        return
    enterprises = list(Enterprise.objects.order_by("id").values_list("uscc", "name")[:5000])
    if not enterprises:
        ctx.log("  registry.demo: no enterprises, skipped")
        return
    total = ctx.pick(demo=40, city=2_000)
    today = timezone.localdate()
    created = 0
    for code, unit in sorted(units.items()):
        actor = _service_account(f"registry-seed-{code}", role="partner", org_unit=unit,
                                 display_name=f"{unit.name}（数据同步）")  # fmt: skip
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["uscc", "enterprise_name", "list", "category", "reason", "document_ref",
                         "valid_from", "valid_to"])  # fmt: skip
        for i in range(total // len(units)):
            uscc, name = rnd.choice(enterprises)
            category = rnd.choice(SOURCE_CATEGORIES[code])
            shape = rnd.random()
            if shape < 0.15:  # closes within 30 days: shows in the expiry view
                start = today - dt.timedelta(days=rnd.randint(100, 700))
                end: dt.date | None = today + dt.timedelta(days=rnd.randint(1, 30))
            elif shape < 0.30:  # already closed: the expiry job records it
                start = today - dt.timedelta(days=rnd.randint(400, 900))
                end = start + dt.timedelta(days=365)
            else:
                start = today - dt.timedelta(days=rnd.randint(0, 700))
                end = (
                    None if rnd.random() < 0.5 else today + dt.timedelta(days=rnd.randint(60, 900))
                )
            writer.writerow([uscc, name, "blacklist" if category == "public_funds_fraud"
                             else "ineligible", category, REASONS[category],
                             f"{unit.name[:4]}〔{start.year}〕{i + 1}号", start.isoformat(),
                             end.isoformat() if end else ""])  # fmt: skip
        created += len(
            services.entries_import_csv(
                actor=actor, content=out.getvalue().encode(), filename=f"{code}-demo.csv"
            )
        )
    ctx.log(f"  registry.demo: {created} entries from {len(units)} departments")

    # One revocation, so history pages show more than one version.
    first = Entry.objects.filter(revoked_at__isnull=True).order_by("pk").first()
    if first is not None:
        revoker = _service_account(f"registry-seed-{first.source.code}")
        services.entry_revoke(actor=revoker, entry_id=first.pk, reason="已整改完毕，依法撤销")

    tax = units.get("partner-tax") or next(iter(units.values()))
    tax_actor = _service_account(f"registry-seed-{tax.code}")
    _token, text = services.token_create(actor=tax_actor, name="演示同步（只读）", scope="read")
    ctx.log(f"  registry.demo: read-only API token for {tax.name} (shown once): {text}")

    _seed_objection(ctx, tax, tax_actor)


def _seed_objection(ctx: Any, unit: Any, source_actor: Any) -> None:
    from qijia.demo.accounts import demo_enterprise

    from . import services

    enterprise = demo_enterprise()
    entry = services.entry_create(
        actor=source_actor,
        uscc=enterprise.uscc,
        enterprise_name=enterprise.name,
        list="ineligible",
        category="tax_arrears",
        reason="欠缴城镇土地使用税逾期未缴",
        document_ref="东税〔2026〕演示1号",
        valid_from=timezone.localdate() - dt.timedelta(days=30),
    )
    objector = _service_account(
        "registry-seed-objector", role="enterprise", enterprise=enterprise,
        display_name=f"{enterprise.name}（申诉人）",
    )  # fmt: skip
    services.objection_lodge(
        actor=objector,
        entry_id=entry.pk,
        reason="我司已于上月补缴全部税款及滞纳金，附完税证明，请予撤销。",
        evidence=[SimpleUploadedFile("完税证明.pdf", DEMO_PDF, "application/pdf")],
    )
    ctx.log(f"  registry.demo: objection pending from {enterprise.name} to {unit.name}")
