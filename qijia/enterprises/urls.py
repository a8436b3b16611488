from django.urls import path

from . import views

app_name = "enterprises"
urlpatterns = [
    path("", views.enterprise_list, name="list"),
    path("own/", views.own_enterprise, name="own"),
    path("export.xlsx", views.enterprise_export, name="export"),
    path("import/", views.import_page, name="import"),
    path("import/<int:pk>/", views.import_batch, name="import_batch"),
    path("import/<int:pk>/report.xlsx", views.import_report, name="import_report"),
    path("import/template/<slug:kind>.xlsx", views.import_template, name="import_template"),
    path("persons/", views.person_lookup, name="person_lookup"),
    path("persons/<int:role_pk>/reveal/", views.reveal_id_number, name="reveal_id_number"),
    path("new/", views.enterprise_new, name="new"),
    path("<str:uscc>/edit/", views.enterprise_edit, name="edit"),
    path("<str:uscc>/", views.enterprise_detail, name="detail"),
]
