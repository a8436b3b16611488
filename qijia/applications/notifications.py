"""Who hears about each step (in-app and e-mail through qijia.notifications.notify).

The enterprise hears about every step of its own application; the owning section hears about
what lands on its desk (submissions, objections). Runs inside the action's transaction, so a
refused action notifies nobody.
"""

from __future__ import annotations

from django.urls import reverse

from qijia.notifications.services import notify

from .models import Application

#: Actions after which the owning section (its officers and its head) has the next step.
STAFF_ACTIONS = {
    "submit",
    "resubmit",
    "pass_formal_review",
    "record_expert_review",
    "approve",
    "record_leadership_decision",
    "close_notice",
    "select_for_recheck",
    "withdraw",
}


def _link(app: Application) -> str:
    try:
        return reverse("applications:detail", args=[app.pk])
    except Exception:  # URLs not mounted (e.g. a worker without the web app)
        return ""


def after_transition(app: Application, *, action: str, label: str, note: str) -> None:
    title = f"{app.reference}：{label}"
    body = f"“{app.title}”（{app.programme.title}）当前状态：{app.get_status_display()}。"
    if note:
        body += f"\n意见：{note}"
    from qijia.identity.models import User

    notify(
        recipients_users=User.objects.filter(enterprise_id=app.enterprise_id, is_active=True),
        kind=f"applications.{action}",
        title=title,
        body=body,
        link=_link(app),
    )
    if action in STAFF_ACTIONS:
        notify(
            recipients_org_units=[app.programme.section_id],
            kind=f"applications.{action}.staff",
            title=f"待办：{title}",
            body=body,
            link=_link(app),
        )


def objection_filed(app: Application) -> None:
    notify(
        recipients_org_units=[app.programme.section_id],
        kind="applications.objection_filed",
        title=f"待办：{app.reference} 收到公示异议",
        body=f"“{app.title}”公示期间收到异议，请在付款前答复。",
        link=_link(app),
    )
