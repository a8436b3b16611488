"""The subsidy application lifecycle: applications, their timeline, evidence, findings, decisions,
payments, re-checks and clawbacks. The status moves only through services (see workflow.py)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from qijia.core.models import TimeStampedModel


class Status(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("形式审查中")
    RETURNED = "returned", _("退回补正")
    EXPERT_REVIEW = "expert_review", _("专家评审中")
    AWAITING_APPROVAL = "awaiting_approval", _("待科室审批")
    APPROVED = "approved", _("科室已审批")
    LEADERSHIP_APPROVED = "leadership_approved", _("集体决策通过")
    IN_NOTICE = "in_notice", _("公示中")
    PAYABLE = "payable", _("待拨付")
    PAID = "paid", _("已拨付")
    UNDER_RECHECK = "under_recheck", _("抽查复核中")
    CLOSED = "closed", _("已办结")
    REJECTED = "rejected", _("未通过")
    WITHDRAWN = "withdrawn", _("已撤回")
    CANCELLED = "cancelled", _("已撤销资助")


class Application(TimeStampedModel):
    reference = models.CharField(_("申报编号"), max_length=32, unique=True)
    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.PROTECT, related_name="applications"
    )
    call = models.ForeignKey(
        "programmes.Call", on_delete=models.PROTECT, related_name="applications"
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="applications"
    )
    created_by = models.ForeignKey(
        "identity.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("填报人")
    )
    title = models.CharField(_("项目名称"), max_length=200)
    description = models.TextField(_("项目简介"), blank=True)
    project_start = models.DateField(_("项目开始日期"), null=True, blank=True)
    project_end = models.DateField(_("项目结束日期"), null=True, blank=True)
    amount_requested = models.DecimalField(_("申请金额(元)"), max_digits=14, decimal_places=2)
    amount_approved = models.DecimalField(
        _("核定金额(元)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    #: What is currently held in the budget for this application (released on reject/cancel).
    amount_reserved = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    status = models.CharField(
        _("状态"), max_length=24, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    #: Correction rounds: increments on each resubmission.
    round = models.PositiveSmallIntegerField(_("补正轮次"), default=0)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    eligibility = models.JSONField(_("资格判定"), default=dict, blank=True)
    registry_checked_at = models.DateTimeField(null=True, blank=True)
    registry_clean = models.BooleanField(null=True)
    registry_listings = models.JSONField(default=list, blank=True)
    screened_at = models.DateTimeField(_("筛查时间"), null=True, blank=True)
    notice_starts_on = models.DateField(_("公示开始"), null=True, blank=True)
    notice_ends_on = models.DateField(_("公示结束"), null=True, blank=True)
    #: When the current step started; the work queue measures overdue from here.
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("资助申请")
        constraints = [
            models.CheckConstraint(
                name="application_amount_positive", condition=Q(amount_requested__gt=0)
            ),
            models.CheckConstraint(
                name="application_approved_within_requested",
                condition=Q(amount_approved__isnull=True)
                | Q(amount_approved__gt=0, amount_approved__lte=F("amount_requested")),
            ),
            models.CheckConstraint(
                name="application_reserved_nonnegative", condition=Q(amount_reserved__gte=0)
            ),
        ]
        indexes = [models.Index(fields=["programme", "status"], name="application_prog_status")]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class ApplicationEvent(models.Model):
    """The application's timeline. ``public`` rows are what the enterprise reads."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("事项"), max_length=40)
    label = models.CharField(_("说明"), max_length=100)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    actor = models.ForeignKey(
        "identity.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(_("办理人"), max_length=200)
    note = models.TextField(_("意见"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    public = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("办理记录")

    def __str__(self) -> str:
        return f"{self.application_id} {self.action}"


class EvidenceKind(models.TextChoices):
    PHOTO = "photo", _("照片")
    INVOICE = "invoice", _("发票扫描件")
    CONTRACT = "contract", _("合同")
    OTHER = "other", _("其他")


def _evidence_upload_to(evidence: EvidenceFile, filename: str) -> str:
    return f"evidence/{evidence.sha256[:2]}/{evidence.sha256}/{evidence.application_id}-v{evidence.version}"


class EvidenceFile(models.Model):
    """An uploaded file, immutable. A correction is a new row that ``supersedes`` the old one; the
    old row and its bytes stay (#41: evidence never disappears)."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="files")
    material_code = models.CharField(_("材料"), max_length=40)
    kind = models.CharField(_("类型"), max_length=10, choices=EvidenceKind.choices)
    version = models.PositiveSmallIntegerField(default=1)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    original_name = models.CharField(_("文件名"), max_length=255)
    file = models.FileField(upload_to=_evidence_upload_to, max_length=400)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.PositiveIntegerField()
    content_type = models.CharField(max_length=60)
    caption = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey("identity.User", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application", "material_code", "version"]
        verbose_name = _("证明材料")

    def __str__(self) -> str:
        return f"{self.original_name} v{self.version}"


class Invoice(models.Model):
    """An invoice's structured fields (plus its scan). Corrections supersede, like files."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="invoices")
    scan = models.ForeignKey(
        EvidenceFile, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    invoice_code = models.CharField(_("发票代码"), max_length=12, blank=True)
    invoice_number = models.CharField(_("发票号码"), max_length=20)
    issued_on = models.DateField(_("开票日期"))
    seller_tax_id = models.CharField(_("销售方税号"), max_length=20)
    seller_name = models.CharField(_("销售方名称"), max_length=200, blank=True)
    buyer_tax_id = models.CharField(_("购买方税号"), max_length=20)
    buyer_name = models.CharField(_("购买方名称"), max_length=200, blank=True)
    amount = models.DecimalField(_("金额(元)"), max_digits=14, decimal_places=2)
    tax = models.DecimalField(_("税额(元)"), max_digits=14, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application", "issued_on", "pk"]
        verbose_name = _("发票")
        indexes = [models.Index(fields=["invoice_code", "invoice_number"], name="invoice_key_idx")]

    def __str__(self) -> str:
        return f"{self.invoice_code}-{self.invoice_number}"


class Disposition(models.TextChoices):
    PENDING = "pending", _("待处置")
    CONFIRMED = "confirmed", _("已确认")
    DISMISSED = "dismissed", _("已排除")


class ScreeningFinding(models.Model):
    """A screening engine finding on one application, and the reviewer's disposal of it (#38)."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="findings")
    kind = models.CharField(_("类型"), max_length=40)
    severity = models.CharField(_("严重程度"), max_length=10)
    summary = models.TextField(_("摘要"))
    subject = models.CharField(max_length=500)
    evidence = models.JSONField(_("证据"), default=dict)
    disposition = models.CharField(
        _("处置"), max_length=10, choices=Disposition.choices, default=Disposition.PENDING
    )
    reason = models.TextField(_("处置理由"), blank=True)
    disposed_by = models.ForeignKey(
        "identity.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    disposed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Not fields: the application page attaches the two photos a duplicate_photo finding compares.
    file_a: EvidenceFile | None
    file_b: EvidenceFile | None

    class Meta:
        ordering = ["application", "-severity", "pk"]
        verbose_name = _("筛查发现")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "kind", "subject"], name="finding_unique_subject"
            ),
            models.CheckConstraint(
                name="finding_dismissal_has_reason",
                condition=~Q(disposition="dismissed") | ~Q(reason=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.summary}"


class ExpertScore(models.Model):
    """A panel member's score, recorded by staff until the expert library exists."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="scores")
    expert_name = models.CharField(_("专家姓名"), max_length=50)
    score = models.DecimalField(_("评分"), max_digits=5, decimal_places=2)
    comment = models.TextField(_("评审意见"), blank=True)
    recorded_by = models.ForeignKey("identity.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application", "pk"]
        verbose_name = _("专家评分")
        constraints = [
            models.CheckConstraint(
                name="expert_score_range", condition=Q(score__gte=0, score__lte=100)
            )
        ]

    def __str__(self) -> str:
        return f"{self.expert_name} {self.score}"


class LeadershipDecision(models.Model):
    """The collective decision a major payment needs (三重一大, #15)."""

    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="leadership_decision"
    )
    meeting = models.CharField(_("会议名称"), max_length=100)
    meeting_date = models.DateField(_("会议日期"))
    minute_ref = models.CharField(_("纪要编号"), max_length=100)
    decision = models.TextField(_("决策内容"))
    recorded_by = models.ForeignKey("identity.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("集体决策")

    def __str__(self) -> str:
        return f"{self.meeting} {self.meeting_date} {self.minute_ref}"


class Objection(models.Model):
    """An objection filed during public notice; payment waits until every one is answered."""

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="objections"
    )
    filed_by = models.ForeignKey(
        "identity.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    filer_name = models.CharField(_("异议人"), max_length=100)
    content = models.TextField(_("异议内容"))
    filed_at = models.DateTimeField(auto_now_add=True)
    answer = models.TextField(_("答复"), blank=True)
    upheld = models.BooleanField(_("异议成立"), null=True)
    answered_by = models.ForeignKey(
        "identity.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["application", "filed_at"]
        verbose_name = _("公示异议")

    def __str__(self) -> str:
        return f"{self.filer_name}: {self.content[:30]}"


class Payment(models.Model):
    """One disbursement. The idempotency key makes a repeated request return the first payment;
    the one-to-one makes a second payment of the same application impossible whatever the key."""

    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="payment"
    )
    idempotency_key = models.CharField(max_length=80, unique=True)
    amount = models.DecimalField(_("拨付金额(元)"), max_digits=14, decimal_places=2)
    bank_reference = models.CharField(_("支付凭证号"), max_length=100, blank=True)
    paid_by = models.ForeignKey("identity.User", on_delete=models.PROTECT, related_name="+")
    paid_at = models.DateTimeField(_("拨付时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("拨付记录")
        constraints = [
            models.CheckConstraint(name="payment_amount_positive", condition=Q(amount__gt=0))
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.amount}"


class RecheckDraw(models.Model):
    """A sampling draw (回头看/抽查). The seed and the population are stored before the draw runs,
    so anyone can replay ``random.Random(seed).sample(population, size)`` and get ``selected``."""

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.PROTECT, related_name="draws"
    )
    share_pct = models.DecimalField(_("抽查比例(%)"), max_digits=5, decimal_places=2)
    seed = models.BigIntegerField(_("随机种子"))
    population = models.JSONField(_("总体(申请编号)"))
    size = models.PositiveIntegerField(_("抽取数量"))
    selected = models.JSONField(_("抽中"), null=True, blank=True)
    created_by = models.ForeignKey("identity.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    drawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("抽查批次")

    def __str__(self) -> str:
        return f"{self.programme_id} seed={self.seed}"


class RecheckResult(models.TextChoices):
    PASSED = "passed", _("复核通过")
    FRAUD = "fraud", _("发现骗取资金")


class Recheck(models.Model):
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="rechecks")
    draw = models.ForeignKey(
        RecheckDraw, null=True, blank=True, on_delete=models.PROTECT, related_name="rechecks"
    )
    result = models.CharField(_("复核结果"), max_length=10, choices=RecheckResult.choices)
    note = models.TextField(_("复核说明"))
    recorded_by = models.ForeignKey("identity.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("抽查复核")

    def __str__(self) -> str:
        return f"{self.application_id} {self.result}"


class Clawback(models.Model):
    """Money to recover after cancellation (追缴): due, recovered so far, outstanding."""

    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="clawback"
    )
    amount_due = models.DecimalField(_("应追缴(元)"), max_digits=14, decimal_places=2)
    due_on = models.DateField(_("限缴日期"))
    recovered = models.DecimalField(_("已追回(元)"), max_digits=14, decimal_places=2, default=0)
    registry_entry_id = models.BigIntegerField(_("黑名单条目"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(_("结清时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("追缴")
        constraints = [
            models.CheckConstraint(
                name="clawback_recovered_within_due",
                condition=Q(recovered__gte=0, recovered__lte=F("amount_due")),
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.amount_due}"

    @property
    def outstanding(self):  # noqa: ANN201 - Decimal
        return self.amount_due - self.recovered


class ClawbackReceipt(models.Model):
    clawback = models.ForeignKey(Clawback, on_delete=models.PROTECT, related_name="receipts")
    amount = models.DecimalField(_("金额(元)"), max_digits=14, decimal_places=2)
    received_on = models.DateField(_("到账日期"))
    reference = models.CharField(_("凭证号"), max_length=100, blank=True)
    recorded_by = models.ForeignKey("identity.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["clawback", "received_on", "pk"]
        verbose_name = _("追缴到账")
        constraints = [
            models.CheckConstraint(name="clawback_receipt_positive", condition=Q(amount__gt=0))
        ]

    def __str__(self) -> str:
        return f"{self.clawback_id} {self.amount}"


class ReferenceCounter(models.Model):
    """The last application number given out per year; its row lock serialises numbering."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("申报编号计数")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"
