"""Registry pages for staff, partner departments, enterprises and inspectors. Thin: parse the
request, call one selector or service, render; DomainErrors from an action become messages on the
page, any other the error page (core.middleware)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qijia.core.errors import DomainError, PermissionDenied
from qijia.identity.models import OrgUnit
from qijia.identity.permissions import signed_in_user
from qijia.identity.roles import OrgKind

from . import selectors, services
from .models import Category, EntryStatus, ListKind, ObjectionStatus, TokenScope
from .permissions import allowed, require

PAGE_SIZE = 30


def _page(request: HttpRequest, rows: Any) -> Any:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _filters(request: HttpRequest, **fixed: str) -> selectors.EntryFilters:
    def get(name: str, length: int) -> str:
        value = request.GET.get(name, "")[:length]
        return "" if any(ord(c) < 32 for c in value) else value.strip()

    data = {
        "q": get("q", 100),
        "list": get("list", 20),
        "category": get("category", 40),
        "source": get("source", 64),
        "status": get("status", 10),
    }
    return selectors.EntryFilters(**(data | fixed))


def _filter_choices() -> dict[str, Any]:
    return {
        "lists": ListKind.choices,
        "categories": Category.objects.filter(is_active=True),
        "statuses": EntryStatus.choices,
        "sources": OrgUnit.objects.filter(registry_entries__isnull=False).distinct(),
    }


@login_required
def entry_list(request: HttpRequest) -> HttpResponse:
    """Staff search (search, filter by list, category, source, status)."""
    if not allowed(request.user, "registry.search"):
        if allowed(request.user, "registry.view_own"):
            return redirect("registry:own")
        require(request.user, "registry.search")
    filters = _filters(request)
    rows = selectors.entry_list(actor=request.user, filters=filters)
    return render(
        request,
        "registry/list.html",
        {
            "page": _page(request, rows),
            "filters": filters,
            "title": _("不予资助名单"),
            **_filter_choices(),
        },
    )


@login_required
def department(request: HttpRequest) -> HttpResponse:
    """A partner department's own entries."""
    require(request.user, "registry.department")
    org_unit = signed_in_user(request).org_unit
    assert org_unit is not None  # a partner always has one (user_staff_role_has_org_unit)
    filters = _filters(request, source=org_unit.code)
    rows = selectors.entry_list(actor=request.user, filters=filters)
    return render(
        request,
        "registry/list.html",
        {
            "page": _page(request, rows),
            "filters": filters,
            "department": True,
            "title": _("本部门列入的条目"),
            **_filter_choices(),
        },
    )


def _entry_context(request: HttpRequest, entry_id: int) -> dict[str, Any]:
    entry = selectors.entry_get(actor=request.user, entry_id=entry_id)
    objections = list(entry.objections.all())
    return {
        "entry": entry,
        "objections": objections,
        "can_change": allowed(request.user, "registry.change_entry", entry)
        and entry.revoked_at is None,
        "can_object": allowed(request.user, "registry.lodge_objection", entry)
        and entry.revoked_at is None
        and not any(o.status == ObjectionStatus.PENDING for o in objections),
        "answerable": {
            o.pk
            for o in objections
            if o.status == ObjectionStatus.PENDING
            and allowed(request.user, "registry.answer_objection", o)
        },
        "today": timezone.localdate(),
    }


@login_required
def entry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "registry/entry.html", _entry_context(request, pk))


def _entry_form_context(request: HttpRequest) -> dict[str, Any]:
    sources = None
    if signed_in_user(request).role != "partner":
        sources = OrgUnit.objects.filter(
            is_active=True, kind__in=[OrgKind.PARTNER, OrgKind.SECTION]
        )
    return {
        "lists": ListKind.choices,
        "categories": Category.objects.filter(is_active=True),
        "sources": sources,
    }


ENTRY_FIELDS = (
    "uscc",
    *services.AMENDABLE,
)  # the form: the code, then what an amendment may change


@login_required
def entry_create(request: HttpRequest) -> HttpResponse:
    require(request.user, "registry.create_entry")
    context = _entry_form_context(request)
    if request.method == "POST":
        data = {name: request.POST.get(name, "") for name in ENTRY_FIELDS}
        try:
            entry = services.entry_create(
                actor=request.user,
                uscc=data["uscc"],
                enterprise_name=data["enterprise_name"],
                list=data["list"],
                category=data["category"],
                reason=data["reason"],
                document_ref=data["document_ref"],
                valid_from=data["valid_from"],
                valid_to=data["valid_to"] or None,
                source=request.POST.get("source") or None,
                evidence=request.FILES.getlist("evidence"),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return render(
                request,
                "registry/entry_form.html",
                context | {"data": data, "errors": exc.fields},
                status=exc.status,
            )
        messages.success(request, _("已列入名单"))
        return redirect("registry:entry", pk=entry.pk)
    return render(request, "registry/entry_form.html", context | {"data": {}, "errors": {}})


@login_required
def entry_amend(request: HttpRequest, pk: int) -> HttpResponse:
    entry = selectors.entry_get(actor=request.user, entry_id=pk)
    require(request.user, "registry.change_entry", entry)
    context = _entry_form_context(request) | {"entry": entry, "amend": True}
    if request.method == "POST":
        data = {name: request.POST.get(name, "") for name in services.AMENDABLE}
        changes = data | {"valid_to": data["valid_to"] or None}
        try:
            services.entry_amend(
                actor=request.user,
                entry_id=pk,
                changes=changes,
                note=request.POST.get("note", ""),
                expected_version=int(request.POST.get("version") or entry.version),
            )
        except (DomainError, ValueError) as exc:
            message = getattr(exc, "message", _("输入有误"))
            messages.error(request, message)
            return render(
                request,
                "registry/entry_form.html",
                context | {"data": data, "errors": getattr(exc, "fields", {})},
                status=getattr(exc, "status", 422),
            )
        messages.success(request, _("条目已修改"))
        return redirect("registry:entry", pk=pk)
    data = {
        "enterprise_name": entry.enterprise_name,
        "list": entry.list,
        "category": entry.category_id,
        "reason": entry.reason,
        "document_ref": entry.document_ref,
        "valid_from": entry.valid_from.isoformat(),
        "valid_to": entry.valid_to.isoformat() if entry.valid_to else "",
    }
    return render(request, "registry/entry_form.html", context | {"data": data, "errors": {}})


def _post_action(request: HttpRequest, pk: int, action: Any, success: str) -> HttpResponse:
    try:
        action()
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect("registry:entry", pk=pk)


@login_required
@require_POST
def entry_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(
        request,
        pk,
        lambda: services.entry_revoke(
            actor=request.user, entry_id=pk, reason=request.POST.get("reason", "")
        ),
        _("条目已撤销"),
    )


@login_required
@require_POST
def entry_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(
        request,
        pk,
        lambda: services.entry_add_evidence(
            actor=request.user, entry_id=pk, files=request.FILES.getlist("evidence")
        ),
        _("证明材料已上传"),
    )


@login_required
@require_POST
def objection_lodge(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(
        request,
        pk,
        lambda: services.objection_lodge(
            actor=request.user,
            entry_id=pk,
            reason=request.POST.get("reason", ""),
            evidence=request.FILES.getlist("evidence"),
        ),
        _("申诉已提交，来源部门将在期限内答复"),
    )


@login_required
@require_POST
def objection_answer(request: HttpRequest, pk: int, objection_id: int) -> HttpResponse:
    decision = request.POST.get("decision")
    if decision not in ("upheld", "rejected"):
        messages.error(request, _("请选择答复结论"))
        return redirect("registry:entry", pk=pk)
    return _post_action(
        request,
        pk,
        lambda: services.objection_answer(
            actor=request.user,
            objection_id=objection_id,
            upheld=decision == "upheld",
            answer=request.POST.get("answer", ""),
        ),
        _("申诉已答复"),
    )


@login_required
def evidence_download(request: HttpRequest, evidence_id: int) -> FileResponse:
    evidence = selectors.evidence_get(actor=request.user, evidence_id=evidence_id)
    return FileResponse(
        evidence.file.open("rb"),
        content_type=evidence.content_type,
        filename=evidence.original_name,
    )


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    require(request.user, "registry.import")
    context: dict[str, Any] = {"errors": {}}
    if request.method == "POST":
        upload_file = request.FILES.get("file")
        if upload_file is None:
            messages.error(request, _("请选择CSV文件"))
        else:
            try:
                created = services.entries_import_csv(
                    actor=request.user,
                    content=upload_file.read(20 * 1024 * 1024 + 1),
                    filename=(upload_file.name or "")[:100],
                )
            except DomainError as exc:
                messages.error(request, exc.message)
                context["errors"] = exc.fields
            else:
                messages.success(request, _("已导入 %(n)d 条") % {"n": len(created)})
                return redirect(
                    "registry:department"
                    if signed_in_user(request).role == "partner"
                    else "registry:list"
                )
    return render(request, "registry/upload.html", context)


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """Create and revoke department tokens. A new token's text appears in this response only."""
    require(request.user, "registry.manage_tokens")
    context: dict[str, Any] = {"scopes": TokenScope.choices, "new_token": None}
    if signed_in_user(request).role == "admin":
        context["units"] = OrgUnit.objects.filter(is_active=True, kind=OrgKind.PARTNER)
    if request.method == "POST":
        try:
            if request.POST.get("revoke"):
                services.token_revoke(actor=request.user, token_id=int(request.POST["revoke"]))
                messages.success(request, _("令牌已吊销"))
                return redirect("registry:tokens")
            unit = request.POST.get("org_unit")
            token, text = services.token_create(
                actor=request.user,
                name=request.POST.get("name", ""),
                scope=request.POST.get("scope", ""),
                org_unit_id=int(unit) if unit and unit.isdigit() else None,
            )
            context["new_token"] = text
            context["new_token_row"] = token
        except DomainError as exc:
            messages.error(request, exc.message)
        except ValueError:
            messages.error(request, _("输入有误"))
    context["tokens"] = selectors.token_list(actor=request.user)
    return render(request, "registry/tokens.html", context)


@login_required
def own(request: HttpRequest) -> HttpResponse:
    """An enterprise's own listings and objections."""
    require(request.user, "registry.view_own")
    rows = selectors.entry_list(actor=request.user)
    objections = selectors.objection_list(actor=request.user)
    today = timezone.localdate()
    listed_now = [e for e in rows if e.applies_on(today)]
    return render(
        request,
        "registry/own.html",
        {"entries": rows, "objections": objections, "listed_now": listed_now},
    )


@login_required
def expiring(request: HttpRequest) -> HttpResponse:
    rows = selectors.expiring_list(actor=request.user, days=30)
    return render(request, "registry/expiring.html", {"page": _page(request, rows)})


@login_required
def objections(request: HttpRequest) -> HttpResponse:
    require(request.user, "registry.list_objections")
    overdue = request.GET.get("overdue") == "1"
    status = request.GET.get("status", "")
    status = status if status in ObjectionStatus.values else ""
    rows = selectors.objection_list(actor=request.user, overdue_only=overdue, status=status)
    return render(
        request,
        "registry/objections.html",
        {
            "page": _page(request, rows),
            "overdue": overdue,
            "status": status,
            "statuses": ObjectionStatus.choices,
            "today": timezone.localdate(),
        },
    )


@login_required
def queries(request: HttpRequest) -> HttpResponse:
    """Who queried whom (inspectors)."""
    uscc = request.GET.get("uscc", "")[:18]
    who = request.GET.get("who", "")[:50]
    if any(ord(c) < 32 for c in uscc + who):
        raise PermissionDenied(_("查询条件含有控制字符"))
    rows = selectors.query_log(actor=request.user, uscc=uscc, who=who)
    return render(
        request, "registry/queries.html", {"page": _page(request, rows), "uscc": uscc, "who": who}
    )
