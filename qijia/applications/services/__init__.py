"""Writing applications. One service per lifecycle action: it looks the action up in workflow.py,
checks actor and preconditions on the locked row, then writes status, a timeline row the
enterprise can read, and the audit event, in one transaction. A refusal is itself audited (in its
own transaction, after the rollback) so that "who tried what and why it was refused" is kept.

Modules: ``_common`` (``_transition`` and the helpers every service shares), ``drafting``
(create, update, evidence files, invoices), ``review`` (submit, return and resubmit, formal and
expert review, finding disposal), ``approval`` (approve, leadership decision, public notice and
objections), ``payment`` (pay, close, reject, withdraw) and ``after_payment`` (recheck draws,
cancellation and clawback, the overdue reminder). The names below are the package's interface;
a test that replaces a helper patches the submodule that looks it up.
"""

from ._common import PreconditionFailed, actor_label
from .after_payment import (
    application_cancel,
    application_recheck_passed,
    clawback_record_receipt,
    overdue_notify,
    recheck_draw_create,
    recheck_draw_run,
    replay_draw,
)
from .approval import (
    application_approve,
    application_close_notice,
    application_publish_notice,
    application_record_leadership_decision,
    objection_answer,
    objection_file,
)
from .drafting import (
    EDITABLE,
    application_create,
    application_update,
    evidence_add,
    invoice_add,
)
from .payment import (
    application_close,
    application_pay,
    application_reject,
    application_withdraw,
)
from .review import (
    application_pass_formal_review,
    application_record_expert_review,
    application_resubmit,
    application_return,
    application_submit,
    expert_score_add,
    finding_dispose,
)

__all__ = [
    "EDITABLE",
    "PreconditionFailed",
    "actor_label",
    "application_approve",
    "application_cancel",
    "application_close",
    "application_close_notice",
    "application_create",
    "application_pass_formal_review",
    "application_pay",
    "application_publish_notice",
    "application_recheck_passed",
    "application_record_expert_review",
    "application_record_leadership_decision",
    "application_reject",
    "application_resubmit",
    "application_return",
    "application_submit",
    "application_update",
    "application_withdraw",
    "clawback_record_receipt",
    "evidence_add",
    "expert_score_add",
    "finding_dispose",
    "invoice_add",
    "objection_answer",
    "objection_file",
    "overdue_notify",
    "recheck_draw_create",
    "recheck_draw_run",
    "replay_draw",
]
