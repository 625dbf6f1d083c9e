"""Contact the local team: the callback / message form of an area and the
customer's own request page (signed link; it acts on POST only).

No CSRF token (the form sits next to cached pages): a POST from another site
is refused by its origin (views/origin.py). Abuse limits per client network
and per phone number or address answer 429 with Retry-After. The booking and
its promise are outages.services.contact_requests."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import client_address
from ..live import pagecache
from ..models import ContactKind, Service, ServiceArea, TeamContact, WaitCredit
from ..notify.links import contact_token, read_contact_token
from ..queries import callback_slots
from ..services import contact_requests, limits
from .origin import same_origin_post

WINDOW = 3600


def _limited(request, message) -> HttpResponse:
    response = render(request, "outages/contact_limited.html", {"text": message}, status=429)
    response["Retry-After"] = str(WINDOW)
    return response


def _parse_slot(raw: str):
    if not raw or raw == "asap":
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationError({"slot": _("Choose one of the times offered.")}) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _context(area, panel, now, data=None, errors=None, kind=ContactKind.CALLBACK):
    zone = zoneinfo.ZoneInfo(area.time_zone)
    service = Service.objects.filter(slug=(data or {}).get("service", "")).first()
    return {
        "area": area,
        "panel": panel,
        "kind": (data or {}).get("kind", kind),
        "services": Service.objects.all(),
        "slots": callback_slots.offered_slots(panel["contact"], zone, now) if panel else [],
        "incident": callback_slots.deflection(area, service),
        "data": data or {},
        "errors": errors or {},
    }


def _booking_facts(slug: str, service_slug: str):
    """(area, its team, the service, the incident said first) for a booking: a
    storm books for the same few areas, so these are read once per status version."""

    def read():
        area = ServiceArea.objects.select_related("region").filter(slug=slug).first()
        if area is None:
            return None
        service = Service.objects.filter(slug=service_slug).first() if service_slug else None
        if service_slug and service is None:
            return area, None, None, None
        return area, callback_slots.team_for_area(area), service, callback_slots.deflection(area, service)

    return pagecache.shared_while_unchanged(("contact", slug, service_slug), read)


@require_http_methods(["GET", "HEAD", "POST"])
@same_origin_post
def contact(request: HttpRequest, slug: str) -> HttpResponse:
    now = timezone.now()
    if request.method != "POST":
        area = get_object_or_404(ServiceArea.objects.select_related("region"), slug=slug)
        panel = callback_slots.contact_panel(area, now)
        status = 200 if panel else 404
        kind = ContactKind.MESSAGE if request.GET.get("kind") == ContactKind.MESSAGE else ContactKind.CALLBACK
        return render(request, "outages/contact.html", _context(area, panel, now, kind=kind), status=status)
    data = request.POST
    facts = _booking_facts(slug, data.get("service", ""))
    if facts is None:
        raise Http404
    area, team, service, incident = facts
    network = client_address.network_of_request(request)
    if limits.hit(f"contact:ip:{network}", WINDOW) > settings.CONTACT_LIMIT_PER_IP:
        return _limited(request, _("Too many requests from your network. Please try again in an hour."))
    try:
        if data.get("service") and service is None:
            raise ValidationError({"service": _("Choose one of the services listed.")})
        kind = data.get("kind", "")
        fields = contact_requests.clean_request(
            kind=kind,
            phone=data.get("phone", ""),
            email=data.get("email", ""),
            answer_channel=data.get("answer_channel", "sms"),
            reason=data.get("reason", ""),
        )
        address = fields["phone"] or fields["email"]
        if limits.hit(f"contact:to:{address}", WINDOW) > settings.CONTACT_LIMIT_PER_ADDRESS:
            return _limited(request, _("We already have several requests from this number or address today."))
        booked = contact_requests.book(
            area=area,
            kind=kind,
            service=service,
            slot_start=_parse_slot(data.get("slot", "")),
            language=translation.get_language() or settings.LANGUAGE_CODE,
            team=team,
            incident=incident,
            now=now,
            phone=data.get("phone", ""),
            email=data.get("email", ""),
            answer_channel=fields["answer_channel"],
            reason=data.get("reason", ""),
        )
    except ValidationError as error:
        errors = {field: messages[0] for field, messages in error.message_dict.items()}
        # The whole panel only for a page shown again: a booking itself reads just the team's settings.
        panel = callback_slots.contact_panel(area, now)
        status = 404 if panel is None else 400
        return render(request, "outages/contact.html", _context(area, panel, now, data, errors), status=status)
    url = reverse("contact-request", args=[contact_token(booked.request)])
    return redirect(f"{url}?moved=1" if booked.moved else url)


PHOTO_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


@require_http_methods(["GET", "HEAD"])
def team_photo(request: HttpRequest, name: str) -> HttpResponse:
    """A team's photo, as ops uploaded it. Only a photo some team uses, and only as an image type:
    an upload is never served as HTML or SVG."""
    path = f"team-photos/{name}"
    content_type = PHOTO_TYPES.get(Path(name).suffix.lower())
    if content_type is None or not TeamContact.objects.filter(photo=path).exists():
        raise Http404
    try:
        photo = default_storage.open(path)
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(photo, content_type=content_type)
    response["Cache-Control"] = "public, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@same_origin_post
def contact_request(request: HttpRequest, token: str) -> HttpResponse:
    found = read_contact_token(token)
    if found is None:
        return render(request, "outages/contact_request.html", {"bad_link": True}, status=404)
    now = timezone.now()
    errors = {}
    if request.method == "POST":
        try:
            if request.POST.get("action") == "cancel":
                found = contact_requests.cancel(found, now=now)
            elif request.POST.get("action") == "reschedule":
                slot = _parse_slot(request.POST.get("slot", ""))
                if slot is None:
                    raise ValidationError({"slot": _("Choose one of the times offered.")})
                found = contact_requests.reschedule(found, slot, now=now).request
            else:
                raise ValidationError({"action": _("Choose what to do.")})
            return redirect(reverse("contact-request", args=[token]))
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                errors = {field: messages[0] for field, messages in error.message_dict.items()}
            else:
                errors = {"action": error.messages[0]}
    late = found.lateness(now)
    credit = WaitCredit.objects.filter(request=found).first()
    context = {
        "req": found,
        "token": token,
        "moved": request.GET.get("moved") == "1",
        "late_minutes": int(late.total_seconds() // 60) if late else None,
        "promise": callback_slots.promise_sentence(found),
        "credit": callback_slots.credit_sentence(credit) if credit else None,
        "errors": errors,
        "tz": found.area.time_zone,
    }
    if request.headers.get("HX-Request") == "true" and request.method == "GET":
        # The page polls its state; once the request is closed nothing more changes, and 286 stops the poll.
        status = 200 if found.is_open else 286
        return render(request, "outages/contact_request.html#request-state", context, status=status)
    zone = zoneinfo.ZoneInfo(found.area.time_zone)
    contact = callback_slots.contact_for(found.team)
    context["slots"] = callback_slots.offered_slots(contact, zone, now) if contact and found.is_open else []
    return render(request, "outages/contact_request.html", context, status=400 if errors else 200)
