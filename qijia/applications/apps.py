from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "qijia.applications"
    label = "applications"
    verbose_name = "资助申请"

    def ready(self) -> None:
        from qijia.demo.steps import register_step

        from . import permissions  # noqa: F401  (registers the rules)
        from .demo import seed_lifecycle

        register_step("applications.lifecycle", seed_lifecycle, order=400)
