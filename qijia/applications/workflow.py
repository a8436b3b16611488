"""The subsidy lifecycle in one table: action → allowed sources, target, permission, preconditions.

Services (services.py) look their action up here, check the actor and the named preconditions
(preconditions.py), then write status, timeline and audit together. Nothing else changes status.

    draft ─submit→ submitted ─pass_formal_review→ expert_review ─record_expert_review→ awaiting_approval
      (returned ⇄ submitted by return_for_correction / resubmit; no expert review → awaiting_approval)
    awaiting_approval ─approve→ approved [─record_leadership_decision→ leadership_approved, major only]
    → publish_notice → in_notice ─close_notice→ payable ─pay→ paid ─close→ closed
    paid ─(sampling draw)→ under_recheck ─recheck_passed→ closed | ─cancel→ cancelled (+ clawback)
    reject / withdraw end the application before payment.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Status as S

APPLICANT = "applications.act_as_applicant"
HANDLE = "applications.handle"  # case officers (and the section head) of the owning section
DECIDE = "applications.decide"  # the section head of the owning section


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    permission: str
    preconditions: tuple[str, ...] = ()
    label: str = ""


def T(sources, target, permission, preconditions=(), label=""):  # noqa: N802, ANN001, ANN201
    return Transition(frozenset(sources), target, permission, tuple(preconditions), label)


BEFORE_PAYMENT = {
    S.SUBMITTED,
    S.RETURNED,
    S.EXPERT_REVIEW,
    S.AWAITING_APPROVAL,
    S.APPROVED,
    S.LEADERSHIP_APPROVED,
    S.IN_NOTICE,
    S.PAYABLE,
}

TRANSITIONS: dict[str, Transition] = {
    "submit": T(
        {S.DRAFT},
        S.SUBMITTED,
        APPLICANT,
        ("call_open", "materials_complete", "eligible", "registry_clean"),
        "提交申报",
    ),
    "return_for_correction": T({S.SUBMITTED}, S.RETURNED, HANDLE, ("note_given",), "退回补正"),
    "resubmit": T(
        {S.RETURNED},
        S.SUBMITTED,
        APPLICANT,
        ("materials_complete", "registry_clean"),
        "补正后重新提交",
    ),
    "pass_formal_review": T({S.SUBMITTED}, S.EXPERT_REVIEW, HANDLE, (), "形式审查通过"),
    "record_expert_review": T(
        {S.EXPERT_REVIEW}, S.AWAITING_APPROVAL, HANDLE, ("scores_given",), "录入专家评审结果"
    ),
    "approve": T(
        {S.AWAITING_APPROVAL},
        S.APPROVED,
        DECIDE,
        (
            "findings_disposed",
            "no_confirmed_fraud",
            "registry_clean",
            "amount_valid",
            "budget_available",
        ),
        "科室审批通过",
    ),
    "record_leadership_decision": T(
        {S.APPROVED}, S.LEADERSHIP_APPROVED, DECIDE, ("is_major",), "集体决策通过"
    ),
    "publish_notice": T(
        {S.APPROVED, S.LEADERSHIP_APPROVED},
        S.IN_NOTICE,
        HANDLE,
        ("leadership_decision_if_major",),
        "开始公示",
    ),
    "close_notice": T(
        {S.IN_NOTICE}, S.PAYABLE, HANDLE, ("notice_period_over", "objections_answered"), "公示期满"
    ),
    "pay": T(
        {S.PAYABLE},
        S.PAID,
        HANDLE,
        (
            "leadership_decision_if_major",
            "findings_disposed",
            "no_confirmed_fraud",
            "registry_clean",
        ),
        "资金拨付",
    ),
    "close": T({S.PAID}, S.CLOSED, HANDLE, (), "办结"),
    "select_for_recheck": T({S.PAID}, S.UNDER_RECHECK, HANDLE, (), "抽中复核"),
    "recheck_passed": T({S.UNDER_RECHECK}, S.CLOSED, HANDLE, ("note_given",), "复核通过"),
    "reject": T(BEFORE_PAYMENT, S.REJECTED, HANDLE, ("note_given",), "不予通过"),
    "withdraw": T({S.DRAFT, S.SUBMITTED, S.RETURNED}, S.WITHDRAWN, APPLICANT, (), "企业撤回"),
    "cancel": T(
        {S.PAID, S.UNDER_RECHECK, S.CLOSED}, S.CANCELLED, DECIDE, ("note_given",), "撤销资助并追缴"
    ),
}

#: When the programme needs no expert review, passing formal review goes straight to approval.
SKIP_WITHOUT_EXPERTS: dict[str, str] = {S.EXPERT_REVIEW: S.AWAITING_APPROVAL}


def target_for(action: str, *, expert_review_required: bool) -> str:
    target = TRANSITIONS[action].target
    if not expert_review_required:
        target = SKIP_WITHOUT_EXPERTS.get(target, target)
    return target


def actions_from(status: str) -> list[str]:
    """Actions whose table row allows ``status`` as a source (before permission/preconditions)."""
    return [name for name, t in TRANSITIONS.items() if status in t.sources]
