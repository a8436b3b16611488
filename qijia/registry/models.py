"""The ineligibility registry (不予资助查询系统, #3, #39).

An ``Entry`` is the current state of one listing; every change appends an ``EntryVersion`` (never
updated, never deleted) carrying a city-wide ``change_seq`` that departments mirror through the
changes feed. Status is derived from the validity window and the revocation, never stored, so it
cannot go stale: ``valid_to`` is the last day in force (inclusive), NULL for open-ended.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ListKind(models.TextChoices):
    INELIGIBLE = "ineligible", _("不予资助")
    BLACKLIST = "blacklist", _("失信黑名单")


class EntryStatus(models.TextChoices):
    PENDING = "pending", _("未生效")
    ACTIVE = "active", _("有效")
    EXPIRED = "expired", _("已到期")
    REVOKED = "revoked", _("已撤销")


class Category(models.Model):
    """The maintained code list of grounds for listing (seeded by migration, managed as data)."""

    code = models.SlugField(_("代码"), max_length=40, primary_key=True)
    name = models.CharField(_("名称"), max_length=100, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("列入类别")

    def __str__(self) -> str:
        return self.name


class ChangeCounter(models.Model):
    """A single row handing out change sequence numbers.

    Writers lock it first, so sequence order equals commit order and a mirror reading
    ``since=<cursor>`` can never skip a change that commits late.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(name="registry_counter_singleton", condition=Q(id=1))]

    def __str__(self) -> str:
        return f"change seq {self.last_seq}"


class Entry(models.Model):
    uscc = models.CharField(_("统一社会信用代码"), max_length=18)
    enterprise_name = models.CharField(_("企业名称"), max_length=200, blank=True)
    list = models.CharField(_("名单"), max_length=12, choices=ListKind.choices)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="entries", verbose_name=_("类别")
    )
    reason = models.TextField(_("列入事由"))
    source = models.ForeignKey(
        "identity.OrgUnit",
        on_delete=models.PROTECT,
        related_name="registry_entries",
        verbose_name=_("来源部门"),
    )
    document_ref = models.CharField(_("文书编号"), max_length=200, blank=True)
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("撤销人"),
    )
    revoked_by_label = models.CharField(_("撤销人"), max_length=200, blank=True)
    revocation_reason = models.TextField(_("撤销理由"), blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    change_seq = models.BigIntegerField(_("变更序号"), unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by_label = models.CharField(_("创建人"), max_length=200)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    expiry_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-change_seq"]
        verbose_name = _("名单条目")
        constraints = [
            models.CheckConstraint(
                name="registry_entry_window_ordered",
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
            ),
            models.CheckConstraint(
                name="registry_entry_revocation_complete",
                condition=Q(revoked_at__isnull=True) | ~Q(revocation_reason=""),
            ),
        ]
        indexes = [
            # The check: one probe per code, only rows that are not revoked, window in the index.
            models.Index(
                fields=["uscc", "valid_from", "valid_to"],
                name="registry_check_idx",
                condition=Q(revoked_at__isnull=True),
            ),
            models.Index(fields=["uscc"], name="registry_uscc_idx"),
            models.Index(fields=["source", "-change_seq"], name="registry_source_idx"),
            models.Index(
                fields=["valid_to"],
                name="registry_expiry_idx",
                condition=Q(revoked_at__isnull=True, valid_to__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_name or self.uscc} · {self.get_list_display()}"

    def status_on(self, day: dt.date) -> str:
        if self.revoked_at is not None:
            return EntryStatus.REVOKED
        if day < self.valid_from:
            return EntryStatus.PENDING
        if self.valid_to is not None and day > self.valid_to:
            return EntryStatus.EXPIRED
        return EntryStatus.ACTIVE

    @property
    def status(self) -> str:
        from django.utils import timezone

        return self.status_on(timezone.localdate())

    def get_status_display(self) -> str:
        return str(EntryStatus(self.status).label)

    def applies_on(self, day: dt.date) -> bool:
        return self.status_on(day) == EntryStatus.ACTIVE


class VersionAction(models.TextChoices):
    CREATED = "created", _("列入")
    AMENDED = "amended", _("修改")
    REVOKED = "revoked", _("撤销")
    EXPIRED = "expired", _("到期")


class EntryVersion(models.Model):
    """One immutable snapshot of an entry after a change; the feed and the history read these."""

    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField(_("版本"))
    change_seq = models.BigIntegerField(_("变更序号"), unique=True)
    action = models.CharField(_("变更"), max_length=10, choices=VersionAction.choices)
    changed_at = models.DateTimeField(_("时间"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_by_label = models.CharField(_("操作人"), max_length=200)
    note = models.TextField(_("说明"), blank=True)
    # The state after the change (denormalised so the feed needs no joins).
    uscc = models.CharField(max_length=18)
    enterprise_name = models.CharField(max_length=200, blank=True)
    list = models.CharField(max_length=12, choices=ListKind.choices)
    category_code = models.CharField(max_length=40)
    reason = models.TextField()
    source_code = models.CharField(max_length=64)
    document_ref = models.CharField(max_length=200, blank=True)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["change_seq"]
        verbose_name = _("条目版本")
        constraints = [
            models.UniqueConstraint(fields=["entry", "version"], name="registry_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.entry_id} v{self.version} ({self.action})"


class ObjectionStatus(models.TextChoices):
    PENDING = "pending", _("待答复")
    UPHELD = "upheld", _("申诉成立")
    REJECTED = "rejected", _("申诉驳回")


class Objection(models.Model):
    """An enterprise's objection (申诉) to its listing, answered by the source department."""

    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="objections")
    lodged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("申诉理由"))
    status = models.CharField(
        _("状态"), max_length=10, choices=ObjectionStatus.choices, default=ObjectionStatus.PENDING
    )
    lodged_at = models.DateTimeField(_("提出时间"), auto_now_add=True)
    due_on = models.DateField(_("答复期限"))
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answer = models.TextField(_("答复意见"), blank=True)

    class Meta:
        ordering = ["-lodged_at", "-id"]
        verbose_name = _("申诉")
        constraints = [
            models.UniqueConstraint(
                fields=["entry"],
                condition=Q(status="pending"),
                name="registry_one_open_objection",
            ),
            models.CheckConstraint(
                name="registry_objection_answer_complete",
                condition=Q(status="pending") | (Q(answered_at__isnull=False) & ~Q(answer="")),
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="registry_objection_due_idx")]

    def __str__(self) -> str:
        return f"申诉 #{self.pk}"

    @property
    def is_overdue(self) -> bool:
        from django.utils import timezone

        return self.status == ObjectionStatus.PENDING and self.due_on < timezone.localdate()


def evidence_path(instance: Evidence, filename: str) -> str:
    # Content-addressed: the stored name is the hash, so a file can never be replaced in place.
    ext = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(
        instance.content_type, "bin"
    )
    return f"registry/evidence/{instance.sha256[:2]}/{instance.sha256}.{ext}"


class Evidence(models.Model):
    """An evidence file (PDF or image) of an entry or an objection. Immutable once stored."""

    entry = models.ForeignKey(
        Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    objection = models.ForeignKey(
        Objection, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    file = models.FileField(upload_to=evidence_path, max_length=200)
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(max_length=64, db_index=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by_label = models.CharField(max_length=200)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("证明材料")
        constraints = [
            models.CheckConstraint(
                name="registry_evidence_has_one_owner",
                condition=(Q(entry__isnull=False) & Q(objection__isnull=True))
                | (Q(entry__isnull=True) & Q(objection__isnull=False)),
            )
        ]

    def __str__(self) -> str:
        return self.original_name


class TokenScope(models.TextChoices):
    READ = "read", _("只读")
    READ_WRITE = "read_write", _("读写")


class ApiToken(models.Model):
    """A department's machine credential. Only the sha256 of the secret is stored.

    The token text is ``qjr_<prefix>_<secret>``; ``prefix`` finds the row, the hash proves it.
    """

    org_unit = models.ForeignKey(
        "identity.OrgUnit",
        on_delete=models.PROTECT,
        related_name="registry_tokens",
        verbose_name=_("所属部门"),
    )
    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scope = models.CharField(_("权限范围"), max_length=12, choices=TokenScope.choices)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("接口令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class CheckLog(models.Model):
    """One row per enterprise asked about: who asked, when, for which date, and the answer.

    Written in the request's own transaction and append-only, so no check goes unrecorded. A bulk
    check also appends one audit-chain event carrying the sha256 of its codes (``audit_seq``). Single checks do
    not take the chain lock on the hot path: ``checklog_seal`` appends one chain event per batch
    of unsealed rows carrying their sha256 (``sealed_seq``), which makes them tamper-evident.
    """

    audit_seq = models.BigIntegerField(_("审计序号"), null=True, blank=True)
    sealed_seq = models.BigIntegerField(_("封存序号"), null=True, blank=True)
    asked_at = models.DateTimeField(_("查询时间"))
    actor_label = models.CharField(_("查询人"), max_length=200)
    org_unit_label = models.CharField(_("查询单位"), max_length=200, blank=True)
    channel = models.CharField(_("渠道"), max_length=20, blank=True)
    uscc = models.CharField(_("被查询企业"), max_length=18)
    on_date = models.DateField(_("查询日期"))
    listed = models.BooleanField(_("是否在名单"))
    bulk = models.BooleanField(_("批量"), default=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("查询记录")
        indexes = [
            # "Who asked about this enterprise", newest first, read straight off the index.
            models.Index(fields=["uscc", "-id"], name="registry_checklog_uscc_id"),
            models.Index(
                fields=["id"],
                name="registry_checklog_unsealed",
                condition=Q(sealed_seq__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} → {self.uscc}"
