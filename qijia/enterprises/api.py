"""/api/v1/enterprises: search the registry and read one enterprise, scoped like the UI (an
enterprise outside the caller's scope is a 404, never a 403)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from . import selectors
from .schemas import EnterpriseDetailOut, EnterprisePageOut, ErrorOut

router = Router(tags=["enterprises"])


class ListQuery(Schema):
    q: str = ""
    town: int | None = None
    industry: str = ""
    size_class: str = ""
    status: str = ""
    page: int = 1
    page_size: int = selectors.DEFAULT_PAGE_SIZE


def _out(e: Any) -> dict[str, Any]:
    return {
        "uscc": e.uscc,
        "name": e.name,
        "town": e.town.name,
        "industry_code": e.industry_id,
        "industry_name": e.industry.name if e.industry_id else None,
        "size_class": e.size_class,
        "status": e.status,
        "established_on": e.established_on,
        "address": e.address,
    }


@router.get(
    "/",
    response={200: EnterprisePageOut, 403: ErrorOut, 422: ErrorOut},
    summary="检索企业（按名称或信用代码的一部分，可按镇街、行业、规模、状态筛选）",
)
def list_enterprises(request: HttpRequest, query: Query[ListQuery]) -> dict[str, Any]:
    filters = selectors.EnterpriseFilters(
        q=query.q.strip(),
        town=query.town,
        industry=query.industry.strip().upper(),
        size_class=query.size_class,
        status=query.status,
    )
    qs = selectors.enterprise_list(actor=request.user, filters=filters)
    page = selectors.paginate(qs, page=query.page, page_size=query.page_size)
    return {
        "count": page.count,
        "page": page.number,
        "page_size": page.page_size,
        "num_pages": page.num_pages,
        "items": [_out(e) for e in page.items],
    }


@router.get(
    "/{uscc}",
    response={200: EnterpriseDetailOut, 404: ErrorOut},
    summary="按统一社会信用代码读取企业（人员身份证号码为掩码）",
)
def get_enterprise(request: HttpRequest, uscc: str) -> dict[str, Any]:
    d = selectors.enterprise_detail(actor=request.user, uscc=uscc)
    e = d.enterprise
    return {
        **_out(e),
        "phone": e.phone,
        "email": e.email,
        "persons": [
            {
                "name": r.person.name,
                "role": r.role,
                "role_label": str(r.get_role_display()),
                "share_pct": r.share_pct,
                "id_number_masked": r.person.id_number_masked,
            }
            for r in d.roles
        ],
        "holdings": [
            {"uscc": h.held.uscc, "name": h.held.name, "share_pct": h.share_pct} for h in d.holdings
        ],
        "held_by": [
            {"uscc": h.holder.uscc, "name": h.holder.name, "share_pct": h.share_pct}
            for h in d.held_by
        ],
        "indicators": [
            {
                "month": i.month,
                **{
                    k: getattr(i, k)
                    for k in (
                        "industrial_output",
                        "revenue",
                        "value_added",
                        "tax_paid",
                        "employees",
                        "electricity_kwh",
                        "energy_tce",
                        "rnd_spend",
                        "land_mu",
                    )
                },
            }
            for i in d.indicators
        ],
    }
