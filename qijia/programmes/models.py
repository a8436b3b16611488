"""Subsidy programmes (专项资金): policy, calls, eligibility criteria as data, budgets."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from qijia.core.models import TimeStampedModel


class ProgrammeStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    RETIRED = "retired", _("已停止")


class Programme(TimeStampedModel):
    """A subsidy programme owned by one section. Calls (申报批次) open and close within it."""

    code = models.SlugField(_("编码"), max_length=64, unique=True)
    title = models.CharField(_("名称"), max_length=200)
    section = models.ForeignKey(
        "identity.OrgUnit",
        on_delete=models.PROTECT,
        related_name="programmes",
        verbose_name=_("主管科室"),
    )
    policy_text = models.TextField(_("政策原文"), blank=True)
    guide = models.TextField(_("申报指南"), blank=True)
    #: [{"code": "invoice", "label": "采购发票", "kind": "invoice", "required": true}, ...]
    required_materials = models.JSONField(_("申报材料清单"), default=list, blank=True)
    max_amount = models.DecimalField(_("单个企业最高资助额(元)"), max_digits=14, decimal_places=2)
    major_threshold = models.DecimalField(
        _("三重一大金额标准(元)"),
        max_digits=14,
        decimal_places=2,
        help_text=_("达到或超过该金额的拨付须经领导班子集体决策"),
    )
    notice_days = models.PositiveSmallIntegerField(_("公示天数"), default=7)
    expert_review_required = models.BooleanField(_("需要专家评审"), default=False)
    recheck_share_pct = models.DecimalField(
        _("抽查比例(%)"), max_digits=5, decimal_places=2, default=Decimal("10")
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=ProgrammeStatus.choices, default=ProgrammeStatus.DRAFT
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("专项资金")
        constraints = [
            models.CheckConstraint(
                name="programme_max_amount_positive", condition=Q(max_amount__gt=0)
            ),
            models.CheckConstraint(
                name="programme_major_threshold_positive", condition=Q(major_threshold__gt=0)
            ),
            models.CheckConstraint(
                name="programme_recheck_share_range",
                condition=Q(recheck_share_pct__gte=0, recheck_share_pct__lte=100),
            ),
        ]

    def __str__(self) -> str:
        return self.title


def _attachment_upload_to(attachment: ProgrammeAttachment, filename: str) -> str:
    return f"programmes/{attachment.programme_id}/{attachment.sha256}-{filename}"


class ProgrammeAttachment(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="attachments")
    title = models.CharField(_("标题"), max_length=200)
    file = models.FileField(_("文件"), upload_to=_attachment_upload_to, max_length=400)
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("政策附件")

    def __str__(self) -> str:
        return self.title


class Call(TimeStampedModel):
    """One call for applications (申报批次) with its window and the budget year it spends."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="calls")
    title = models.CharField(_("批次名称"), max_length=200)
    year = models.PositiveSmallIntegerField(_("预算年度"))
    opens_on = models.DateField(_("开始日期"))
    closes_on = models.DateField(_("截止日期"))

    class Meta:
        ordering = ["-opens_on", "pk"]
        verbose_name = _("申报批次")
        constraints = [
            models.CheckConstraint(
                name="call_window_order", condition=Q(closes_on__gte=F("opens_on"))
            )
        ]

    def __str__(self) -> str:
        return f"{self.programme} · {self.title}"

    def is_open_on(self, day) -> bool:  # noqa: ANN001 - a date
        return self.opens_on <= day <= self.closes_on


class Fact(models.TextChoices):
    """Enterprise facts a criterion may test (see eligibility.py for how each is computed)."""

    INDUSTRY = "industry", _("所属行业")
    TOWN = "town", _("所在镇街")
    SIZE_CLASS = "size_class", _("企业规模")
    YEARS_ESTABLISHED = "years_established", _("成立年限(年)")
    REVENUE_LAST_YEAR = "revenue_last_year", _("上年营业收入(万元)")
    TAX_LAST_YEAR = "tax_last_year", _("上年纳税额(万元)")
    REVENUE_GROWTH_PCT = "revenue_growth_pct", _("上年营业收入增长率(%)")
    OPERATING = "operating", _("经营状态正常")
    NOT_LISTED = "not_listed", _("未列入不予资助名单")


class Operator(models.TextChoices):
    IN = "in", _("属于")
    NOT_IN = "not_in", _("不属于")
    GTE = "gte", _("不低于")
    LTE = "lte", _("不高于")
    IS_TRUE = "is_true", _("为是")


class Criterion(models.Model):
    """One eligibility condition, as data: ``fact operator value``."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="criteria")
    fact = models.CharField(_("条件项"), max_length=24, choices=Fact.choices)
    operator = models.CharField(_("比较"), max_length=8, choices=Operator.choices)
    #: A list of codes for in/not_in, a decimal string for gte/lte, null for is_true.
    value = models.JSONField(_("取值"), null=True, blank=True)
    label = models.CharField(_("说明"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["programme", "position", "pk"]
        verbose_name = _("申报条件")

    def __str__(self) -> str:
        return self.label or f"{self.fact} {self.operator} {self.value}"


class Ledger(models.Model):
    """One year's money. ``reserved`` is approved but unpaid, ``spent`` is paid. The check
    constraint (see ``_not_overspent``) is the last line against overspending, behind the row
    lock."""

    year = models.PositiveSmallIntegerField(_("年度"))
    amount = models.DecimalField(_("预算金额(元)"), max_digits=16, decimal_places=2)
    reserved = models.DecimalField(_("已预留(元)"), max_digits=16, decimal_places=2, default=0)
    spent = models.DecimalField(_("已拨付(元)"), max_digits=16, decimal_places=2, default=0)
    recovered = models.DecimalField(_("已追回(元)"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        abstract = True

    @property
    def available(self) -> Decimal:
        return self.amount - self.reserved - self.spent


def _not_overspent(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        name=name,
        condition=Q(reserved__gte=0, spent__gte=0, recovered__gte=0)
        & Q(amount__gte=F("reserved") + F("spent")),
    )


class ProgrammeBudget(Ledger):
    """A programme's money for one year."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="budgets")

    class Meta:
        ordering = ["-year", "programme"]
        verbose_name = _("专项预算")
        constraints = [
            models.UniqueConstraint(fields=["programme", "year"], name="programme_budget_unique"),
            _not_overspent("programme_budget_not_overspent"),
        ]

    def __str__(self) -> str:
        return f"{self.programme} {self.year}"


class SectionBudget(Ledger):
    """A section's ceiling for one year across all its programmes (#48)."""

    section = models.ForeignKey(
        "identity.OrgUnit", on_delete=models.PROTECT, related_name="section_budgets"
    )

    class Meta:
        ordering = ["-year", "section"]
        verbose_name = _("科室预算")
        constraints = [
            models.UniqueConstraint(fields=["section", "year"], name="section_budget_unique"),
            _not_overspent("section_budget_not_overspent"),
        ]

    def __str__(self) -> str:
        return f"{self.section} {self.year}"


class AdjustmentStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")


class BudgetAdjustment(models.Model):
    """A request to change a programme budget; limited in number and size per year (#48)."""

    budget = models.ForeignKey(
        ProgrammeBudget, on_delete=models.PROTECT, related_name="adjustments"
    )
    delta = models.DecimalField(_("调整金额(元)"), max_digits=16, decimal_places=2)
    reason = models.TextField(_("调整理由"))
    status = models.CharField(
        _("状态"), max_length=10, choices=AdjustmentStatus.choices, default=AdjustmentStatus.PENDING
    )
    requested_by = models.ForeignKey(
        "identity.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("申请人")
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        "identity.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("预算调整")
        constraints = [
            models.CheckConstraint(name="budget_adjustment_nonzero", condition=~Q(delta=0))
        ]

    def __str__(self) -> str:
        return f"{self.budget} {self.delta:+}"
