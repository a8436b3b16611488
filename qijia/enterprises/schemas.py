from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Schema


class EnterpriseOut(Schema):
    uscc: str
    name: str
    town: str
    industry_code: str | None
    industry_name: str | None
    size_class: str
    status: str
    established_on: dt.date | None
    address: str


class EnterprisePageOut(Schema):
    count: int
    page: int
    page_size: int
    num_pages: int
    items: list[EnterpriseOut]


class PersonRoleOut(Schema):
    name: str
    role: str
    role_label: str
    share_pct: Decimal | None
    #: Always masked here; the full number is only shown through the audited reveal action.
    id_number_masked: str


class HoldingOut(Schema):
    uscc: str
    name: str
    share_pct: Decimal


class IndicatorOut(Schema):
    month: dt.date
    industrial_output: Decimal | None
    revenue: Decimal | None
    value_added: Decimal | None
    tax_paid: Decimal | None
    employees: int | None
    electricity_kwh: Decimal | None
    energy_tce: Decimal | None
    rnd_spend: Decimal | None
    land_mu: Decimal | None


class EnterpriseDetailOut(EnterpriseOut):
    phone: str
    email: str
    persons: list[PersonRoleOut]
    holdings: list[HoldingOut]
    held_by: list[HoldingOut]
    indicators: list[IndicatorOut]


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, str]
