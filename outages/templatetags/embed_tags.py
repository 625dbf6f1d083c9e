"""The "Embed this" snippet an area page offers to copy."""

from html import escape

from django import template
from django.conf import settings
from django.urls import reverse

register = template.Library()

# Plain strings of HTML *code*: the template shows them autoescaped in a
# <textarea>, so what the reader copies is exactly this text.


@register.simple_tag
def embed_script_code(area) -> str:
    """The one-line embed: a div for the area and the loader script (auto-height)."""
    src = settings.SITE_URL + reverse("embed-js")
    return f'<div data-area="{escape(area.slug)}"></div>\n<script src="{escape(src)}" async></script>'


# Without the script nothing can resize the frame, so the snippet shows the
# compact widget (status and ETA on top, cause, incident titles, the credit
# in two lines) in a frame tall enough for it with two incidents at 280 px.
FRAME_HEIGHT = 240


@register.simple_tag
def embed_frame_code(area) -> str:
    """The same widget as a plain iframe, for sites that allow no scripts on their pages."""
    src = settings.SITE_URL + reverse("embed-area", args=[area.slug]) + "?compact=1"
    return (
        f'<iframe src="{escape(src)}" title="{escape(area.localized_name)}" width="100%" height="{FRAME_HEIGHT}" '
        'style="border:0"></iframe>'
    )
