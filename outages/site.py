"""Site-wide facts: its name in templates and absolute URLs for links that
leave the page (feeds, messages, API shortlinks)."""

from django.conf import settings
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_noop

from .models import message_in_language

DEFAULT_SITE_NAME = gettext_noop("Service status")


def site_name(language: str | None = None) -> str:
    """The site's name in the active language (or `language`): SITE_NAME_<CODE>
    where set, the catalogue's words while the name is the default, else SITE_NAME."""
    given = message_in_language("", settings.SITE_NAME_TRANSLATIONS, language)
    if given:
        return given
    if settings.SITE_NAME == DEFAULT_SITE_NAME:
        return gettext(DEFAULT_SITE_NAME)
    return settings.SITE_NAME


# Lazy for templates: a live fragment rendered in every language reads it in each.
site_name_lazy = lazy(site_name, str)


def site(request):
    """Template context processor. now: when the page's data was read
    ("Last updated" in the live indicator). lang_query / lang_amp: the page's
    ?lang= to keep in its links ("" when the language came from elsewhere), and
    lang_link the code alone (a GET form's hidden field);
    language_alternates: this page in every language, for hreflang."""
    code = getattr(request, "link_language", None)
    query = request.GET.copy()
    query.pop("lang", None)
    path = request.path
    alternates = []
    for language, _name in settings.LANGUAGES:
        query["lang"] = language
        alternates.append((language, absolute(f"{path}?{query.urlencode()}")))
    query.pop("lang", None)
    return {
        "site_name": site_name_lazy(),
        "now": timezone.now(),
        "lang_link": code or "",
        "lang_query": f"?lang={code}" if code else "",
        "lang_amp": f"&lang={code}" if code else "",
        "language_alternates": alternates,
        "language_default_url": absolute(f"{path}?{query.urlencode()}" if query else path),
        "path_without_language": f"{path}?{query.urlencode()}" if query else path,
    }


def absolute(path: str) -> str:
    return settings.SITE_URL + path
