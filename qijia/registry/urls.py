from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("", views.entry_list, name="list"),
    path("department/", views.department, name="department"),
    path("new/", views.entry_create, name="create"),
    path("upload/", views.upload, name="upload"),
    path("tokens/", views.tokens, name="tokens"),
    path("own/", views.own, name="own"),
    path("expiring/", views.expiring, name="expiring"),
    path("objections/", views.objections, name="objections"),
    path("queries/", views.queries, name="queries"),
    path("entries/<int:pk>/", views.entry_detail, name="entry"),
    path("entries/<int:pk>/edit/", views.entry_amend, name="amend"),
    path("entries/<int:pk>/revoke/", views.entry_revoke, name="revoke"),
    path("entries/<int:pk>/evidence/", views.entry_evidence, name="evidence_upload"),
    path("entries/<int:pk>/objections/", views.objection_lodge, name="object"),
    path(
        "entries/<int:pk>/objections/<int:objection_id>/answer/",
        views.objection_answer,
        name="answer",
    ),
    path("evidence/<int:evidence_id>/", views.evidence_download, name="evidence"),
]
