from django.apps import AppConfig


class EnterprisesConfig(AppConfig):
    name = "qijia.enterprises"
    label = "enterprises"
