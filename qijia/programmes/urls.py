from django.urls import path

from . import views

app_name = "programmes"
urlpatterns = [
    path("", views.calculator, name="calculator"),
    path("all/", views.programme_index, name="list"),
    path("<int:programme_id>/", views.programme_detail, name="detail"),
    path("new/", views.programme_new, name="new"),
    path("attachments/<int:attachment_id>/", views.attachment_file, name="attachment"),
    path("<int:programme_id>/manage/", views.programme_manage, name="manage"),
    path("funds/", views.funds, name="funds"),
    path("funds.xlsx", views.funds_xlsx, name="funds_xlsx"),
]
