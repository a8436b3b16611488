from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from .api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("django-admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("qijia.identity.urls")),
    path("audit/", include("qijia.audit.urls")),
    path("enterprises/", include("qijia.enterprises.urls")),
    path("registry/", include("qijia.registry.urls")),
    path("notifications/", include("qijia.notifications.urls")),
    path("programmes/", include("qijia.programmes.urls")),
    path("applications/", include("qijia.applications.urls")),
    path("", include("qijia.core.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler403 = "qijia.core.views.error_403"
handler404 = "qijia.core.views.error_404"
handler500 = "qijia.core.views.error_500"
