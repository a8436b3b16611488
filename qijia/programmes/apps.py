from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    name = "qijia.programmes"
    label = "programmes"
    verbose_name = "专项资金"

    def ready(self) -> None:
        from . import permissions  # noqa: F401  (registers the rules)
