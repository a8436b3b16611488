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

        from qijia.core.home import register_panel

        from .panels import enterprise_panel, staff_panel

        register_panel(
            roles={"enterprise"},
            template="applications/panels/mine.html",
            context=enterprise_panel,
            order=20,
        )
        register_panel(
            roles={"officer", "approver"},
            template="applications/panels/queue.html",
            context=staff_panel,
            order=15,
        )
