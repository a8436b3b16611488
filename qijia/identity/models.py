from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .roles import OrgKind, Role


class OrgUnit(models.Model):
    """A section, a town/subdistrict/zone, a partner department, the leadership or inspection."""

    code = models.SlugField(_("编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100, unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=OrgKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("组织单位")

    def __str__(self) -> str:
        return self.name

    @property
    def is_town(self) -> bool:
        return self.kind in (OrgKind.TOWN, OrgKind.SUBDISTRICT, OrgKind.ZONE)


class User(AbstractUser):
    """One account across departments (#2, #11): a role, and the org unit or enterprise it acts for."""

    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    org_unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    #: Subject at the province's unified identity service, once the account has been linked.
    oidc_subject = models.CharField(max_length=200, null=True, blank=True, unique=True)
    preferred_language = models.CharField(max_length=10, blank=True)

    class Meta:
        verbose_name = _("用户")
        constraints = [
            models.CheckConstraint(
                name="user_enterprise_role_has_enterprise",
                condition=~Q(role="enterprise")
                | Q(enterprise__isnull=False, org_unit__isnull=True),
            ),
            models.CheckConstraint(
                name="user_staff_role_has_org_unit",
                condition=~Q(
                    role__in=["officer", "approver", "town", "inspector", "partner", "admin"]
                )
                | Q(org_unit__isnull=False, enterprise__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def label(self) -> str:
        return f"{self} ({self.get_role_display()})"
