from django.urls import path

from . import views

app_name = "applications"
urlpatterns = [
    path("", views.application_index, name="list"),
    path("queue/", views.queue, name="queue"),
    path("new/<int:call_id>/", views.create, name="create"),
    path("<int:application_id>/", views.detail, name="detail"),
    path("<int:application_id>/act/<slug:action>/", views.act, name="act"),
    path("<int:application_id>/upload/", views.upload, name="upload"),
    path("<int:application_id>/invoice/", views.invoice, name="invoice"),
    path("<int:application_id>/score/", views.score, name="score"),
    path("<int:application_id>/rescreen/", views.rescreen, name="rescreen"),
    path("<int:application_id>/objection/", views.objection, name="objection"),
    path(
        "<int:application_id>/objection/<int:objection_id>/answer/",
        views.objection_answer,
        name="objection_answer",
    ),
    path("<int:application_id>/findings/<int:finding_id>/dispose/", views.dispose, name="dispose"),
    path("files/<int:evidence_id>/", views.evidence_file, name="file"),
    path("rechecks/", views.rechecks, name="rechecks"),
    path("notice/", views.notice, name="notice"),
    path("<int:application_id>/clawback/", views.clawback_receipt, name="clawback_receipt"),
]
