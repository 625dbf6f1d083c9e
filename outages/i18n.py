"""Languages: which ones we offer, what a client asked for, and "in every language".

Pure helpers on settings.LANGUAGES and Django's translation machinery; no
models. The live push renders each fragment once per language with
in_every_language, and fixed texts of our own (an update the system posts)
are stored in every language the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header


def languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def other_languages() -> list[str]:
    """Every offered language but the default one (whose text is the plain field)."""
    return [code for code in languages() if code != settings.LANGUAGE_CODE]


def client_language(code: str | None) -> str:
    """A supported language code for what a client asked for; the default otherwise."""
    if code:
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            pass
    return settings.LANGUAGE_CODE


def accepted_language(header: str) -> str:
    """The first supported language of an Accept-Language header; the default otherwise."""
    for accepted, _quality in parse_accept_lang_header(header):
        if accepted == "*":
            break
        try:
            return translation.get_supported_language_variant(accepted)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def in_every_language[T](render: Callable[[], T], codes: list[str] | None = None) -> dict[str, T]:
    """{"en": render(), "hu": render(), "he": render()}: one call per language, each
    with that language active."""
    rendered = {}
    for code in languages() if codes is None else codes:
        with translation.override(code):
            rendered[code] = render()
    return rendered


def in_default_language(text) -> str:
    """Our own fixed text (a lazy translation) as an update's default message,
    whatever language the operator's request is in."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


def translations_of(text) -> dict[str, str]:
    """Our own fixed text (a lazy translation) in each non-default language, for an update's message."""
    return in_every_language(lambda: str(text), other_languages())


class LocalizedChoiceField(forms.ModelChoiceField):
    """A choice of rows (services, areas) labelled with their name in the active language."""

    def label_from_instance(self, obj):
        return obj.localized_name


# The language in the link -----------------------------------------------------

LANGUAGE_PARAMETER = "lang"


def link_language(request) -> str | None:
    """The supported language a link asked for with ?lang=, or None (an unknown
    code is left to the view: the widget and the voice line answer it with a 400)."""
    code = request.GET.get(LANGUAGE_PARAMETER, "").strip()
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


class LanguageParameterMiddleware:
    """?lang=hu opens any public page in Hungarian, over the cookie and the
    browser's Accept-Language: a link a utility sends a customer, or one shared,
    reads the same for everyone. After LocaleMiddleware; the console keeps its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        code = None if request.path.startswith("/admin/") else link_language(request)
        request.link_language = code
        if code is not None:
            translation.activate(code)
            request.LANGUAGE_CODE = code
        return self.get_response(request)


def isolate(text: str) -> str:
    """A value (a time, a number, a name, an address) wrapped in Unicode isolates
    (FSI ... PDI) when the active language is right-to-left: plain-text channels
    (SMS, e-mail text, the voice line's text) then keep "+36 1 555 0100" and
    "16:30" in their own order inside Hebrew. Left-to-right text is left as is."""
    if text and translation.get_language_bidi():
        return f"\u2068{text}\u2069"
    return text
