"""Staff and enterprise pages of the registry. Views parse input, call one selector or service and
render; domain errors become the shared error page with their Chinese message (core.middleware;
404 for anything the user may not see, so the page never confirms that an enterprise exists)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qijia.core.errors import DomainError
from qijia.identity.permissions import allowed, require, signed_in_user
from qijia.identity.roles import Role

from . import selectors
from .exports import enterprise_export_xlsx
from .forms import EnterpriseFilterForm, EnterpriseForm, ImportForm
from .imports import import_receive, read_upload
from .imports.kinds import KINDS
from .imports.report import template_xlsx
from .models import ImportKind
from .services import enterprise_create, enterprise_update, person_reveal_id_number
from .tasks import process_import
from .validation import INDICATOR_MEASURES

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filter_form(request: HttpRequest) -> EnterpriseFilterForm:
    return EnterpriseFilterForm(
        request.GET or None, town_fixed=signed_in_user(request).role == Role.TOWN
    )


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


@login_required
@require_GET
def enterprise_list(request: HttpRequest) -> HttpResponse:
    """Search by part of the name or USCC, filter by town, industry, size and status."""
    if signed_in_user(request).role == Role.ENTERPRISE:
        return redirect("enterprises:own")
    require(request.user, "enterprises.search")
    form = _filter_form(request)
    filters = form.filters()
    qs = selectors.enterprise_list(actor=request.user, filters=filters)
    page = selectors.paginate(qs, page=_page_number(request))
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    context = {
        "form": form,
        "page": page,
        "query": urlencode(query),
        "can_export": allowed(request.user, "enterprises.export"),
        "can_change": allowed(request.user, "enterprises.change_enterprise"),
        "can_lookup_person": allowed(request.user, "enterprises.reveal_id_number"),
        "filters": filters,
    }
    template = (
        "enterprises/_results.html" if getattr(request, "htmx", False) else "enterprises/list.html"
    )
    return render(request, template, context)


def _chart_data(indicators: list[Any]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        return float(value) if isinstance(value, Decimal) else value

    return {
        "months": [i.month.strftime("%Y-%m") for i in indicators],
        "series": [
            {
                "key": c.key,
                "label": str(c.label),
                "values": [plain(getattr(i, c.key)) for i in indicators],
            }
            for c in INDICATOR_MEASURES
        ],
    }


def _detail_context(request: HttpRequest, uscc: str) -> dict[str, Any]:
    detail = selectors.enterprise_detail(actor=request.user, uscc=uscc)
    return {
        "d": detail,
        "e": detail.enterprise,
        "chart": _chart_data(detail.indicators),
        "recent": list(reversed(detail.indicators[-12:])),
        "measures": INDICATOR_MEASURES,
    }


@login_required
@require_GET
def enterprise_detail(request: HttpRequest, uscc: str) -> HttpResponse:
    return render(request, "enterprises/detail.html", _detail_context(request, uscc))


def _save_enterprise(request: HttpRequest, enterprise: Any = None) -> HttpResponse:
    require(request.user, "enterprises.change_enterprise")
    editing = enterprise is not None
    initial = EnterpriseForm.initial_for(enterprise) if editing else {"status": "active"}
    form = EnterpriseForm(request.POST or None, initial=initial, editing=editing)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            if editing:
                data.pop("uscc")
                saved = enterprise_update(actor=request.user, enterprise=enterprise, data=data)
            else:
                saved = enterprise_create(actor=request.user, data=data)
        except DomainError as exc:
            for field_name, message in exc.fields.items():
                form.add_error(field_name if field_name in form.fields else None, message)
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("企业信息已保存"))
            return redirect("enterprises:detail", uscc=saved.uscc)
    return render(
        request,
        "enterprises/edit.html",
        {"form": form, "enterprise": enterprise},
        status=400 if form.errors else 200,
    )


@login_required
def enterprise_new(request: HttpRequest) -> HttpResponse:
    return _save_enterprise(request)


@login_required
def enterprise_edit(request: HttpRequest, uscc: str) -> HttpResponse:
    return _save_enterprise(request, selectors.enterprise_get(actor=request.user, uscc=uscc))


@login_required
@require_GET
def own_enterprise(request: HttpRequest) -> HttpResponse:
    """本企业: the enterprise user's own record, laid out for a phone."""
    enterprise = signed_in_user(request).enterprise
    if enterprise is None:
        raise Http404(_("您的账号没有绑定企业"))
    context = _detail_context(request, enterprise.uscc)
    return render(request, "enterprises/own.html", context)


@login_required
@require_POST
@never_cache
def reveal_id_number(request: HttpRequest, role_pk: int) -> HttpResponse:
    """Show one person's full identity number (audited); returns a fragment for htmx."""
    role = selectors.person_role_get(actor=request.user, pk=role_pk)
    number = person_reveal_id_number(actor=request.user, person=role.person)
    response = render(request, "enterprises/_id_number.html", {"number": number})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def enterprise_export(request: HttpRequest) -> HttpResponseBase:
    form = _filter_form(request)
    output, _count = enterprise_export_xlsx(actor=request.user, filters=form.filters())
    return FileResponse(
        output, as_attachment=True, filename="企业名录.xlsx", content_type=XLSX_TYPE
    )


#: Room for the multipart envelope around the file when comparing the declared request size.
MULTIPART_SLACK = 64 * 1024


@login_required
@csrf_exempt  # CSRF is checked by the inner view, after the size check (see below)
def import_page(request: HttpRequest) -> HttpResponseBase:
    """The upload page. A request whose declared size is over the bound is refused before its
    body is read (CsrfViewMiddleware would otherwise parse, and spool to disk, the whole upload
    just to find the token); everything else goes through the CSRF-protected view."""
    from django.conf import settings

    if request.method == "POST":
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > settings.QIJIA_MAX_UPLOAD_BYTES + MULTIPART_SLACK:
            require(request.user, "enterprises.import")
            error = _("文件超过大小上限（%(mb)s MB），请拆分后分批导入") % {"mb": _max_mb()}
            return _render_import(request, ImportForm(), status=413, error=error)
    return _import_page(request)


@csrf_protect
def _import_page(request: HttpRequest) -> HttpResponse:
    require(request.user, "enterprises.import")
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            upload = read_upload(uploaded, name=uploaded.name, size=uploaded.size)
            batch = import_receive(
                actor=request.user, kind=form.cleaned_data["kind"], upload=upload
            )
        except DomainError as exc:
            form.add_error("file" if "file" in exc.fields else None, exc.message)
        else:
            # A worker checks and applies it when Celery has one; in-process (eager) otherwise.
            process_import.delay(batch.pk)
            return redirect("enterprises:import_batch", pk=batch.pk)
    return _render_import(request, form, status=400 if form.errors else 200)


def _render_import(
    request: HttpRequest, form: ImportForm, *, status: int, error: str = ""
) -> HttpResponse:
    return render(
        request,
        "enterprises/import.html",
        {
            "form": form,
            "error": error,
            "batches": selectors.import_batch_list(actor=request.user),
            "kinds": ImportKind.choices,
            "max_mb": _max_mb(),
        },
        status=status,
    )


def _max_mb() -> int:
    from django.conf import settings

    return settings.QIJIA_MAX_UPLOAD_BYTES // (1024 * 1024)


@login_required
@require_GET
def import_batch(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.import_batch_get(actor=request.user, pk=pk)
    template = (
        "enterprises/_import_result.html"
        if getattr(request, "htmx", False)
        else "enterprises/import_batch.html"
    )
    return render(request, template, {"batch": batch})


@login_required
@require_GET
def import_report(request: HttpRequest, pk: int) -> HttpResponseBase:
    batch = selectors.import_batch_get(actor=request.user, pk=pk)
    if not batch.error_report:
        raise Http404(_("该批次没有错误报告"))
    return FileResponse(
        batch.error_report.open("rb"),
        as_attachment=True,
        filename=f"错误报告-{batch.pk}.xlsx",
        content_type=XLSX_TYPE,
    )


@login_required
@require_GET
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    require(request.user, "enterprises.import")
    spec = KINDS.get(kind)
    if spec is None:
        raise Http404
    data = template_xlsx(spec.sheet_names[0], spec.columns)
    response = HttpResponse(data, content_type=XLSX_TYPE)
    response["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''{json.dumps(kind)[1:-1]}-template.xlsx"
    )
    return response


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def person_lookup(request: HttpRequest) -> HttpResponse:
    """Who is this person across enterprises? By full identity number; audited. The number is
    POSTed, never put in a URL (where logs, history and the Referer header would keep it)."""
    require(request.user, "enterprises.reveal_id_number")
    number = (request.POST.get("id_number") or "").strip() if request.method == "POST" else ""
    result, error = None, ""
    if number:
        try:
            result = selectors.person_lookup(actor=request.user, id_number=number)
        except DomainError as exc:
            if exc.status != 422:
                raise
            error = exc.message
    return render(
        request,
        "enterprises/person_lookup.html",
        {"searched": bool(number) and not error, "result": result, "error": error},
        status=422 if error else 200,
    )


def list_url_with(**params: Any) -> str:
    return reverse("enterprises:list") + ("?" + urlencode(params) if params else "")
