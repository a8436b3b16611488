"""Reading applications, always scoped to the actor: an enterprise sees its own, section staff the
applications of their section's programmes, inspectors and admins everything (read-only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from qijia.core.errors import NotFound
from qijia.identity.roles import OrgKind, Role

from .models import Application, Disposition, EvidenceFile, Status
from .permissions import require

#: Who acts next, and within how many days, per status (the work queue's "overdue").
WAITING_FOR: dict[str, tuple[str, int]] = {
    Status.SUBMITTED: ("经办人形式审查", 5),
    Status.RETURNED: ("企业补正", 10),
    Status.EXPERT_REVIEW: ("专家评审", 15),
    Status.AWAITING_APPROVAL: ("科室负责人审批", 5),
    Status.APPROVED: ("经办人发起公示 / 集体决策", 5),
    Status.LEADERSHIP_APPROVED: ("经办人发起公示", 3),
    Status.IN_NOTICE: ("公示期满后结束公示", 0),
    Status.PAYABLE: ("经办人拨付", 10),
    Status.PAID: ("办结或抽查", 30),
    Status.UNDER_RECHECK: ("抽查复核", 20),
}


def _sees_all(actor: Any) -> bool:
    """Inspectors, admins and bureau leaders (approvers in the leadership unit) see every section."""
    if actor.role in (Role.INSPECTOR, Role.ADMIN):
        return True
    unit = actor.org_unit if actor.org_unit_id else None
    return actor.role == Role.APPROVER and unit is not None and unit.kind == OrgKind.LEADERSHIP


def application_list(*, actor: Any, status: str = "", q: str = "") -> QuerySet[Application]:
    qs = Application.objects.select_related("programme", "call", "enterprise")
    if actor.role == Role.ENTERPRISE:
        qs = qs.filter(enterprise_id=actor.enterprise_id)
    elif _sees_all(actor):
        qs = qs.exclude(status=Status.DRAFT)
    elif actor.role in (Role.OFFICER, Role.APPROVER):
        qs = qs.filter(programme__section_id=actor.org_unit_id).exclude(status=Status.DRAFT)
    else:
        return qs.none()
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(
            Q(reference__icontains=q) | Q(title__icontains=q) | Q(enterprise__name__icontains=q)
        )
    return qs.annotate(
        pending_findings=Count("findings", filter=Q(findings__disposition=Disposition.PENDING))
    ).order_by("-status_changed_at", "-pk")


def application_get(*, actor: Any, application_id: int) -> Application:
    """One application if the actor may see it; NotFound otherwise (no existence leak)."""
    app = (
        Application.objects.select_related(
            "programme", "programme__section", "call", "enterprise", "created_by"
        )
        .filter(pk=application_id)
        .first()
    )
    if app is None or not _visible(actor, app):
        raise NotFound("申请不存在")
    return app


def _visible(actor: Any, app: Application) -> bool:
    if actor.role == Role.ENTERPRISE:
        return app.enterprise_id == actor.enterprise_id
    if app.status == Status.DRAFT:
        return False
    if _sees_all(actor):
        return True
    if actor.role in (Role.OFFICER, Role.APPROVER):
        return app.programme.section_id == actor.org_unit_id
    return False


def evidence_get(*, actor: Any, evidence_id: int) -> EvidenceFile:
    evidence = EvidenceFile.objects.select_related("application").filter(pk=evidence_id).first()
    if evidence is None:
        raise NotFound("文件不存在")
    application_get(actor=actor, application_id=evidence.application_id)
    return evidence


def due_date(app: Application, *, today: dt.date) -> dt.date | None:
    """When the current step should be done: the notice's end for a notice, else the step's
    start plus its days in WAITING_FOR."""
    _who, days = WAITING_FOR[app.status]
    if app.status == Status.IN_NOTICE:
        return app.notice_ends_on + dt.timedelta(days=1) if app.notice_ends_on else None
    started = timezone.localdate(app.status_changed_at) if app.status_changed_at else today
    return started + dt.timedelta(days=days)


@dataclass(frozen=True)
class QueueItem:
    application: Application
    waiting_for: str
    due_on: dt.date | None
    overdue_days: int


def work_queue(*, actor: Any, today: dt.date | None = None) -> list[QueueItem]:
    """What waits in the actor's section, who it waits for and how overdue it is, most overdue
    first."""
    require(actor, "applications.work_queue")
    today = today or timezone.localdate()
    apps = application_list(actor=actor).filter(status__in=list(WAITING_FOR))
    items = []
    for app in apps:
        who, _days = WAITING_FOR[app.status]
        due = due_date(app, today=today)
        pending = getattr(app, "pending_findings", 0)  # annotated by application_list
        if app.status == Status.AWAITING_APPROVAL and pending:
            who = f"处置{pending}项筛查发现后，{who}"
        overdue = max(0, (today - due).days) if due else 0
        items.append(QueueItem(app, who, due, overdue))
    items.sort(key=lambda i: (-i.overdue_days, i.due_on or today))
    return items


def notice_list(*, today: dt.date | None = None) -> QuerySet[Application]:
    """Applications on public notice (公示): visible to every signed-in user, as a notice is."""
    today = today or timezone.localdate()
    return (
        Application.objects.filter(status=Status.IN_NOTICE, notice_starts_on__lte=today)
        .select_related("programme", "enterprise")
        .order_by("notice_ends_on", "reference")
    )
