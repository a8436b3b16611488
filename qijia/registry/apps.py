from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "qijia.registry"
    label = "registry"

    def ready(self) -> None:
        from django.apps import apps

        from qijia.core.home import register_panel

        from . import panels, permissions  # noqa: F401  (permissions registers the rules)

        register_panel(
            roles={"partner", "officer", "approver", "inspector"},
            template="registry/panels/department.html",
            context=panels.department_panel,
            order=40,
        )
        register_panel(
            roles={"enterprise"},
            template="registry/panels/enterprise.html",
            context=panels.enterprise_panel,
            order=40,
        )

        if apps.is_installed("qijia.demo"):
            from qijia.demo.steps import register_step

            from .demo import seed_registry_demo

            register_step("registry.demo", seed_registry_demo, order=200)
