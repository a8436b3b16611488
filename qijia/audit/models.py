"""The append-only, HMAC-chained audit trail (#31).

Every row carries ``prev_hash`` (the previous row's ``hash``) and its own ``hash``: an HMAC over
its contents and ``prev_hash`` keyed by QIJIA_AUDIT_KEY. ``ChainHead`` holds the last sequence
number and hash; appending locks it, so the chain is strictly ordered even under concurrency, and
removing the last rows is detected too. On PostgreSQL a trigger refuses UPDATE and DELETE.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    seq = models.BigIntegerField(_("序号"), unique=True)
    occurred_at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    actor_label = models.CharField(_("操作人"), max_length=200)
    actor_role = models.CharField(_("角色"), max_length=20, blank=True)
    org_unit_label = models.CharField(_("代表单位"), max_length=200, blank=True)
    action = models.CharField(_("动作"), max_length=80, db_index=True)
    is_read = models.BooleanField(_("敏感读取"), default=False)
    object_type = models.CharField(_("对象类型"), max_length=80, blank=True, db_index=True)
    object_id = models.CharField(_("对象编号"), max_length=80, blank=True, db_index=True)
    object_repr = models.CharField(_("对象"), max_length=300, blank=True)
    before = models.JSONField(_("变更前"), null=True, blank=True)
    after = models.JSONField(_("变更后"), null=True, blank=True)
    ip = models.CharField(_("来源地址"), max_length=64, blank=True)
    channel = models.CharField(_("渠道"), max_length=20, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("审计记录")
        indexes = [
            models.Index(fields=["object_type", "object_id", "-seq"], name="audit_object_idx")
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class ChainHead(models.Model):
    """A single row: the last sequence number and hash of the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        constraints = [
            models.CheckConstraint(name="audit_chain_head_singleton", condition=models.Q(id=1))
        ]

    def __str__(self) -> str:
        return f"chain head #{self.last_seq}"
