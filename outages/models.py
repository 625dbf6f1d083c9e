"""Data and invariants. Nothing here talks to the network; every write that
matters to customers goes through outages/services.py."""

import re
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, pgettext_lazy


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", _("Investigating")
    IDENTIFIED = "identified", _("Identified")
    MONITORING = "monitoring", _("Monitoring")
    RESOLVED = "resolved", _("Resolved")


class MaintenanceStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    IN_PROGRESS = "in_progress", _("In progress")
    VERIFYING = "verifying", _("Verifying")
    COMPLETED = "completed", _("Completed")


class Kind(models.TextChoices):
    INCIDENT = "incident", _("Incident")
    MAINTENANCE = "maintenance", _("Planned maintenance")


STATUSES_BY_KIND = {Kind.INCIDENT: IncidentStatus, Kind.MAINTENANCE: MaintenanceStatus}
# Statuses in which something is wrong (or being worked on) right now.
ACTIVE_STATUSES = [
    IncidentStatus.INVESTIGATING,
    IncidentStatus.IDENTIFIED,
    IncidentStatus.MONITORING,
    MaintenanceStatus.IN_PROGRESS,
    MaintenanceStatus.VERIFYING,
]
CLOSED_STATUSES = [IncidentStatus.RESOLVED, MaintenanceStatus.COMPLETED]
CLOSING_STATUS = {Kind.INCIDENT: IncidentStatus.RESOLVED, Kind.MAINTENANCE: MaintenanceStatus.COMPLETED}


class Impact(models.TextChoices):
    NONE = "none", pgettext_lazy("impact", "None")
    MINOR = "minor", _("Minor")
    MAJOR = "major", _("Major")
    CRITICAL = "critical", _("Critical")


class AreaStatus(models.TextChoices):
    OPERATIONAL = "operational", _("Operational")
    DEGRADED = "degraded_performance", _("Degraded performance")
    PARTIAL = "partial_outage", _("Partial outage")
    MAJOR = "major_outage", _("Major outage")
    MAINTENANCE = "under_maintenance", _("Under maintenance")


class Cause(models.TextChoices):
    UNKNOWN = "", _("Not yet known")
    CABLE_CUT = "cable_cut", _("Cable cut")
    STORM = "storm_damage", _("Storm damage")
    EQUIPMENT = "equipment_failure", _("Equipment failure")
    POWER = "power_failure", _("Power failure")
    PLANNED = "planned_work", _("Planned work")
    THIRD_PARTY = "third_party", _("Third-party fault")
    OTHER = "other", _("Other")


# Worst first is the order the page sorts by; the rank decides "worst over".
AREA_STATUS_RANK = {
    AreaStatus.OPERATIONAL: 0,
    AreaStatus.MAINTENANCE: 1,
    AreaStatus.DEGRADED: 2,
    AreaStatus.PARTIAL: 3,
    AreaStatus.MAJOR: 4,
}
IMPACT_TO_AREA_STATUS = {
    Impact.NONE: AreaStatus.OPERATIONAL,
    Impact.MINOR: AreaStatus.DEGRADED,
    Impact.MAJOR: AreaStatus.PARTIAL,
    Impact.CRITICAL: AreaStatus.MAJOR,
}



def area_status_for(kind: str, status: str, impact: str) -> str:
    """What one incident does to an area's status."""
    if status not in ACTIVE_STATUSES:
        return AreaStatus.OPERATIONAL
    if kind == Kind.MAINTENANCE:
        return AreaStatus.MAINTENANCE
    return IMPACT_TO_AREA_STATUS[impact]


_POSTCODE_SPLIT = re.compile(r"[,;\n]+")
_POSTCODE_CLEAN = re.compile(r"[^0-9A-Z]")


def normalize_postcode(raw: str) -> str:
    """Upper case, letters and digits only: "sw1a 1aa" and "SW1A1AA" match."""
    return _POSTCODE_CLEAN.sub("", raw.upper())


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Region(models.Model):
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent region"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name


class ServiceArea(models.Model):
    """A town, district or exchange: what a customer looks up by name or postcode."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="areas")
    # Stored as ",1051,1052," so one LIKE finds a whole code or the prefix of
    # one, on SQLite and PostgreSQL alike.
    postcodes = models.TextField(
        _("postcodes"), blank=True, help_text=_("Postcodes this area covers, separated by commas or new lines.")
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default=settings.TIME_ZONE, validators=[validate_timezone])
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["region__position", "region__name", "position", "name"]
        verbose_name = _("service area")
        verbose_name_plural = _("service areas")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.postcodes = self.pack_postcodes(self.postcodes)

    def save(self, *args, **kwargs):
        self.postcodes = self.pack_postcodes(self.postcodes)
        super().save(*args, **kwargs)

    @staticmethod
    def pack_postcodes(raw) -> str:
        items = raw if isinstance(raw, (list, tuple)) else _POSTCODE_SPLIT.split(raw or "")
        codes = sorted({normalize_postcode(item) for item in items if normalize_postcode(item)})
        return f",{','.join(codes)}," if codes else ""

    @property
    def postcode_list(self) -> list[str]:
        return [code for code in self.postcodes.split(",") if code]

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Service(models.Model):
    """Fiber internet, mobile, water, power...: rows, so ops can add one."""

    name = models.CharField(_("name"), max_length=80)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self) -> str:
        return self.name


class IncidentQuerySet(models.QuerySet):
    def active(self):
        """Happening now: open incidents and maintenance in progress."""
        return self.filter(status__in=ACTIVE_STATUSES)

    def resolved(self):
        """Over: resolved incidents and completed maintenance."""
        return self.filter(status__in=CLOSED_STATUSES)

    def upcoming_maintenance(self):
        return self.filter(kind=Kind.MAINTENANCE, status=MaintenanceStatus.SCHEDULED)


class Incident(models.Model):
    """An incident, or a planned maintenance window (kind): both have areas, a timeline and an ETA."""

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.INCIDENT)
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=IncidentStatus.choices + MaintenanceStatus.choices,
        default=IncidentStatus.INVESTIGATING,
    )
    impact = models.CharField(_("impact"), max_length=10, choices=Impact.choices, default=Impact.MAJOR)
    cause = models.CharField(_("cause"), max_length=30, choices=Cause.choices, blank=True, default=Cause.UNKNOWN)
    cause_detail = models.CharField(_("cause (details)"), max_length=200, blank=True)
    areas = models.ManyToManyField(
        ServiceArea, through="IncidentArea", verbose_name=_("affected areas"), related_name="incidents"
    )
    services = models.ManyToManyField(
        Service, verbose_name=_("affected services"), related_name="incidents", blank=True
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    # Planned maintenance only: the announced window.
    scheduled_for = models.DateTimeField(_("scheduled start"), null=True, blank=True)
    scheduled_until = models.DateTimeField(_("scheduled end"), null=True, blank=True)
    # Denormalised from the latest update by services.post_update, the one
    # place that keeps them in step.
    eta = models.DateTimeField(_("estimated restoration"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [
            models.Index(fields=["status", "-started_at"]),
            models.Index(fields=["-resolved_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(resolved_at__isnull=True) | models.Q(resolved_at__gte=models.F("started_at")),
                name="incident_resolved_not_before_start",
                violation_error_message=_("An incident cannot be resolved before it started."),
            ),
            models.CheckConstraint(
                condition=models.Q(scheduled_for__isnull=True)
                | models.Q(scheduled_until__isnull=True)
                | models.Q(scheduled_until__gt=models.F("scheduled_for")),
                name="maintenance_window_ends_after_start",
                violation_error_message=_("A maintenance window must end after it starts."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @property
    def is_maintenance(self) -> bool:
        return self.kind == Kind.MAINTENANCE

    @property
    def area_status(self) -> str:
        return area_status_for(self.kind, self.status, self.impact)

    @property
    def cause_text(self) -> str:
        """What the customer reads as the cause: the detail if given, else the choice."""
        if self.cause_detail:
            return self.cause_detail
        return self.get_cause_display() if self.cause else ""

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("incident", args=[self.pk])


class IncidentArea(models.Model):
    """An area's part in an incident; added_at matters when an incident grows."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="incident_areas")
    area = models.ForeignKey(ServiceArea, on_delete=models.PROTECT, related_name="incident_areas")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "area"], name="incident_area_once")]
        verbose_name = _("affected area")
        verbose_name_plural = _("affected areas")

    def __str__(self) -> str:
        return str(self.area)


class IncidentUpdate(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(_("status"), max_length=20, choices=IncidentStatus.choices + MaintenanceStatus.choices)
    message = models.TextField(_("message"), blank=True)
    eta = models.DateTimeField(_("estimated restoration"), null=True, blank=True)
    # The ETA in force before this update, kept so the timeline can say
    # "ETA moved from 14:00 to 16:30" without reading the previous row.
    previous_eta = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("posted"), default=timezone.now, db_index=True)
    # Internal: never rendered on a public page, feed or API.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = ["created_at", "id"]
        verbose_name = _("incident update")
        verbose_name_plural = _("incident updates")
        indexes = [models.Index(fields=["incident", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_status_display()} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def eta_changed(self) -> bool:
        return self.eta != self.previous_eta and self.status not in CLOSED_STATUSES


class LiveChange(models.Model):
    """The outbox of the live push: fragments rendered once per change.

    Server processes read it when the channel layer could not reach them
    (another process on the in-memory layer, or Redis briefly down)."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    fragments = models.JSONField()

    class Meta:
        ordering = ["id"]


# Subscriptions and notifications -------------------------------------------

class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WEBHOOK = "webhook", _("Webhook")


def _link_key() -> str:
    from django.utils.crypto import get_random_string

    return get_random_string(16)


class Subscriber(models.Model):
    """One address (email, phone number or webhook URL) and the areas it follows.

    Personal data: deleting the row deletes everything about the person (the
    delivery log keeps only the channel and the outcome)."""

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    # Email lower-cased, phone number in E.164, or the webhook URL.
    address = models.CharField(_("address"), max_length=500)
    language = models.CharField(_("language"), max_length=10, default=settings.LANGUAGE_CODE)
    areas = models.ManyToManyField(ServiceArea, verbose_name=_("areas"), related_name="subscribers", blank=True)
    # Webhooks: the Standard Webhooks signing secret ("whsec_..."), shown once.
    secret = models.CharField(_("signing secret"), max_length=80, blank=True, editable=False)
    # Part of every signed link: changing it revokes all links sent so far.
    link_key = models.CharField(max_length=16, default=_link_key, editable=False)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    paused = models.BooleanField(_("paused"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        constraints = [models.UniqueConstraint(fields=["channel", "address"], name="subscriber_address_once")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and not self.paused


class NotificationEvent(models.Model):
    """One incident update to tell subscribers about: created in the same
    transaction as the update, so a committed update is never forgotten."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        DONE = "done", _("Done")

    update = models.OneToOneField(IncidentUpdate, on_delete=models.CASCADE, related_name="notification")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notifications")
    area_ids = models.JSONField(default=list)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    # Deliveries are planned once (the subscribers at that moment), then only worked off.
    planned_at = models.DateTimeField(_("planned"), null=True, blank=True)
    # Last sign of life of a worker on this event; the sweeper re-enqueues a silent one.
    touched_at = models.DateTimeField(default=timezone.now, db_index=True)
    # When the next task for it is due: at most one is scheduled ahead.
    due_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification event")
        verbose_name_plural = _("notification events")

    def __str__(self) -> str:
        return f"{self.incident} · {self.update}"


class Delivery(models.Model):
    """The delivery log: one message to one subscriber for one event."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    event = models.ForeignKey(NotificationEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, null=True, on_delete=models.SET_NULL, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # What went wrong, for ops: never the address or the message text.
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["event", "subscriber", "channel"], name="delivery_once_per_event")
        ]
        indexes = [models.Index(fields=["event", "status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.get_status_display()}"
