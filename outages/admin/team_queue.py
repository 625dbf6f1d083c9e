"""The team queue: each team's open callbacks and messages by promised time,
refreshed every 5 seconds (htmx), and one request's page with its actions
(take, called / answered with the outcome, reschedule, cancel) and its log.

Rows follow the team (outages.permissions.contact_requests_for): a member sees
and acts on their teams' requests only, a superuser on all. Seeing needs the
view (or change) permission of contact requests, acting the change one. Every
action is a write-side call (outages.services.contact_requests)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import permissions
from ..models import ContactOutcome, ContactRequest, ContactState
from ..queries import callback_slots, team_queue
from ..services import contact_requests
from .read_only import ReadOnlyAdmin


@admin.register(ContactRequest)
class ContactRequestAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Read-only rows; the queue is the main view and every change is one of its actions
    (with outages.change_contactrequest); the form never changes a request."""

    list_display = ["__str__", "team", "area", "state", "promised_at"]
    readonly_fields = [
        "team",
        "kind",
        "area",
        "service",
        "incident",
        "phone",
        "email",
        "answer_channel",
        "reason",
        "promised_at",
        "state",
        "taken_by",
        "outcome",
        "answer",
        "done_at",
        "created_at",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        return permissions.contact_requests_for(request.user, super().get_queryset(request))

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return HttpResponseRedirect(reverse("admin:outages_contactrequest_queue"))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("queue/", view(self.queue_view), name="outages_contactrequest_queue"),
            # Not admin_view: a poll after the session ended must not swap the login page in.
            path("queue/fragment/", self.queue_fragment, name="outages_contactrequest_queue_fragment"),
            path(
                "queue/<int:pk>/",
                view(require_http_methods(["GET", "HEAD", "POST"])(self.request_view)),
                name="outages_contactrequest_handle",
            ),
        ] + super().get_urls()

    # The queue --------------------------------------------------------------

    def _may_view(self, request) -> bool:
        user = request.user
        return user.has_perm("outages.view_contactrequest") or user.has_perm("outages.change_contactrequest")

    def _queue_context(self, request) -> dict:
        if not self._may_view(request):
            raise PermissionDenied
        now = timezone.now()
        return {
            "queues": team_queue.team_queues(permissions.teams_for(request.user), now),
            "now": now,
            "can_act": request.user.has_perm("outages.change_contactrequest"),
        }

    def queue_view(self, request):
        context = {
            **self.admin_site.each_context(request),
            "title": _("Team queue"),
            "opts": self.model._meta,
            **self._queue_context(request),
        }
        return TemplateResponse(request, "admin/outages/contactrequest/queue.html", context)

    def queue_fragment(self, request):
        """What the queue page polls every 5 seconds (htmx)."""
        if not self.admin_site.has_permission(request):
            # 286 tells htmx to stop polling; the message replaces the queue.
            login = reverse("admin:login") + "?next=" + reverse("admin:outages_contactrequest_queue")
            return TemplateResponse(
                request, "admin/outages/contactrequest/queue.html#session-ended", {"login_url": login}, status=286
            )
        return TemplateResponse(request, "admin/outages/contactrequest/queue.html#queue", self._queue_context(request))

    # One request ------------------------------------------------------------

    def request_view(self, request, pk: int):
        if not self._may_view(request):
            raise PermissionDenied
        found = get_object_or_404(
            permissions.contact_requests_for(request.user).select_related("area", "team", "service", "taken_by"), pk=pk
        )
        errors: dict[str, str] = {}
        if request.method == "POST":
            if not request.user.has_perm("outages.change_contactrequest"):
                raise PermissionDenied
            try:
                done = self._act(request, found)
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    errors = {field: messages_[0] for field, messages_ in error.message_dict.items()}
                else:
                    errors = {"action": error.messages[0]}
            else:
                self.message_user(request, done, messages.SUCCESS)
                back = request.POST.get("next") == "queue"
                return HttpResponseRedirect(
                    reverse("admin:outages_contactrequest_queue")
                    if back
                    else reverse("admin:outages_contactrequest_handle", args=[found.pk])
                )
            found.refresh_from_db()
        zone = zoneinfo.ZoneInfo(found.area.time_zone)
        contact = callback_slots.contact_for(found.team)
        now = timezone.now()
        minutes_left = int((found.promised_at - now).total_seconds() // 60)
        context = {
            **self.admin_site.each_context(request),
            "title": str(found),
            "opts": self.model._meta,
            "req": found,
            "incident": callback_slots.deflection(found.area, found.service) if found.is_open else None,
            "minutes_left": max(0, minutes_left),
            "minutes_late": max(0, -minutes_left),
            "events": found.events.select_related("user"),
            "slots": callback_slots.offered_slots(contact, zone, now) if contact and found.is_open else [],
            "outcomes": ContactOutcome.choices,
            "can_act": request.user.has_perm("outages.change_contactrequest"),
            "errors": errors,
            "data": request.POST if errors else {},
            "tz": found.area.time_zone,
        }
        return TemplateResponse(
            request, "admin/outages/contactrequest/request.html", context, status=400 if errors else 200
        )

    def _act(self, request, found: ContactRequest) -> str:
        """Do the posted action through the write side; the success message, or ValidationError."""
        action = request.POST.get("action", "")
        user = request.user
        if action == "take":
            if contact_requests.take(found, user):
                return _("You took this request.")
            found.refresh_from_db()
            if found.taken_by_id and found.state == ContactState.TAKEN:
                holder = found.taken_by.get_full_name() or found.taken_by.get_username()
                raise ValidationError(_("Already taken by %(name)s.") % {"name": holder})
            raise ValidationError(_("This request is no longer waiting."))
        if action == "called":
            contact_requests.mark_called(found, user, request.POST.get("outcome", ""))
            return _("Marked as called.")
        if action == "answer":
            contact_requests.answer(found, user, request.POST.get("answer", ""))
            return _("Answer sent to the customer.")
        if action == "reschedule":
            contact_requests.reschedule(found, _parse_slot(request.POST.get("slot", "")), user=user)
            return _("New time booked; the customer is told.")
        if action == "cancel":
            contact_requests.cancel(found, user)
            return _("Request cancelled; the customer is told.")
        raise ValidationError({"action": _("Choose what to do.")})


def _parse_slot(raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationError({"slot": _("Choose one of the times offered.")}) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
