"""Submission and review: submit (eligibility judged, screening queued on commit), return for
correction and resubmit, formal review, the expert panel's scores, and the disposal of screening
findings that approval waits for."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from qijia.audit.services import audit_record, snapshot
from qijia.core.errors import InvalidTransition, NotFound, ValidationFailed
from qijia.programmes.eligibility import FAIL, evaluate, overall
from qijia.programmes.facts import enterprise_facts

from ..models import Application, Disposition, ExpertScore, ScreeningFinding, Status
from ..permissions import require
from ..preconditions import Ctx
from ._common import _event, _lock, _transition


def _evaluate_eligibility(app: Application, ctx: Ctx) -> None:
    facts = enterprise_facts(app.enterprise, on=ctx.today, listings=ctx.listings)
    outcomes = [evaluate(c.fact, c.operator, c.value, facts) for c in app.programme.criteria.all()]
    ctx.eligibility_result = overall(outcomes)
    ctx.eligibility_failures = [f"{o.label}（{o.reason}）" for o in outcomes if o.result == FAIL]
    app.eligibility = {
        "result": ctx.eligibility_result,
        "on": ctx.today.isoformat(),
        "criteria": [
            {"label": o.label, "result": o.result, "used": o.used, "reason": o.reason}
            for o in outcomes
        ],
    }


def _after_submission(app: Application, ctx: Ctx) -> dict:
    app.submitted_at = timezone.now()
    app.screened_at = None
    application_id = app.pk
    transaction.on_commit(lambda: _queue_screening(application_id))
    return {"eligibility": app.eligibility.get("result", "")}


def _queue_screening(application_id: int) -> None:
    from ..tasks import screen_application

    screen_application.delay(application_id)


def application_submit(*, actor: Any, application_id: int) -> Application:
    """Submit a draft: the call must be open, the materials complete, the enterprise eligible and
    not listed. Screening is queued once the submission commits."""
    return _transition(
        "submit",
        actor=actor,
        application_id=application_id,
        prepare=_evaluate_eligibility,
        apply=_after_submission,
    )


def application_return(*, actor: Any, application_id: int, note: str) -> Application:
    return _transition(
        "return_for_correction", actor=actor, application_id=application_id, note=note
    )


def application_resubmit(*, actor: Any, application_id: int, note: str = "") -> Application:
    def apply(app: Application, ctx: Ctx) -> dict:
        app.round += 1
        return {"round": app.round, **_after_submission(app, ctx)}

    return _transition(
        "resubmit", actor=actor, application_id=application_id, note=note, apply=apply
    )


def application_pass_formal_review(
    *, actor: Any, application_id: int, note: str = ""
) -> Application:
    return _transition("pass_formal_review", actor=actor, application_id=application_id, note=note)


def expert_score_add(
    *, actor: Any, application_id: int, expert_name: str, score: Any, comment: str = ""
) -> ExpertScore:
    """Record one panel member's score (by hand, until the expert library exists)."""
    try:
        value = Decimal(str(score))
    except (InvalidOperation, ValueError):
        value = Decimal(-1)
    if not expert_name.strip() or not (0 <= value <= 100):
        raise ValidationFailed(
            "专家评分有误", fields={"score": "评分应在0到100之间", "expert_name": "请填写专家姓名"}
        )
    with transaction.atomic():
        app = _lock(application_id)
        require(actor, "applications.handle", app)
        if app.status != Status.EXPERT_REVIEW:
            raise InvalidTransition("只有专家评审阶段可以录入评分")
        row = ExpertScore.objects.create(
            application=app,
            expert_name=expert_name.strip(),
            score=value,
            comment=comment,
            recorded_by=actor,
        )
        _event(
            app,
            actor=actor,
            action="expert_score",
            label="录入专家评分",
            public=False,
            data={"expert": row.expert_name, "score": str(value)},
        )
        audit_record(
            actor=actor, action="applications.expert_score_added", obj=row, after=snapshot(row)
        )
    return row


def application_record_expert_review(
    *, actor: Any, application_id: int, note: str = ""
) -> Application:
    def apply(app: Application, ctx: Ctx) -> dict:
        scores = [s.score for s in app.scores.all()]
        return {"average_score": str(sum(scores) / len(scores)), "panel_size": len(scores)}

    return _transition(
        "record_expert_review", actor=actor, application_id=application_id, note=note, apply=apply
    )


def finding_dispose(
    *, actor: Any, finding_id: int, disposition: str, reason: str
) -> ScreeningFinding:
    """Confirm a finding, or dismiss it with a reason (#38: approval waits for every disposal)."""
    if disposition not in (Disposition.CONFIRMED, Disposition.DISMISSED):
        raise ValidationFailed("处置结果有误", fields={"disposition": "应为确认或排除"})
    if not reason.strip():
        raise ValidationFailed("请填写处置理由", fields={"reason": "请填写处置理由"})
    with transaction.atomic():
        finding = ScreeningFinding.objects.select_for_update().filter(pk=finding_id).first()
        if finding is None:
            raise NotFound("筛查发现不存在")
        app = _lock(finding.application_id)
        require(actor, "applications.handle", app)
        if finding.disposition != Disposition.PENDING:
            raise InvalidTransition("该筛查发现已处置")
        finding.disposition = disposition
        finding.reason = reason.strip()
        finding.disposed_by = actor
        finding.disposed_at = timezone.now()
        finding.save()
        _event(
            app,
            actor=actor,
            action="finding_disposed",
            label=f"筛查发现{finding.get_disposition_display()}",
            note=reason,
            public=False,
            data={"finding_id": finding.pk, "kind": finding.kind},
        )
        audit_record(
            actor=actor,
            action=f"applications.finding_{disposition}",
            obj=finding,
            before={"disposition": Disposition.PENDING},
            after={"disposition": disposition, "reason": finding.reason},
        )
    return finding
