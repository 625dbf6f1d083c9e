"""Where background tasks queued by an earlier release still find their code.

django-tasks-db stores each queued task by its import path; tasks queued
before the notify wing existed name "outages.tasks.deliver_event" and
"outages.tasks.send_confirmation", so those paths keep resolving to the
same task objects. New tasks are stored under outages.notify.
"""

from .notify.confirm import send_confirmation
from .notify.engine import deliver_event

__all__ = ["deliver_event", "send_confirmation"]
