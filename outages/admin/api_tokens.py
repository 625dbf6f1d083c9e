"""API tokens for the management API: the secret shows once; only its hash is kept."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _

from ..models import ApiToken
from ..services import api_tokens


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens for the management API: the secret shows once, on the page after
    Save; only its hash is kept. Revoke with the action; a revoked token stays
    listed (who had what, and when it was last used)."""

    list_display = ["name", "prefix_shown", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    actions = ["revoke_selected"]

    def get_queryset(self, request):
        # A user sees (and can revoke) only their own tokens; a superuser sees all.
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(user=request.user)

    def get_fields(self, request, obj=None):
        return (
            ["name", "user"]
            if obj is None
            else ["name", "user", "prefix_shown", "created_at", "last_used_at", "revoked_at"]
        )

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["user", "prefix_shown", "created_at", "last_used_at", "revoked_at"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A token can do what its user can: only a superuser may make one for someone else.
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = get_user_model().objects.filter(pk=request.user.pk)
            kwargs["initial"] = request.user.pk
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("token"))
    def prefix_shown(self, obj):
        return f"sp_{obj.prefix}_…"

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        request._new_api_token = api_tokens.new_secret(obj)
        obj.save()

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("API token created"),
            "token": obj,
            "raw_token": request._new_api_token,
        }
        response = TemplateResponse(request, "admin/outages/apitoken/created.html", context)
        add_never_cache_headers(response)
        return response

    @admin.action(description=_("Revoke selected tokens"))
    def revoke_selected(self, request, queryset):
        revoked = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, _("%(count)d token(s) revoked.") % {"count": revoked}, messages.SUCCESS)
