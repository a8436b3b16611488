from __future__ import annotations

from typing import Any

from django.apps import AppConfig


def _search_panel(user: Any) -> dict | None:
    from .selectors import enterprise_counts

    return {
        "counts": enterprise_counts(actor=user),
        "town": user.org_unit.name if user.role == "town" and user.org_unit_id else "",
        "show_towns": user.role != "town",
    }


def _own_panel(user: Any) -> dict | None:
    if not user.enterprise_id:
        return None
    from .models import Enterprise

    enterprise = Enterprise.objects.select_related("town", "industry").get(pk=user.enterprise_id)
    return {"enterprise": enterprise}


class EnterprisesConfig(AppConfig):
    name = "qijia.enterprises"
    label = "enterprises"

    def ready(self) -> None:
        from qijia.core.home import register_panel

        register_panel(
            roles={"officer", "approver", "admin", "inspector", "town"},
            template="enterprises/panels/search.html",
            context=_search_panel,
            order=10,
        )
        register_panel(
            roles={"enterprise"},
            template="enterprises/panels/own.html",
            context=_own_panel,
            order=10,
        )
