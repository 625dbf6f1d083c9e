"""Admin pages whose saves change what the public pages show without an
incident changing (areas, regions, services, team contacts, credit policies,
report thresholds): every add, change and delete the admin logs also marks
the public data changed, so the cached pages and responses render afresh
(outages/pagecache.py) and open pages get the banner again."""

from .. import events


class PublicDataAdmin:
    """Mix into a ModelAdmin. Hooks the admin's own log calls, which every
    save (form, list_editable), delete and bulk delete makes."""

    def log_addition(self, request, obj, message):
        events.public_data_changed()
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        events.public_data_changed()
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        events.public_data_changed()
        return super().log_deletions(request, queryset)
