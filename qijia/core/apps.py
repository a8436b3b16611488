from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "qijia.core"
    label = "core"
