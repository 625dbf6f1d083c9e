from django.contrib import admin
from django.urls import include, path

admin.site.site_header = admin.site.site_title = "Status page · ops console"
admin.site.index_title = "Incidents and areas"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("outages.urls")),
]
