"""The JSON API root: /api/v1/, OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs."""

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import django_auth

from qijia.core.errors import DomainError

api = NinjaAPI(
    title="Qijia 企家 API",
    version="1",
    urls_namespace="api",
    auth=django_auth,
    description="企家平台接口。错误统一返回 {code, message, fields}。",
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields = {}
    for err in exc.errors:
        loc = ".".join(str(p) for p in err.get("loc", [])[1:]) or "body"
        fields[loc] = err.get("msg", "无效")
    return api.create_response(
        request,
        {"code": "validation_failed", "message": "请求参数有误", "fields": fields},
        status=422,
    )


@api.exception_handler(AuthenticationError)
def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"code": "unauthenticated", "message": "未登录或凭证无效", "fields": {}},
        status=401,
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """Ninja's own 4xx (e.g. a body that is not JSON) in the same {code, message, fields} shape."""
    message = {400: "请求体无法解析，应为有效的 JSON 或表单数据", 429: "请求过于频繁，请稍后再试"}
    return api.create_response(
        request,
        {
            "code": "malformed_request",
            "message": message.get(exc.status_code, "请求无法处理"),
            "fields": {},
        },
        status=exc.status_code,
    )


api.add_router("/enterprises", "qijia.enterprises.api.router")
api.add_router("/applications", "qijia.applications.api.router")
api.add_router("/registry", "qijia.registry.api.router")
