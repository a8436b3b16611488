from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo city: ``qijia seed`` and ``manage.py demo_accounts``.

    Other contexts add their own demo data by calling ``qijia.demo.steps.register_step`` from their
    own ``AppConfig.ready()``; this app registers the foundation steps (org units, the registry)."""

    name = "qijia.demo"
    label = "demo"
    verbose_name = "Demo city"

    def ready(self) -> None:
        from . import city  # noqa: F401  (registers the foundation seed steps)
