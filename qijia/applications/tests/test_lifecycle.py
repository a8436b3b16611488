"""Service tests: every transition, every refusal, with timeline and audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from qijia.applications import services as s
from qijia.applications.models import (
    Application,
    ApplicationEvent,
    Disposition,
    ScreeningFinding,
    Status,
)
from qijia.applications.testing import filled_application, make_world
from qijia.audit.models import AuditEvent
from qijia.core.errors import InvalidTransition, PermissionDenied
from qijia.core.testing import make_user
from qijia.programmes.models import ProgrammeBudget

from .helpers import advance

pytestmark = pytest.mark.django_db


def last_audit(action: str) -> AuditEvent | None:
    return AuditEvent.objects.filter(action=action).order_by("-seq").first()


def assert_step(app: Application, action: str, status: str) -> None:
    app.refresh_from_db()
    assert app.status == status
    event = app.events.filter(action=action).last()
    assert event is not None and event.to_status == status
    audit = last_audit(f"applications.{action}")
    assert audit is not None and audit.object_id == str(app.pk)
    assert audit.after is not None and audit.after["status"] == status


def test_submit_moves_draft_to_submitted_with_timeline_audit_and_eligibility(world):
    app = filled_application(world)
    s.application_submit(actor=world.applicant, application_id=app.pk)
    assert_step(app, "submit", Status.SUBMITTED)
    assert app.eligibility["result"] == "pass"
    assert app.registry_clean is True
    assert app.submitted_at is not None


def test_submit_is_refused_when_materials_are_missing(world):
    app = s.application_create(
        actor=world.applicant, call_id=world.call.pk, title="x", amount_requested="1000"
    )
    with pytest.raises(s.PreconditionFailed, match="项目现场照片"):
        s.application_submit(actor=world.applicant, application_id=app.pk)
    app.refresh_from_db()
    assert app.status == Status.DRAFT
    refused = last_audit("applications.submit_refused")
    assert refused.after["code"] == "materials_complete"


def test_submit_is_refused_when_enterprise_is_listed_with_the_reason(world):
    from qijia.registry.services import entry_create

    entry_create(
        actor=world.officer,
        uscc=world.enterprise.uscc,
        list="ineligible",
        category="environmental",
        reason="2026年环境违法处罚",
        valid_from=timezone.localdate() - dt.timedelta(days=1),
    )
    app = filled_application(world)
    with pytest.raises(s.PreconditionFailed) as exc:
        s.application_submit(actor=world.applicant, application_id=app.pk)
    assert "环境违法处罚" in exc.value.message
    assert exc.value.code == "eligible" or exc.value.code == "registry_clean"
    app.refresh_from_db()
    assert app.status == Status.DRAFT
    assert not app.events.filter(action="submit").exists()


def test_submit_is_refused_when_a_criterion_fails(db):
    world = make_world(criteria=[("industry", "in", ["C13"])])
    app = filled_application(world)
    with pytest.raises(s.PreconditionFailed, match="所属行业"):
        s.application_submit(actor=world.applicant, application_id=app.pk)


def test_another_enterprise_cannot_submit_my_application(world):
    app = filled_application(world)
    stranger = make_user("enterprise")
    with pytest.raises(PermissionDenied):
        s.application_submit(actor=stranger, application_id=app.pk)
    assert last_audit("applications.submit_refused").after["code"] == "permission_denied"


def test_return_and_resubmit_round_trip(world):
    app = advance(world, to="submitted")
    s.application_return(actor=world.officer, application_id=app.pk, note="发票扫描件不清晰")
    assert_step(app, "return_for_correction", Status.RETURNED)
    assert app.events.filter(action="return_for_correction", note="发票扫描件不清晰").exists()
    s.application_resubmit(actor=world.applicant, application_id=app.pk)
    assert_step(app, "resubmit", Status.SUBMITTED)
    assert app.round == 1


def test_return_needs_a_note(world):
    app = advance(world, to="submitted")
    with pytest.raises(s.PreconditionFailed, match="意见"):
        s.application_return(actor=world.officer, application_id=app.pk, note=" ")


def test_enterprise_cannot_review(world):
    app = advance(world, to="submitted")
    with pytest.raises(PermissionDenied):
        s.application_pass_formal_review(actor=world.applicant, application_id=app.pk)


def test_officer_of_another_section_cannot_review(world):
    app = advance(world, to="submitted")
    other = make_world(section_code="section-other")
    with pytest.raises(PermissionDenied):
        s.application_pass_formal_review(actor=other.officer, application_id=app.pk)


def test_formal_review_goes_to_expert_review_when_programme_requires_it(db):
    world = make_world(expert_review=True)
    app = filled_application(world)
    s.application_submit(actor=world.applicant, application_id=app.pk)
    s.application_pass_formal_review(actor=world.officer, application_id=app.pk)
    assert_step(app, "pass_formal_review", Status.EXPERT_REVIEW)
    with pytest.raises(s.PreconditionFailed, match="专家评分"):
        s.application_record_expert_review(actor=world.officer, application_id=app.pk)
    s.expert_score_add(actor=world.officer, application_id=app.pk, expert_name="李明", score="86")
    s.expert_score_add(actor=world.officer, application_id=app.pk, expert_name="王芳", score="90")
    s.application_record_expert_review(actor=world.officer, application_id=app.pk)
    assert_step(app, "record_expert_review", Status.AWAITING_APPROVAL)
    assert last_audit("applications.record_expert_review").after["average_score"] == "88.00"


def test_formal_review_skips_experts_when_not_required(world):
    app = advance(world, to="awaiting_approval")
    assert app.status == Status.AWAITING_APPROVAL


def test_approval_reserves_budget(world):
    app = advance(world, to="approved")
    assert_step(app, "approve", Status.APPROVED)
    budget = ProgrammeBudget.objects.get(pk=world.budget.pk)
    assert budget.reserved == Decimal("200000")
    assert app.amount_reserved == Decimal("200000")


def test_officer_cannot_approve(world):
    app = advance(world, to="awaiting_approval")
    with pytest.raises(PermissionDenied):
        s.application_approve(actor=world.officer, application_id=app.pk, amount="1000")


def test_approval_is_refused_while_a_finding_is_undisposed(world):
    app = advance(world, to="awaiting_approval")
    finding = ScreeningFinding.objects.create(
        application=app, kind="duplicate_invoice", severity="high", summary="发票重复", subject="x"
    )
    with pytest.raises(s.PreconditionFailed, match="未处置"):
        s.application_approve(actor=world.approver, application_id=app.pk, amount="1000")
    s.finding_dispose(
        actor=world.officer,
        finding_id=finding.pk,
        disposition="dismissed",
        reason="同一发票的更正件",
    )
    s.application_approve(actor=world.approver, application_id=app.pk, amount="1000")
    assert_step(app, "approve", Status.APPROVED)


def test_approval_is_refused_before_screening_has_run(world):
    app = filled_application(world)
    s.application_submit(actor=world.applicant, application_id=app.pk)
    s.application_pass_formal_review(actor=world.officer, application_id=app.pk)
    with pytest.raises(s.PreconditionFailed, match="诚信筛查尚未完成"):
        s.application_approve(actor=world.approver, application_id=app.pk, amount="1000")


def test_approval_is_refused_after_a_confirmed_finding(world):
    app = advance(world, to="awaiting_approval")
    finding = ScreeningFinding.objects.create(
        application=app, kind="duplicate_photo", severity="high", summary="照片重复", subject="y"
    )
    s.finding_dispose(
        actor=world.officer,
        finding_id=finding.pk,
        disposition="confirmed",
        reason="与其他企业项目照片相同",
    )
    with pytest.raises(s.PreconditionFailed, match="已确认"):
        s.application_approve(actor=world.approver, application_id=app.pk, amount="1000")
    s.application_reject(actor=world.officer, application_id=app.pk, note="材料造假")
    assert_step(app, "reject", Status.REJECTED)


def test_approval_is_refused_when_listed_since_submission(world):
    from qijia.registry.services import entry_create

    app = advance(world, to="awaiting_approval")
    entry_create(
        actor=world.officer,
        uscc=world.enterprise.uscc,
        list="ineligible",
        category="tax_arrears",
        reason="欠缴税款",
        valid_from=timezone.localdate(),
    )
    with pytest.raises(s.PreconditionFailed, match="欠缴税款") as exc:
        s.application_approve(actor=world.approver, application_id=app.pk, amount="1000")
    assert exc.value.code == "registry_clean"
    assert ProgrammeBudget.objects.get(pk=world.budget.pk).reserved == 0


def test_approval_is_refused_when_budget_is_exhausted(db):
    world = make_world(budget=Decimal("250000"))
    first = advance(world, to="approved", amount=Decimal("200000"))
    second = advance(world, filled_application(world, photo_seed=2), to="awaiting_approval")
    with pytest.raises(s.PreconditionFailed, match="预算余额不足") as exc:
        s.application_approve(actor=world.approver, application_id=second.pk, amount="100000")
    assert exc.value.code == "budget_available"
    assert first.status == Status.APPROVED
    assert ProgrammeBudget.objects.get(pk=world.budget.pk).reserved == Decimal("200000")


def test_section_budget_limits_approvals_too(db):
    world = make_world(section_budget=Decimal("150000"))
    app = advance(world, to="awaiting_approval")
    with pytest.raises(s.PreconditionFailed, match="科室"):
        s.application_approve(actor=world.approver, application_id=app.pk, amount="200000")


def test_approved_amount_cannot_exceed_request(world):
    app = advance(world, to="awaiting_approval")
    with pytest.raises(s.PreconditionFailed, match="申请金额"):
        s.application_approve(actor=world.approver, application_id=app.pk, amount="200001")


def test_major_payment_needs_leadership_decision_before_notice_and_payment(world):
    app = advance(world, to="approved", amount=Decimal("400000"))
    with pytest.raises(s.PreconditionFailed, match="集体决策") as exc:
        s.application_publish_notice(actor=world.officer, application_id=app.pk)
    assert exc.value.code == "leadership_decision_if_major"
    s.application_record_leadership_decision(
        actor=world.approver,
        application_id=app.pk,
        meeting="局长办公会议",
        meeting_date=timezone.localdate(),
        minute_ref="办公会纪要〔2026〕3号",
        decision="同意",
    )
    assert_step(app, "record_leadership_decision", Status.LEADERSHIP_APPROVED)
    assert app.leadership_decision.minute_ref == "办公会纪要〔2026〕3号"


def test_leadership_decision_is_refused_for_a_minor_matter(world):
    app = advance(world, to="approved", amount=Decimal("1000"))
    with pytest.raises(s.PreconditionFailed, match="未达到"):
        s.application_record_leadership_decision(
            actor=world.approver,
            application_id=app.pk,
            meeting="会",
            meeting_date=timezone.localdate(),
            minute_ref="1",
            decision="同意",
        )


def test_payment_is_refused_without_leadership_decision(world):
    """Even if a major application reached 'payable' by a path that skipped the decision (data
    fixed by hand), pay re-checks #15 itself."""
    app = advance(world, to="payable", amount=Decimal("1000"))
    Application.objects.filter(pk=app.pk).update(amount_approved=Decimal("1000"))
    world.programme.major_threshold = Decimal("500")
    world.programme.save()
    with pytest.raises(s.PreconditionFailed, match="集体决策"):
        s.application_pay(actor=world.officer, application_id=app.pk, idempotency_key="k1")


def test_notice_cannot_close_early_or_with_open_objections(world):
    app = advance(world, to="approved")
    s.application_publish_notice(actor=world.officer, application_id=app.pk)
    assert_step(app, "publish_notice", Status.IN_NOTICE)
    with pytest.raises(s.PreconditionFailed, match="期满"):
        s.application_close_notice(actor=world.officer, application_id=app.pk)
    objector = make_user("enterprise")
    objection = s.objection_file(
        actor=objector, application_id=app.pk, filer_name="张三", content="该企业项目未实际建设"
    )
    later = app.notice_ends_on + dt.timedelta(days=1)
    with pytest.raises(s.PreconditionFailed, match="未答复"):
        s.application_close_notice(actor=world.officer, application_id=app.pk, today=later)
    s.objection_answer(
        actor=world.officer, objection_id=objection.pk, answer="经现场核查项目已建成", upheld=False
    )
    s.application_close_notice(actor=world.officer, application_id=app.pk, today=later)
    assert_step(app, "close_notice", Status.PAYABLE)


def test_upheld_objection_blocks_payment_path(world):
    app = advance(world, to="in_notice")
    objection = s.objection_file(
        actor=world.applicant, application_id=app.pk, filer_name="李四", content="发票虚开"
    )
    s.objection_answer(actor=world.officer, objection_id=objection.pk, answer="属实", upheld=True)
    with pytest.raises(s.PreconditionFailed, match="异议"):
        s.application_close_notice(
            actor=world.officer,
            application_id=app.pk,
            today=timezone.localdate() + dt.timedelta(days=30),
        )


def test_payment_spends_the_reservation(world):
    app = advance(world, to="paid")
    assert_step(app, "pay", Status.PAID)
    budget = ProgrammeBudget.objects.get(pk=world.budget.pk)
    assert (budget.reserved, budget.spent) == (0, Decimal("200000"))
    assert app.payment.amount == Decimal("200000")


def test_repeated_payment_request_pays_once(world):
    app = advance(world, to="payable")
    first = s.application_pay(actor=world.officer, application_id=app.pk, idempotency_key="same")
    again = s.application_pay(actor=world.officer, application_id=app.pk, idempotency_key="same")
    assert first.pk == again.pk
    assert ProgrammeBudget.objects.get(pk=world.budget.pk).spent == Decimal("200000")
    assert app.events.filter(action="pay").count() == 1
    with pytest.raises(InvalidTransition):
        s.application_pay(actor=world.officer, application_id=app.pk, idempotency_key="other")


def test_payment_is_refused_when_listed_after_approval(world):
    from qijia.registry.services import entry_create

    app = advance(world, to="payable")
    entry_create(
        actor=world.officer,
        uscc=world.enterprise.uscc,
        list="blacklist",
        category="dishonesty",
        reason="失信被执行人",
        valid_from=timezone.localdate(),
    )
    with pytest.raises(s.PreconditionFailed, match="失信被执行人"):
        s.application_pay(actor=world.officer, application_id=app.pk, idempotency_key="k")
    app.refresh_from_db()
    assert app.status == Status.PAYABLE
    assert ProgrammeBudget.objects.get(pk=world.budget.pk).spent == 0


def test_reject_after_approval_releases_the_reservation(world):
    app = advance(world, to="approved")
    s.application_reject(actor=world.officer, application_id=app.pk, note="现场核查不符")
    assert_step(app, "reject", Status.REJECTED)
    assert ProgrammeBudget.objects.get(pk=world.budget.pk).reserved == 0


def test_withdraw_by_enterprise(world):
    app = advance(world, to="submitted")
    s.application_withdraw(actor=world.applicant, application_id=app.pk)
    assert_step(app, "withdraw", Status.WITHDRAWN)


def test_withdraw_is_refused_after_approval(world):
    app = advance(world, to="approved")
    with pytest.raises(InvalidTransition):
        s.application_withdraw(actor=world.applicant, application_id=app.pk)


def test_close_after_payment(world):
    app = advance(world, to="paid")
    s.application_close(actor=world.officer, application_id=app.pk)
    assert_step(app, "close", Status.CLOSED)


def test_enterprise_timeline_shows_public_events_only(world):
    app = advance(world, to="awaiting_approval")
    finding = ScreeningFinding.objects.create(
        application=app, kind="duplicate_invoice", severity="high", summary="发票重复", subject="z"
    )
    s.finding_dispose(
        actor=world.officer, finding_id=finding.pk, disposition="dismissed", reason="误报"
    )
    public = set(
        ApplicationEvent.objects.filter(application=app, public=True).values_list(
            "action", flat=True
        )
    )
    assert "finding_disposed" not in public
    assert {"create", "submit", "pass_formal_review"} <= public


def test_dismissal_needs_a_reason(world):
    app = advance(world, to="submitted")
    finding = ScreeningFinding.objects.create(
        application=app, kind="duplicate_invoice", severity="high", summary="发票重复", subject="w"
    )
    with pytest.raises(Exception, match="理由"):
        s.finding_dispose(
            actor=world.officer, finding_id=finding.pk, disposition="dismissed", reason=""
        )
    finding.refresh_from_db()
    assert finding.disposition == Disposition.PENDING


def test_notifications_reach_the_enterprise(world):
    from qijia.notifications.models import Notification

    app = advance(world, to="submitted")
    s.application_return(actor=world.officer, application_id=app.pk, note="补充合同")
    assert Notification.objects.filter(
        recipient=world.applicant, kind="applications.return_for_correction"
    ).exists()
    assert Notification.objects.filter(
        recipient=world.officer, kind="applications.submit.staff"
    ).exists()


def test_section_hears_when_work_lands_on_its_desk(world):
    from qijia.notifications.models import Notification

    app = advance(world, to="awaiting_approval")
    assert Notification.objects.filter(
        recipient=world.approver, kind="applications.pass_formal_review.staff"
    ).exists()
    s.application_approve(actor=world.approver, application_id=app.pk, amount="1000")
    assert Notification.objects.filter(
        recipient=world.officer, kind="applications.approve.staff"
    ).exists()
    assert Notification.objects.filter(
        recipient=world.applicant, kind="applications.approve"
    ).exists()


def test_overdue_work_is_notified_to_the_section(world):
    from qijia.notifications.models import Notification

    app = advance(world, to="submitted")
    assert s.overdue_notify(today=timezone.localdate()) == 0
    assert s.overdue_notify(today=timezone.localdate() + dt.timedelta(days=6)) == 1
    note = Notification.objects.get(recipient=world.officer, kind="applications.overdue")
    assert app.reference in note.body and "超期1天" in note.body


def test_replaying_a_payment_key_needs_the_right_to_pay(world):
    app = advance(world, to="paid")
    with pytest.raises(PermissionDenied):
        s.application_pay(
            actor=world.applicant, application_id=app.pk, idempotency_key=f"pay-{app.pk}"
        )
    other = make_world(section_code="section-pay-other")
    with pytest.raises(PermissionDenied):
        s.application_pay(
            actor=other.officer, application_id=app.pk, idempotency_key=f"pay-{app.pk}"
        )
