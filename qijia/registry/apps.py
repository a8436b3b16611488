from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "qijia.registry"
    label = "registry"

    def ready(self) -> None:
        from django.apps import apps

        from . import permissions  # noqa: F401  (registers the rules)

        if apps.is_installed("qijia.demo"):
            from qijia.demo.steps import register_step

            from .demo import seed_registry_demo

            register_step("registry.demo", seed_registry_demo, order=200)
