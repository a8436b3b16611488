from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "qijia.notifications"
    label = "notifications"
