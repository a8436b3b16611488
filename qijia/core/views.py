from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from qijia.core.errors import DomainError
from qijia.core.home import home_context


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on its own home: the work that waits for it."""
    return render(request, "core/home.html", home_context(request.user))


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def render_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return render(
        request,
        "core/error.html",
        {"status": exc.status, "message": exc.message},
        status=exc.status,
    )


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = getattr(exception, "message", "") or "您没有访问该页面的权限。"
    return render(request, "core/error.html", {"status": 403, "message": message}, status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(
        request,
        "core/error.html",
        {"status": 404, "message": "页面不存在或您无权访问。"},
        status=404,
    )


def error_500(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/error.html",
        {"status": 500, "message": "服务器出现错误，已记录。请稍后重试。"},
        status=500,
    )
