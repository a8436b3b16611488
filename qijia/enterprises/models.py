"""Enterprise registry (企业高质量评价数据库): enterprises by USCC, persons, roles, holdings, indicators."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from qijia.core.models import TimeStampedModel


class Industry(models.Model):
    """A GB/T 4754-2017 division (loaded from shared/reference/industries.csv)."""

    code = models.CharField(_("代码"), max_length=8, primary_key=True)
    name = models.CharField(_("名称"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("行业")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SizeClass(models.TextChoices):
    LARGE = "large", _("大型")
    MEDIUM = "medium", _("中型")
    SMALL = "small", _("小型")
    MICRO = "micro", _("微型")


class EnterpriseStatus(models.TextChoices):
    ACTIVE = "active", _("存续")
    SUSPENDED = "suspended", _("停业")
    CANCELLED = "cancelled", _("注销")
    REVOKED = "revoked", _("吊销")


class Enterprise(TimeStampedModel):
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("企业名称"), max_length=200, db_index=True)
    town = models.ForeignKey(
        "identity.OrgUnit",
        on_delete=models.PROTECT,
        related_name="enterprises",
        verbose_name=_("镇街"),
    )
    industry = models.ForeignKey(
        Industry,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enterprises",
        verbose_name=_("行业"),
    )
    address = models.CharField(_("地址"), max_length=300, blank=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    established_on = models.DateField(_("成立日期"), null=True, blank=True)
    size_class = models.CharField(_("规模"), max_length=10, choices=SizeClass.choices, blank=True)
    status = models.CharField(
        _("经营状态"),
        max_length=12,
        choices=EnterpriseStatus.choices,
        default=EnterpriseStatus.ACTIVE,
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("企业")
        indexes = [
            models.Index(fields=["town", "industry", "size_class"], name="enterprise_filter_idx")
        ]

    def __str__(self) -> str:
        return self.name


class Person(TimeStampedModel):
    """A natural person. The identity number is kept as a keyed hash (for matching) and an encrypted
    copy (for the few roles allowed to read it, audited); everywhere else only the mask is shown."""

    name = models.CharField(_("姓名"), max_length=50, db_index=True)
    id_number_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    id_number_encrypted = models.TextField(blank=True)
    id_number_masked = models.CharField(_("身份证号码"), max_length=18, blank=True)
    phone = models.CharField(_("手机号"), max_length=30, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("自然人")

    def __str__(self) -> str:
        return self.name


class PersonRoleKind(models.TextChoices):
    LEGAL_REPRESENTATIVE = "legal_representative", _("法定代表人")
    SHAREHOLDER = "shareholder", _("股东")
    DIRECTOR = "director", _("董事")
    SUPERVISOR = "supervisor", _("监事")
    MANAGER = "manager", _("经理")
    FINANCE_CONTACT = "finance_contact", _("财务负责人")
    CONTACT = "contact", _("联系人")


class PersonRole(TimeStampedModel):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="roles")
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="person_roles"
    )
    role = models.CharField(_("职务"), max_length=24, choices=PersonRoleKind.choices)
    share_pct = models.DecimalField(
        _("持股比例(%)"), max_digits=7, decimal_places=4, null=True, blank=True
    )

    class Meta:
        verbose_name = _("人员职务")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "enterprise", "role"], name="person_role_unique"
            ),
            models.CheckConstraint(
                name="person_role_share_only_for_shareholders",
                condition=Q(role="shareholder") | Q(share_pct__isnull=True),
            ),
            models.CheckConstraint(
                name="person_role_share_range",
                condition=Q(share_pct__isnull=True) | Q(share_pct__gt=0, share_pct__lte=100),
            ),
        ]
        indexes = [models.Index(fields=["enterprise", "role"], name="person_role_ent_idx")]

    def __str__(self) -> str:
        return f"{self.person_id}@{self.enterprise_id}:{self.role}"


class Holding(TimeStampedModel):
    """One enterprise holds shares of another."""

    holder = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="holdings")
    held = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="held_by")
    share_pct = models.DecimalField(_("持股比例(%)"), max_digits=7, decimal_places=4)

    class Meta:
        verbose_name = _("企业持股")
        constraints = [
            models.UniqueConstraint(fields=["holder", "held"], name="holding_unique"),
            models.CheckConstraint(name="holding_not_self", condition=~Q(holder=models.F("held"))),
            models.CheckConstraint(
                name="holding_share_range", condition=Q(share_pct__gt=0, share_pct__lte=100)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder_id}→{self.held_id} {self.share_pct}%"


class MonthlyIndicator(models.Model):
    """One enterprise's figures for one month. Money in 10,000 yuan (万元), as the bureau reports."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="indicators")
    month = models.DateField(_("月份"), help_text=_("该月第一天"))
    industrial_output = models.DecimalField(
        _("工业总产值(万元)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    revenue = models.DecimalField(
        _("营业收入(万元)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    value_added = models.DecimalField(
        _("工业增加值(万元)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    tax_paid = models.DecimalField(
        _("纳税额(万元)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    employees = models.PositiveIntegerField(_("从业人员(人)"), null=True, blank=True)
    electricity_kwh = models.DecimalField(
        _("用电量(千瓦时)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    energy_tce = models.DecimalField(
        _("综合能耗(吨标准煤)"), max_digits=14, decimal_places=3, null=True, blank=True
    )
    rnd_spend = models.DecimalField(
        _("研发投入(万元)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    land_mu = models.DecimalField(
        _("用地面积(亩)"), max_digits=12, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["enterprise", "month"]
        verbose_name = _("月度指标")
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "month"], name="indicator_unique_month"),
            models.CheckConstraint(name="indicator_month_first_day", condition=Q(month__day=1)),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.month:%Y-%m}"


class ImportKind(models.TextChoices):
    ENTERPRISES = "enterprises", _("企业")
    PERSONS = "persons", _("自然人")
    ROLES = "roles", _("人员职务")
    HOLDINGS = "holdings", _("企业持股")
    INDICATORS = "indicators", _("月度指标")


class ImportStatus(models.TextChoices):
    RECEIVED = "received", _("已接收")
    REJECTED = "rejected", _("已拒绝")
    IMPORTED = "imported", _("已导入")
    FAILED = "failed", _("导入失败")


def _import_upload_to(batch: ImportBatch, filename: str) -> str:
    return f"imports/{batch.kind}/{batch.sha256[:2]}/{batch.sha256}-{filename}"


class ImportBatch(TimeStampedModel):
    """One uploaded file and what became of it. The file itself is kept (also when rejected), so
    every registry change made by an import can be traced back to the bytes that caused it."""

    kind = models.CharField(_("数据类型"), max_length=16, choices=ImportKind.choices)
    file_format = models.CharField(_("文件格式"), max_length=8)
    original_name = models.CharField(_("原文件名"), max_length=255)
    file = models.FileField(_("文件"), upload_to=_import_upload_to, max_length=400)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size_bytes = models.PositiveBigIntegerField(_("大小(字节)"))
    uploaded_by = models.ForeignKey(
        "identity.User",
        on_delete=models.PROTECT,
        related_name="enterprise_imports",
        verbose_name=_("导入人"),
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.RECEIVED
    )
    row_count = models.PositiveIntegerField(_("数据行数"), default=0)
    created_count = models.PositiveIntegerField(_("新增"), default=0)
    updated_count = models.PositiveIntegerField(_("更新"), default=0)
    unchanged_count = models.PositiveIntegerField(_("未变化"), default=0)
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    #: The first errors, for the result page; the full list is in ``error_report``.
    errors_preview = models.JSONField(_("错误摘要"), default=list, blank=True)
    error_report = models.FileField(_("错误报告"), max_length=400, blank=True)
    failure_message = models.TextField(_("失败原因"), blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("导入批次")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name} ({self.get_status_display()})"
