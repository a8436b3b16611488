"""The bureau's own structure. Configuration, not reference data: a deployment edits this list (or
the org units in the admin); the seed creates what is missing and leaves existing units alone."""

from __future__ import annotations

from dataclasses import dataclass

from qijia.identity.roles import OrgKind


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    parent: str | None = None


LEADERSHIP = "bureau-leadership"

BUREAU_UNITS: tuple[Unit, ...] = (
    Unit(LEADERSHIP, "局领导", OrgKind.LEADERSHIP),
    Unit("section-office", "办公室", OrgKind.SECTION, LEADERSHIP),
    Unit("section-enterprise-service", "企业服务科", OrgKind.SECTION, LEADERSHIP),
    Unit("section-planning-finance", "规划财务科", OrgKind.SECTION, LEADERSHIP),
    Unit("section-tech-upgrade", "技术改造科", OrgKind.SECTION, LEADERSHIP),
    Unit("section-sme", "中小企业科", OrgKind.SECTION, LEADERSHIP),
    Unit("section-industry-development", "产业发展科", OrgKind.SECTION, LEADERSHIP),
    Unit("section-informatization", "信息化推进科", OrgKind.SECTION, LEADERSHIP),
    Unit("inspection-group", "驻局纪检监察组", OrgKind.INSPECTION),
    Unit("partner-ecology", "市生态环境局", OrgKind.PARTNER),
    Unit("partner-tax", "国家税务总局东莞市税务局", OrgKind.PARTNER),
    Unit("partner-market", "市市场监督管理局", OrgKind.PARTNER),
    Unit("partner-science", "市科学技术局", OrgKind.PARTNER),
    Unit("partner-commerce", "市商务局", OrgKind.PARTNER),
    Unit("external-experts", "评审专家库", OrgKind.EXTERNAL),
)
