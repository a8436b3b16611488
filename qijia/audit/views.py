from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from qijia.audit.models import AuditEvent
from qijia.audit.verify import verify_chain
from qijia.identity.permissions import require

from .forms import AuditFilterForm
from .selectors import audit_event_get, audit_event_list


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    events = audit_event_list(actor=request.user, filters=form.filters())
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "audit/list.html", {"form": form, "page": page, "query": query.urlencode()}
    )


@login_required
def event_detail(request: HttpRequest, seq: int) -> HttpResponse:
    try:
        event = audit_event_get(actor=request.user, seq=seq)
    except AuditEvent.DoesNotExist:
        raise Http404 from None
    keys = sorted(
        set((event.before or {}) if isinstance(event.before, dict) else {})
        | set((event.after or {}) if isinstance(event.after, dict) else {})
    )
    changes = [
        {
            "field": k,
            "before": (event.before or {}).get(k) if isinstance(event.before, dict) else None,
            "after": (event.after or {}).get(k) if isinstance(event.after, dict) else None,
        }
        for k in keys
    ]
    for change in changes:
        change["changed"] = change["before"] != change["after"]
    return render(request, "audit/detail.html", {"event": event, "changes": changes})


@login_required
def chain_verify(request: HttpRequest) -> HttpResponse:
    require(request.user, "audit.view")
    return render(request, "audit/verify.html", {"result": verify_chain()})
