from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "qijia.registry"
    label = "registry"

    def ready(self) -> None:
        from . import permissions  # noqa: F401  (registers the rules)
