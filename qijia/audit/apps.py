from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "qijia.audit"
    label = "audit"
