from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "qijia.identity"
    label = "identity"
