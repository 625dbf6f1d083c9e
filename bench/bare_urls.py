"""One bare Django view (bench/bare_settings.py)."""

from django.http import HttpResponse
from django.urls import path


def bare(request):
    return HttpResponse(b"ok", content_type="text/plain")


# The same, with a body the size of a page: what the bytes alone cost.
PAGE = b"x" * 25_000


def bare_page(request):
    return HttpResponse(PAGE, content_type="text/html; charset=utf-8")


urlpatterns = [path("bare", bare), path("bare-page", bare_page)]
