"""Subscribing: the form, and the signed confirm / unsubscribe / manage links.

A plain GET never changes anything (mail scanners fetch links): each link
shows a page whose button POSTs. Confirm and unsubscribe are authorised by the
signed token alone and work without cookies (RFC 8058 one-click unsubscribe
POSTs straight to the List-Unsubscribe URL), so they are CSRF-exempt.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .. import client_address
from ..models import Channel, ServiceArea, Subscriber
from ..notify import links
from ..services import subscriptions


class AreaChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.localized_name} ({obj.region.localized_name})"


def _areas_field(**kwargs):
    return AreaChoiceField(
        label=_("Areas"),
        queryset=ServiceArea.objects.select_related("region"),
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one area.")},
        **kwargs,
    )


class SubscribeForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("How should we tell you?"),
        # Browser notifications subscribe from the page's button (views/push.py), not here.
        choices=[choice for choice in Channel.choices if choice[0] not in (Channel.PUSH, Channel.CHAT)],
        widget=forms.RadioSelect,
        initial=Channel.EMAIL,
    )
    # The right keyboard and autofill on a phone: email, tel and url inputs.
    email = forms.CharField(
        label=_("Email address"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone number"),
        required=False,
        max_length=32,
        help_text=_("With the country code, e.g. +36 30 123 4567."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    url = forms.CharField(
        label=_("Webhook URL"),
        required=False,
        max_length=500,
        help_text=_("For businesses and other systems: we POST signed JSON (Standard Webhooks) to this https URL."),
        widget=forms.URLInput(attrs={"autocomplete": "url", "inputmode": "url", "spellcheck": "false"}),
    )
    areas = _areas_field()
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    FIELD_FOR = {Channel.EMAIL: "email", Channel.SMS: "phone", Channel.WEBHOOK: "url"}

    def clean(self):
        data = super().clean()
        channel = data.get("channel")
        if channel not in self.FIELD_FOR:
            return data
        field = self.FIELD_FOR[channel]
        if not data.get(field):
            self.add_error(field, _("This field is required."))
            return data
        try:
            data["address"] = subscriptions.NORMALIZERS[channel](data[field])
        except ValidationError as error:
            self.add_error(field, error)
        return data


class ManageForm(forms.Form):
    areas = _areas_field()
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    paused = forms.BooleanField(label=_("Pause all alerts"), required=False)


def _client_ip(request: HttpRequest) -> str:
    # The network the limit counts: an IPv4 address or an IPv6 /64 (outages.client_address).
    return client_address.network_of_request(request)


def _limited(request: HttpRequest, message) -> HttpResponse:
    response = render(
        request, "outages/subscribe_result.html", {"heading": _("Too many requests"), "text": message}, status=429
    )
    response["Retry-After"] = str(subscriptions.RATE_WINDOW_SECONDS)
    return response


def _bad_link(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "outages/subscribe_result.html",
        {
            "heading": _("This link does not work"),
            "text": _("It is invalid, has expired, or the subscription was deleted."),
        },
        status=400,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        initial = {"language": get_language(), "areas": request.GET.getlist("area")}
        if request.GET.get("channel") in SubscribeForm.FIELD_FOR:
            initial["channel"] = request.GET["channel"]
        return render(request, "outages/subscribe.html", {"form": SubscribeForm(initial=initial)})
    try:
        subscriptions.limit_ip(_client_ip(request))
    except subscriptions.RateLimited as error:
        return _limited(request, str(error))
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        return render(request, "outages/subscribe.html", {"form": form}, status=400)
    data = form.cleaned_data
    try:
        outcome = subscriptions.subscribe(
            channel=data["channel"], address=data["address"], areas=data["areas"], language=data["language"]
        )
    except subscriptions.RateLimited as error:
        return _limited(request, str(error))
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
        return render(request, "outages/subscribe.html", {"form": form}, status=400)
    context = {"channel": data["channel"], "areas": data["areas"]}
    if outcome.secret:
        context.update(secret=outcome.secret, manage_url=links.link(outcome.subscriber, "manage"))
    response = render(request, "outages/subscribe_sent.html", context)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = links.read_token(token, "confirm")
    if subscriber is None:
        return _bad_link(request)
    if request.method != "POST":
        return render(
            request, "outages/subscribe_confirm.html", {"subscriber": subscriber, "areas": _names(subscriber)}
        )
    subscriptions.confirm(subscriber)
    return render(
        request,
        "outages/subscribe_result.html",
        {
            "heading": _("Subscription confirmed"),
            "text": _("You will hear from us when something happens in your areas."),
            "manage_url": links.link(subscriber, "manage"),
        },
    )


@never_cache
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = links.read_token(token, "unsubscribe")
    if request.method != "POST":
        if subscriber is None:
            return _bad_link(request)
        return render(request, "outages/subscribe_unsubscribe.html", {"areas": _names(subscriber)})
    # One-click (RFC 8058): a POST with List-Unsubscribe=One-Click, or the page's button.
    if subscriber is not None:
        subscriptions.delete(subscriber)
    elif not links.was_signed(token, "unsubscribe"):
        return _bad_link(request)
    return render(
        request,
        "outages/subscribe_result.html",
        {"heading": _("You are unsubscribed"), "text": _("We deleted your address and will send you nothing more.")},
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = links.read_token(token, "manage")
    if subscriber is None:
        return _bad_link(request)
    if request.method == "POST" and request.POST.get("action") == "delete":
        subscriptions.delete(subscriber)
        return render(
            request,
            "outages/subscribe_result.html",
            {"heading": _("Your data is deleted"), "text": _("We deleted your address and all your subscriptions.")},
        )
    initial = {
        "areas": list(subscriber.areas.values_list("slug", flat=True)),
        "language": subscriber.language,
        "paused": subscriber.paused,
    }
    form = ManageForm(request.POST if request.method == "POST" else None, initial=initial)
    saved = False
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            subscriptions.update(subscriber, areas=data["areas"], language=data["language"], paused=data["paused"])
            saved = True
        else:
            status = 400
    context = {"form": form, "subscriber": subscriber, "saved": saved, "address": _masked(subscriber)}
    return render(request, "outages/subscribe_manage.html", context, status=status)


def _names(subscriber: Subscriber) -> list[str]:
    return list(subscriber.areas.order_by("name").values_list("name", flat=True))


def _masked(subscriber: Subscriber) -> str:
    """Enough of the address to recognise it, not enough to learn it from a leaked link."""
    address = subscriber.address
    if subscriber.channel == Channel.EMAIL:
        local, _at, domain = address.partition("@")
        return f"{local[:1]}…@{domain}"
    if subscriber.channel == Channel.SMS:
        return f"…{address[-3:]}"
    return address.split("?")[0][:60]
