from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutagesConfig(AppConfig):
    name = "outages"
    verbose_name = _("Outages")

    def ready(self):
        # Imported once the app registry is ready: system checks register on
        # import, and the layers above the write side receive its events.
        from . import checks, events  # noqa: F401
        from .live.publish import publish_change
        from .notify.chat.replies import enqueue_reply
        from .notify.confirm import enqueue_confirmation
        from .notify.contact import enqueue_contact_notice
        from .notify.engine import enqueue

        events.connect(
            events.Receivers(
                publish=publish_change,
                deliver=enqueue,
                confirm=enqueue_confirmation,
                contact_notice=enqueue_contact_notice,
                reply=enqueue_reply,
            )
        )
