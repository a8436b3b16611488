"""notify(): one row per distinct recipient, e-mail only after commit, inbox scoped to its owner."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from qijia.core.errors import NotFound
from qijia.core.testing import OrgUnitFactory
from qijia.notifications.models import Notification
from qijia.notifications.services import notification_mark_read, notify

pytestmark = pytest.mark.django_db


def test_notify_reaches_named_users_and_org_unit_members_once(
    user_factory, django_capture_on_commit_callbacks
):
    unit = OrgUnitFactory(code="env", name="生态环境局", kind="partner")
    member = user_factory("partner", org_unit=unit, email="m@example.com")
    other = user_factory("officer")
    with django_capture_on_commit_callbacks(execute=True):
        rows = notify(
            recipients_users=[member, other],
            recipients_org_units=[unit],
            kind="test.kind",
            title="标题",
            body="内容",
            link="/registry/",
        )
    assert sorted(r.recipient_id for r in rows) == sorted([member.pk, other.pk])
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["m@example.com"]
    assert mail.outbox[0].subject == "[企家] 标题"


def test_no_mail_is_sent_when_the_transaction_rolls_back(
    user_factory, django_capture_on_commit_callbacks
):
    member = user_factory("officer", email="x@example.com")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(recipients_users=[member], kind="k", title="t")
    assert len(callbacks) == 1 and mail.outbox == []


def test_inactive_users_get_nothing(user_factory):
    user = user_factory("officer", is_active=False)
    assert notify(recipients_users=[user], kind="k", title="t") == []


def test_only_the_recipient_can_mark_read_and_sees_the_inbox(user_factory):
    owner, stranger = user_factory("officer"), user_factory("officer")
    note = notify(recipients_users=[owner], kind="k", title="给你的消息")[0]
    with pytest.raises(NotFound):
        notification_mark_read(actor=stranger, notification_id=note.pk)
    client = Client()
    client.force_login(stranger)
    assert "给你的消息" not in client.get("/notifications/").content.decode()
    client.force_login(owner)
    assert "给你的消息" in client.get("/notifications/").content.decode()
    client.post(f"/notifications/{note.pk}/read/")
    assert Notification.objects.get(pk=note.pk).read_at is not None
