from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "teams"

    def ready(self):
        from . import auth  # noqa: F401 - connects the login audit receivers (see teams/auth.py for why)
