"""Role home pages are made of panels that each context contributes.

A context registers a panel in its AppConfig.ready():

    register_panel(roles={"officer"}, template="enterprises/panels/search.html", context=fn, order=10)

``fn(user)`` returns the panel's template context (or None to hide the panel), so the home view
never needs to know what contexts exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Panel:
    roles: frozenset[str]
    template: str
    context: Callable[[Any], dict | None]
    order: int


_PANELS: list[Panel] = []


def register_panel(
    *, roles: Iterable[str], template: str, context: Callable[[Any], dict | None], order: int = 50
) -> None:
    panel = Panel(frozenset(roles), template, context, order)
    if panel not in _PANELS:
        _PANELS.append(panel)
        _PANELS.sort(key=lambda p: p.order)


def home_context(user: Any) -> dict:
    panels = []
    for panel in _PANELS:
        if user.role in panel.roles:
            data = panel.context(user)
            if data is not None:
                panels.append({"template": panel.template, "data": data})
    return {"panels": panels}
