from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutagesConfig(AppConfig):
    name = "outages"
    verbose_name = _("Outages")

    def ready(self):
        # Modules that register periodic jobs with outages.scheduler.
        from . import checks, credits, live, ops_jobs, tasks  # noqa: F401
