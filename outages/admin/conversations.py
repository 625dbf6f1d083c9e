"""The ops console for conversations: each provider's account (secrets entered
once, shown masked), each conversation's log (received, answered, followed,
delivery outcomes) and the counters of what leaves no other trace."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ..models import ChatChannelConfig, ChatCounter, Conversation, ConversationMessage
from ..notify.chat import config
from ..services import conversations
from .read_only import ReadOnlyAdmin

SECRET_FIELDS = ("token", "secret", "verify_token")


def masked(value: str) -> str:
    """Enough to recognise a secret, never enough to use it."""
    if not value:
        return "—"
    return "••••" + value[-4:] if len(value) > 8 else "••••"


class ChatChannelConfigForm(forms.ModelForm):
    class Meta:
        model = ChatChannelConfig
        fields = ["channel", "enabled", "account", "number", "token", "secret", "verify_token", "api_base"]
        widgets = {name: forms.PasswordInput(render_value=False) for name in SECRET_FIELDS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in SECRET_FIELDS:
            stored = getattr(self.instance, name, "") if self.instance.pk else ""
            if stored:
                self.fields[name].help_text = _("Stored: %(masked)s. Leave blank to keep it.") % {
                    "masked": masked(stored)
                }

    def clean(self):
        cleaned = super().clean()
        # A blank secret keeps the stored one: secrets are entered once, never shown again.
        for name in SECRET_FIELDS:
            if not cleaned.get(name) and self.instance.pk:
                cleaned[name] = getattr(self.instance, name)
        return cleaned


@admin.register(ChatChannelConfig)
class ChatChannelConfigAdmin(admin.ModelAdmin):
    form = ChatChannelConfigForm
    list_display = ["channel", "enabled", "account", "masked_token", "masked_secret", "api_base", "updated_at"]

    @admin.display(description=_("token"))
    def masked_token(self, obj):
        return masked(obj.token)

    @admin.display(description=_("webhook secret"))
    def masked_secret(self, obj):
        return masked(obj.secret)

    def save_model(self, request, obj, form, change):
        conversations.save_channel_config(obj)
        config.forget(obj.channel)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        config.forget(obj.channel)

    def delete_queryset(self, request, queryset):
        channels = list(queryset.values_list("channel", flat=True))
        super().delete_queryset(request, queryset)
        for channel in channels:
            config.forget(channel)


class MessageInline(admin.TabularInline):
    model = ConversationMessage
    fields = ["created_at", "direction", "intent", "outcome", "reply"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-created_at", "-id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """Read-only: a conversation changes only by what the customer writes. Deleting one
    erases the person (the log keeps channel and outcomes)."""

    list_display = ["__str__", "channel", "language", "last_area", "following_list", "stopped", "last_seen_at"]
    list_filter = ["channel", "language", "stopped"]
    search_fields = ["sender"]
    list_select_related = ["last_area"]
    fields = ["channel", "sender", "language", "last_area", "following_list", "stopped", "created_at", "last_seen_at"]
    readonly_fields = fields
    inlines = [MessageInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("following"))
    def following_list(self, obj):
        return ", ".join(area.name for area in obj.following) or "—"


@admin.register(ChatCounter)
class ChatCounterAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ["channel", "name", "count"]
    list_filter = ["channel"]
