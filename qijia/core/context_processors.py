"""Navigation by role: each role sees the entries for its work, nothing it cannot open."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from qijia.identity import permissions

#: (url name, label, permission needed or None). Entries whose URL is not installed are skipped,
#: so a context adds its entry here and it appears when its app is in INSTALLED_APPS.
NAV = [
    ("core:home", _("首页"), None),
    ("enterprises:own", _("本企业"), "nav.enterprise_self"),
    ("enterprises:list", _("企业库"), "enterprises.search"),
    ("enterprises:import", _("数据导入"), "enterprises.import"),
    ("audit:list", _("审计记录"), "audit.view"),
]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for name, label, perm in NAV:
        if perm == "nav.enterprise_self":
            if not user.enterprise_id:
                continue
        elif perm and not permissions.allowed(user, perm):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        active = request.path == url if name == "core:home" else request.path.startswith(url)
        items.append({"url": url, "label": label, "active": active})
    return {"nav_items": items}
