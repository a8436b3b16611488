"""The roles of domain.md. One role per account; an account belongs to one org unit or enterprise."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业用户")
    OFFICER = "officer", _("经办人")
    APPROVER = "approver", _("审批人")
    TOWN = "town", _("镇街经办")
    EXPERT = "expert", _("评审专家")
    INSPECTOR = "inspector", _("纪检监察")
    PARTNER = "partner", _("协作部门")
    ADMIN = "admin", _("系统管理员")


#: Roles of bureau staff who see the whole city.
CITY_STAFF = frozenset({Role.OFFICER, Role.APPROVER, Role.INSPECTOR, Role.ADMIN})
#: Roles that must belong to an org unit (and not to an enterprise).
ORG_ROLES = frozenset(
    {Role.OFFICER, Role.APPROVER, Role.TOWN, Role.INSPECTOR, Role.PARTNER, Role.ADMIN}
)


class OrgKind(models.TextChoices):
    LEADERSHIP = "leadership", _("局领导")
    SECTION = "section", _("科室")
    TOWN = "town", _("镇")
    SUBDISTRICT = "subdistrict", _("街道")
    ZONE = "zone", _("功能区")
    PARTNER = "partner", _("协作部门")
    INSPECTION = "inspection", _("纪检监察")
    EXTERNAL = "external", _("外部（专家）")


TOWN_KINDS = frozenset({OrgKind.TOWN, OrgKind.SUBDISTRICT, OrgKind.ZONE})
