"""Demo city: programmes in every state and applications at every lifecycle stage.

Everything goes through the real services (so the timeline, audit chain, budgets and registry
are consistent): the staff who "did" the past work are seed accounts without a usable password
(``seed-officer-…``, ``seed-head-…``); the demo accounts from ``manage.py demo_accounts`` then see
a living platform — the demo enterprise has applications of its own, the demo officer's section
(企业服务科) owns programmes with work waiting, and one application carries a planted duplicate
photo for the reviewer to confirm.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.utils import timezone

from qijia.demo.steps import SeedContext
from qijia.enterprises.models import Enterprise, EnterpriseStatus
from qijia.identity.models import OrgUnit, User
from qijia.identity.roles import Role

from . import services as s
from .checks import registry_listings
from .models import Application, Status
from .samples import pdf_bytes, photo_bytes
from .screening import screen_application_now

MATERIALS = [
    {"code": "site_photo", "label": "项目现场照片", "kind": "photo", "required": True},
    {"code": "invoice", "label": "设备采购发票", "kind": "invoice", "required": True},
    {"code": "contract", "label": "采购合同", "kind": "contract", "required": False},
]

#: code, title, section, max, major, notice, experts, state, criteria (fact, operator, value)
ProgrammeSpec = tuple[str, str, str, str, str, int, bool, str, list[tuple[str, str, Any]]]

PROGRAMMES: list[ProgrammeSpec] = [
    (
        "tech-upgrade-2026",
        "工业企业技术改造专项资金",
        "section-tech-upgrade",
        "2000000",
        "1000000",
        7,
        True,
        "open",
        [
            ("operating", "is_true", None),
            ("not_listed", "is_true", None),
            ("years_established", "gte", "2"),
        ],
    ),
    (
        "smart-factory-2026",
        "智能工厂和数字化车间奖励",
        "section-enterprise-service",
        "800000",
        "500000",
        5,
        False,
        "open",
        [
            ("operating", "is_true", None),
            ("not_listed", "is_true", None),
            ("revenue_last_year", "gte", "2000"),
        ],
    ),
    (
        "sme-specialised-2026",
        "专精特新中小企业培育资金",
        "section-sme",
        "300000",
        "300000",
        5,
        False,
        "upcoming",
        [("size_class", "in", ["small", "medium", "micro"]), ("not_listed", "is_true", None)],
    ),
    (
        "green-2025",
        "绿色制造示范奖励",
        "section-industry-development",
        "500000",
        "500000",
        7,
        False,
        "closed",
        [("not_listed", "is_true", None)],
    ),
    (
        "legacy-2019",
        "机器换人专项资金（已停止）",
        "section-tech-upgrade",
        "1000000",
        "500000",
        7,
        False,
        "retired",
        [("operating", "is_true", None)],
    ),
    (
        "digital-draft",
        "工业互联网标杆示范（拟定中）",
        "section-informatization",
        "500000",
        "300000",
        5,
        False,
        "draft",
        [("industry", "in", ["C39", "C40"])],
    ),
]

#: The stage each demo application is left at, in order (the demo enterprise gets the first few).
STAGES = [
    "submitted",
    "returned",
    "awaiting_approval_dup",
    "approved_major",
    "in_notice",
    "paid",
    "draft",
    "expert_review",
    "awaiting_approval",
    "leadership_approved",
    "payable",
    "under_recheck",
    "closed",
    "rejected",
    "withdrawn",
    "cancelled",
    "in_notice_objection",
    "paid",
]


def _staff(section: OrgUnit, role: str) -> User:
    prefix = "seed-officer" if role == Role.OFFICER else "seed-head"
    user, created = User.objects.get_or_create(
        username=f"{prefix}-{section.code}"[:150],
        defaults={
            "role": role,
            "org_unit": section,
            "display_name": ("经办" if role == Role.OFFICER else "科长") + f"·{section.name}",
        },
    )
    if created:
        user.set_unusable_password()
        user.save()
    return user


def _enterprise_user(enterprise: Enterprise) -> User:
    existing = (
        User.objects.filter(enterprise=enterprise, role=Role.ENTERPRISE).order_by("pk").first()
    )
    if existing:
        return existing
    user = User(
        username=f"seed-ent-{enterprise.uscc}",
        role=Role.ENTERPRISE,
        enterprise=enterprise,
        display_name=f"{enterprise.name}经办",
    )
    user.set_unusable_password()
    user.save()
    return user


def _programmes(ctx: SeedContext, today: dt.date) -> dict[str, Any]:
    from qijia.programmes import services as ps
    from qijia.programmes.models import Programme

    made = {}
    for (
        code,
        title,
        section_code,
        max_amount,
        major,
        notice,
        experts,
        state,
        criteria,
    ) in PROGRAMMES:
        if Programme.objects.filter(code=code).exists():
            made[code] = Programme.objects.get(code=code)
            continue
        section = OrgUnit.objects.get(code=section_code)
        officer = _staff(section, Role.OFFICER)
        programme = ps.programme_create(
            actor=officer,
            code=code,
            title=title,
            section=section,
            max_amount=max_amount,
            major_threshold=major,
            notice_days=notice,
            expert_review_required=experts,
            required_materials=MATERIALS,
            recheck_share_pct="20",
            policy_text=f"为推动制造业高质量发展，设立“{title}”。资金实行总额控制、择优支持。",
            guide="1. 企业在线填报并上传证明材料；2. 主管科室形式审查；3. 诚信筛查；"
            "4. 审批、公示；5. 拨付；6. 拨付后按比例抽查。",
        )
        for fact, op, value in criteria:
            ps.criterion_add(
                actor=officer, programme_id=programme.pk, fact=fact, operator=op, value=value
            )
        if state != "draft":
            ps.programme_set_status(actor=officer, programme_id=programme.pk, status="published")
        windows = {
            "open": (today - dt.timedelta(days=40), today + dt.timedelta(days=30), today.year),
            "upcoming": (today + dt.timedelta(days=15), today + dt.timedelta(days=75), today.year),
            "closed": (
                dt.date(today.year - 1, 3, 1),
                dt.date(today.year - 1, 5, 31),
                today.year - 1,
            ),
            "retired": (dt.date(2019, 3, 1), dt.date(2019, 5, 31), 2019),
            "draft": None,
        }
        window = windows[state]
        if window:
            opens, closes, year = window
            ps.call_create(
                actor=officer,
                programme_id=programme.pk,
                title=f"{year}年第一批",
                year=year,
                opens_on=opens,
                closes_on=closes,
            )
            ps.budget_set(
                actor=officer, programme_id=programme.pk, year=year, amount=Decimal(max_amount) * 20
            )
        if state == "retired":
            ps.programme_set_status(actor=officer, programme_id=programme.pk, status="retired")
        made[code] = programme
    for code in ("section-tech-upgrade", "section-enterprise-service"):
        section = OrgUnit.objects.get(code=code)
        from qijia.programmes.models import SectionBudget

        if not SectionBudget.objects.filter(section=section, year=today.year).exists():
            ps.section_budget_set(
                actor=_staff(section, Role.APPROVER),
                section=section,
                year=today.year,
                amount=Decimal("60000000"),
            )
    return made


def _eligible_everywhere(enterprise: Enterprise, programmes: list[Any], today: dt.date) -> bool:
    from qijia.programmes.eligibility import FAIL, evaluate
    from qijia.programmes.facts import enterprise_facts

    facts = enterprise_facts(enterprise, on=today, listings=[])
    return all(
        evaluate(c.fact, c.operator, c.value, facts).result != FAIL
        for p in programmes
        for c in p.criteria.all()
    )


def _clean_enterprises(today: dt.date, count: int, programmes: list[Any]) -> list[Enterprise]:
    from qijia.demo.accounts import demo_enterprise

    chosen: list[Enterprise] = []
    try:
        first = demo_enterprise()
        candidates = [first]
    except Exception:  # no enterprises: the registry step did not run
        candidates = []
    candidates += list(
        Enterprise.objects.filter(status=EnterpriseStatus.ACTIVE, established_on__isnull=False)
        .filter(Q(established_on__lte=today - dt.timedelta(days=3 * 365)))
        .order_by("id")[: count * 3]
    )
    seen = set()
    for enterprise in candidates:
        if enterprise.pk in seen or enterprise.status != EnterpriseStatus.ACTIVE:
            continue
        seen.add(enterprise.pk)
        if not _eligible_everywhere(enterprise, programmes, today):
            continue
        if registry_listings(uscc=enterprise.uscc, on=today):
            continue
        chosen.append(enterprise)
        if len(chosen) == count:
            break
    return chosen


def _draft(
    call: Any,
    enterprise: Enterprise,
    user: User,
    index: int,
    amount: Decimal,
    photo_seed: int,
    today: dt.date,
    seller: Enterprise,
) -> Application:
    titles = [
        "数控加工中心智能化改造",
        "表面处理线自动化升级",
        "注塑车间数字化改造",
        "SMT生产线扩产",
        "仓储物流AGV改造",
        "节能空压站改造",
    ]
    app = s.application_create(
        actor=user,
        call_id=call.pk,
        title=titles[index % len(titles)],
        amount_requested=amount,
        description="项目已完成设备采购并投产。",
        project_start=today - dt.timedelta(days=300),
        project_end=today - dt.timedelta(days=20),
    )
    s.evidence_add(
        actor=user,
        application_id=app.pk,
        material_code="site_photo",
        upload=SimpleUploadedFile(f"现场{index}.jpg", photo_bytes(photo_seed), "image/jpeg"),
        caption="设备安装现场",
    )
    scan = s.evidence_add(
        actor=user,
        application_id=app.pk,
        material_code="invoice",
        upload=SimpleUploadedFile(
            f"发票{index}.pdf", pdf_bytes(f"invoice {index}"), "application/pdf"
        ),
    )
    s.invoice_add(
        actor=user,
        application_id=app.pk,
        invoice_code="044001900111",
        invoice_number=f"{70000000 + app.pk:08d}",
        issued_on=today - dt.timedelta(days=200),
        seller_tax_id=seller.uscc,
        seller_name=seller.name,
        buyer_tax_id=enterprise.uscc,
        buyer_name=enterprise.name,
        amount=amount * 2,
        tax=(amount * 2 * Decimal("0.13")).quantize(Decimal("0.01")),
        scan_id=scan.pk,
    )
    return app


def _advance(
    app: Application, stage: str, officer: User, head: User, user: User, today: dt.date
) -> None:
    pk = app.pk
    if stage == "draft":
        return
    if stage == "withdrawn":
        s.application_withdraw(actor=user, application_id=pk, note="项目调整，暂不申报")
        return
    s.application_submit(actor=user, application_id=pk)
    screen_application_now(application_id=pk)
    if stage in ("submitted", "awaiting_approval_dup"):
        if stage == "awaiting_approval_dup":
            s.application_pass_formal_review(actor=officer, application_id=pk)
        return
    if stage == "returned":
        s.application_return(actor=officer, application_id=pk, note="发票扫描件不清晰，请重新上传")
        return
    s.application_pass_formal_review(actor=officer, application_id=pk, note="材料齐全")
    app.refresh_from_db()
    if app.status == Status.EXPERT_REVIEW:
        if stage == "expert_review":
            return
        for name, score in (("李建国", "85"), ("王晓梅", "88"), ("陈志强", "82")):
            s.expert_score_add(actor=officer, application_id=pk, expert_name=name, score=score)
        s.application_record_expert_review(actor=officer, application_id=pk, note="专家组同意")
    for finding in app.findings.filter(disposition="pending"):
        s.finding_dispose(
            actor=officer,
            finding_id=finding.pk,
            disposition="dismissed",
            reason="经核查为同一项目的不同角度照片",
        )
    if stage == "awaiting_approval":
        return
    if stage == "rejected":
        s.application_reject(actor=officer, application_id=pk, note="项目投资额未达到申报要求")
        return
    app.refresh_from_db()
    s.application_approve(actor=head, application_id=pk, amount=app.amount_requested, note="同意")
    app.refresh_from_db()
    assert app.amount_approved is not None  # application_approve has just set it
    major = app.amount_approved >= app.programme.major_threshold
    if stage == "approved_major":
        return
    if major:
        s.application_record_leadership_decision(
            actor=head,
            application_id=pk,
            meeting="局党组会议",
            meeting_date=today,
            minute_ref=f"党组会议纪要〔{today.year}〕{pk}号",
            decision="同意按核定金额资助",
        )
    if stage == "leadership_approved":
        return
    s.application_publish_notice(
        actor=officer,
        application_id=pk,
        starts_on=today - dt.timedelta(days=app.programme.notice_days + 1)
        if stage not in ("in_notice", "in_notice_objection")
        else today,
    )
    if stage == "in_notice":
        return
    if stage == "in_notice_objection":
        s.objection_file(
            actor=user,
            application_id=pk,
            filer_name="匿名群众",
            content="该项目设备是否已实际安装使用，请核实。",
        )
        return
    s.application_close_notice(actor=officer, application_id=pk)
    if stage == "payable":
        return
    s.application_pay(
        actor=officer,
        application_id=pk,
        idempotency_key=f"demo-pay-{app.reference}",
        bank_reference=f"GK{today:%Y%m%d}{pk:05d}",
    )
    if stage == "paid":
        return
    if stage == "closed":
        s.application_close(actor=officer, application_id=pk, note="项目资金已拨付，办结")


def seed_lifecycle(ctx: SeedContext) -> None:
    today = timezone.localdate()
    programmes = _programmes(ctx, today)
    if Application.objects.exists():
        ctx.log("  已有申请数据，跳过申请")
        return
    open_programmes = [programmes["smart-factory-2026"], programmes["tech-upgrade-2026"]]
    enterprises = _clean_enterprises(today, len(STAGES) + 1, open_programmes)
    if len(enterprises) < 4:
        ctx.log("  符合条件的企业不足，跳过申请")
        return
    sellers = (
        list(Enterprise.objects.exclude(pk__in=[e.pk for e in enterprises]).order_by("-id")[:50])
        or enterprises
    )
    plan: list[tuple[Application, str, User, User, User]] = []
    for index, stage in enumerate(STAGES):
        # the demo enterprise (first) holds several applications at different stages
        enterprise = enterprises[0 if index in (0, 1, 3, 5) else index % len(enterprises)]
        user = _enterprise_user(enterprise)
        programme = open_programmes[index % 2]
        call = programme.calls.order_by("-opens_on").first()
        officer, head = (
            _staff(programme.section, Role.OFFICER),
            _staff(programme.section, Role.APPROVER),
        )
        amount = {
            "approved_major": Decimal("1200000"),
            "leadership_approved": Decimal("1100000"),
        }.get(stage, Decimal(150000 + 10000 * index))
        amount = min(amount, programme.max_amount)
        # the planted duplicate: the same photo as the first application, another enterprise
        photo_seed = 1000 if stage == "awaiting_approval_dup" else 1000 + index
        if stage == "awaiting_approval_dup":
            enterprise = enterprises[-1]
            user = _enterprise_user(enterprise)
            programme = open_programmes[0]
            call = programme.calls.order_by("-opens_on").first()
            officer, head = (
                _staff(programme.section, Role.OFFICER),
                _staff(programme.section, Role.APPROVER),
            )
        app = _draft(
            call, enterprise, user, index, amount, photo_seed, today, sellers[index % len(sellers)]
        )
        plan.append((app, stage, officer, head, user))
    for app, stage, officer, head, user in plan:
        _advance(app, stage, officer, head, user, today)
    # after payment: a sampling draw over the paid applications of the technology programme
    tech = programmes["tech-upgrade-2026"]
    tech_head = _staff(tech.section, Role.APPROVER)
    tech_officer = _staff(tech.section, Role.OFFICER)
    paid = Application.objects.filter(programme=tech, status=Status.PAID).order_by("reference")
    if paid.exists():
        draw = s.recheck_draw_create(actor=tech_officer, programme_id=tech.pk, share_pct="50")
        s.recheck_draw_run(actor=tech_officer, draw_id=draw.pk)
        picked = list(
            Application.objects.filter(status=Status.UNDER_RECHECK, programme=tech).order_by(
                "reference"
            )
        )
        if len(picked) > 1:
            s.application_cancel(
                actor=tech_head,
                application_id=picked[-1].pk,
                note="回头看发现设备未实际安装，发票系虚开",
                due_on=today + dt.timedelta(days=30),
            )
    ctx.log(f"  专项 {len(programmes)} 个，申请 {Application.objects.count()} 份")
