"""The ops console for subscriptions: subscribers and the delivery log per event."""

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ..models import Delivery, NotificationEvent, Subscriber
from ..notify import engine


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["__str__", "channel", "address", "language", "confirmed_at", "paused", "created_at"]
    list_filter = ["channel", ("confirmed_at", admin.EmptyFieldListFilter), "paused", "language"]
    search_fields = ["address"]
    autocomplete_fields = ["areas"]
    # The webhook secret and the link key never show: they are the subscriber's credentials.
    exclude = ["secret", "link_key"]
    readonly_fields = ["created_at", "updated_at"]


def _status_count(status):
    return Count("deliveries", filter=Q(deliveries__status=status))


@admin.register(NotificationEvent)
class NotificationEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "incident", "update_status", "state", "sent", "pending", "failed", "log"]
    list_filter = ["state", "incident__kind"]
    search_fields = ["incident__title"]
    list_select_related = ["incident", "update"]
    readonly_fields = [
        "incident",
        "update",
        "area_ids",
        "state",
        "planned_at",
        "touched_at",
        "due_at",
        "created_at",
        "finished_at",
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_sent=_status_count(Delivery.Status.SENT),
                n_pending=Count(
                    "deliveries", filter=Q(deliveries__status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING])
                ),
                n_failed=_status_count(Delivery.Status.FAILED),
            )
        )

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("status posted"))
    def update_status(self, obj):
        return obj.update.get_status_display()

    @admin.display(description=_("sent"), ordering="n_sent")
    def sent(self, obj):
        return obj.n_sent

    @admin.display(description=_("pending"), ordering="n_pending")
    def pending(self, obj):
        return obj.n_pending

    @admin.display(description=_("failed"), ordering="n_failed")
    def failed(self, obj):
        return obj.n_failed

    @admin.display(description=_("delivery log"))
    def log(self, obj):
        url = reverse("admin:outages_delivery_changelist") + f"?event__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("deliveries"))


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event", "channel", "status", "attempts", "next_attempt_at", "sent_at", "last_error"]
    list_filter = ["status", "channel", "event"]
    list_select_related = ["event__incident", "event__update"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["retry_now"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Retry the selected failed deliveries now"))
    def retry_now(self, request, queryset):
        now = timezone.now()
        events = set()
        retried = 0
        for delivery in queryset.filter(status=Delivery.Status.FAILED).exclude(subscriber=None):
            Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.FAILED).update(
                status=Delivery.Status.PENDING, next_attempt_at=now, attempts=0
            )
            events.add(delivery.event_id)
            retried += 1
        for event_id in events:
            NotificationEvent.objects.filter(pk=event_id).update(
                state=NotificationEvent.State.SENDING, finished_at=None
            )
            engine.enqueue(event_id)
        self.message_user(request, _("%(count)d deliveries queued again.") % {"count": retried}, messages.SUCCESS)
