from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "qijia.applications"
    label = "applications"
    verbose_name = "资助申请"

    def ready(self) -> None:
        from . import permissions  # noqa: F401  (registers the rules)
