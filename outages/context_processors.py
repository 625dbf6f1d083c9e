from django.conf import settings
from django.utils import timezone


def site(request):
    # now: when the page's data was read ("Last updated" in the live indicator).
    return {"site_name": settings.SITE_NAME, "now": timezone.now()}
