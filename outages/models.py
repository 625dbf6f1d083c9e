"""Data and invariants. Nothing here talks to the network; every write that
matters to customers goes through outages.services.

One module on purpose, though it is long: the models reference each other
(areas, incidents, their timeline, subscribers, deliveries, reports) and the
status rules that derive one from another read best next to the fields they
rule. Imports: outages.geo only (pure geometry).
"""

import base64
import re
import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import get_random_string
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .geo import bbox
from .search_terms import area_terms


def message_in_language(message: str, translations: dict | None, language: str | None = None) -> str:
    """An operator's text in `language` (default: the active one) where given, else the default text.

    The one place that picks a language for data: every customer-facing text
    field below goes through it (Translated.in_language)."""
    code = (language or translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return ((translations or {}).get(code) or "").strip() or message


def translations_field(verbose_name):
    """{"en": "...", "hu": "...", "he": "..."}: one JSON map per text field, on the
    row itself, so a page reads every language with no extra query and a language
    added to settings.LANGUAGES needs no migration."""
    return models.JSONField(verbose_name, default=dict, blank=True)


class Translated(models.Model):
    """A model whose customer-facing text fields each carry a `<field>_translations`
    map. The plain column stays the default language's text (search, ordering,
    the console); save() keeps the map's default slot in step with it."""

    translated_fields: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def in_language(self, field: str, language: str | None = None) -> str:
        return message_in_language(getattr(self, field) or "", getattr(self, f"{field}_translations"), language)

    def missing_languages(self) -> list[str]:
        """Languages (other than the default) in which a filled field has no text."""
        missing = []
        for code, _name in settings.LANGUAGES:
            if code == settings.LANGUAGE_CODE:
                continue
            for field in self.translated_fields:
                if getattr(self, field) and not (getattr(self, f"{field}_translations") or {}).get(code, "").strip():
                    missing.append(code)
                    break
        return missing

    def save(self, *args, **kwargs):
        deferred = self.get_deferred_fields()
        touched = []
        for field in self.translated_fields:
            if field in deferred or f"{field}_translations" in deferred:
                continue
            slots = {code: text for code, text in (getattr(self, f"{field}_translations") or {}).items() if text}
            slots[settings.LANGUAGE_CODE] = getattr(self, field) or ""
            setattr(self, f"{field}_translations", slots)
            touched.append(f"{field}_translations")
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and set(self.translated_fields) & set(update_fields):
            kwargs["update_fields"] = {*update_fields, *touched}
        super().save(*args, **kwargs)


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


# Every status has an icon as well as a colour and words: never colour alone.
STATUS_ICONS = {
    AreaStatus.OPERATIONAL: "✓",
    AreaStatus.DEGRADED: "◐",
    AreaStatus.PARTIAL: "▲",
    AreaStatus.MAJOR: "✕",
    AreaStatus.MAINTENANCE: "⚙",
}


class Cause(models.TextChoices):
    UNKNOWN = "", _("Not yet known")
    CABLE_CUT = "cable_cut", _("Cable cut")
    STORM = "storm_damage", _("Storm damage")
    EQUIPMENT = "equipment_failure", _("Equipment failure")
    POWER = "power_failure", _("Power failure")
    PLANNED = "planned_work", _("Planned work")
    THIRD_PARTY = "third_party", _("Third-party fault")
    OTHER = "other", _("Other")


class CrewStatus(models.TextChoices):
    NOT_ASSIGNED = "not_assigned", _("No crew assigned yet")
    ASSIGNED = "assigned", _("Crew assigned")
    EN_ROUTE = "en_route", _("Crew on the way")
    ON_SITE = "on_site", _("Crew on site")
    RESTORING = "restoring", _("Restoring service")


class EtaStage(models.TextChoices):
    """How firm the ETA is: what customers read beside it."""

    ASSESSING = "assessing", _("Assessing")
    AREA_WIDE = "area_wide", _("Area-wide estimate")
    ON_SITE = "on_site", _("Confirmed on site")


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


class Region(Translated):
    translated_fields = ("name",)

    name = models.CharField(_("name"), max_length=120)
    name_translations = translations_field(_("name in every language"))
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name

    @property
    def localized_name(self) -> str:
        return self.in_language("name")


class ServiceAreaManager(models.Manager):
    def get_queryset(self):
        # Shapes can be large: only the map, the locator and the importer read
        # them, with .defer(None); pages and the live push never load them.
        return super().get_queryset().defer("shape")


class ServiceArea(Translated):
    """A town, district or exchange: what a customer looks up by name or postcode."""

    translated_fields = ("name", "description")

    name = models.CharField(_("name"), max_length=120)
    name_translations = translations_field(_("display name in every language"))
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="areas")
    # Stored as ",1051,1052," so one LIKE finds a whole code or the prefix of
    # one, on SQLite and PostgreSQL alike.
    postcodes = models.TextField(
        _("postcodes"), blank=True, help_text=_("Postcodes this area covers, separated by commas or new lines.")
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=settings.TIME_ZONE, validators=[validate_timezone]
    )
    description = models.TextField(_("description"), blank=True)
    description_translations = translations_field(_("description in every language"))
    aliases = models.TextField(
        _("other names"),
        blank=True,
        help_text=_(
            "Other names customers search for (a neighbourhood, an old name), separated by commas or new lines."
        ),
    )
    # Folded words of the name and the aliases, kept in step by save(): what
    # the public search matches (outages.search_terms).
    search_terms = models.TextField(blank=True, default="", editable=False)
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The area's outline for the map and "use my location": a GeoJSON Polygon
    # or MultiPolygon geometry (lon/lat, WGS 84), validated by outages.geo.
    # The bounding box is kept in step by save() for a fast first filter.
    shape = models.JSONField(_("shape"), null=True, blank=True, editable=False)
    bbox_west = models.FloatField(null=True, blank=True, editable=False)
    bbox_south = models.FloatField(null=True, blank=True, editable=False)
    bbox_east = models.FloatField(null=True, blank=True, editable=False)
    bbox_north = models.FloatField(null=True, blank=True, editable=False)

    objects = ServiceAreaManager()

    class Meta:
        ordering = ["region__position", "region__name", "position", "name"]
        verbose_name = _("service area")
        verbose_name_plural = _("service areas")

    def __str__(self) -> str:
        return self.name

    @property
    def localized_name(self) -> str:
        return self.in_language("name")

    @property
    def localized_description(self) -> str:
        return self.in_language("description")

    def clean(self) -> None:
        self.postcodes = self.pack_postcodes(self.postcodes)

    def save(self, *args, **kwargs):
        self.postcodes = self.pack_postcodes(self.postcodes)
        self.search_terms = area_terms(self.name, self.aliases)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"name", "aliases"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_terms"}
        if "shape" not in self.get_deferred_fields():
            self.bbox_west, self.bbox_south, self.bbox_east, self.bbox_north = (
                bbox(self.shape) if self.shape else (None, None, None, None)
            )
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


class Service(Translated):
    """Fiber internet, mobile, water, power...: rows, so ops can add one."""

    translated_fields = ("name",)

    name = models.CharField(_("name"), max_length=80)
    name_translations = translations_field(_("name in every language"))
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self) -> str:
        return self.name

    @property
    def localized_name(self) -> str:
        return self.in_language("name")


class IncidentQuerySet(models.QuerySet):
    def active(self):
        """Happening now: open incidents and maintenance in progress."""
        return self.filter(status__in=ACTIVE_STATUSES)

    def resolved(self):
        """Over: resolved incidents and completed maintenance."""
        return self.filter(status__in=CLOSED_STATUSES)

    def upcoming_maintenance(self):
        return self.filter(kind=Kind.MAINTENANCE, status=MaintenanceStatus.SCHEDULED)


class Incident(Translated):
    """An incident, or a planned maintenance window (kind): both have areas, a timeline and an ETA."""

    translated_fields = ("title", "cause_detail")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.INCIDENT)
    title = models.CharField(_("title"), max_length=200)
    title_translations = translations_field(_("title in every language"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=IncidentStatus.choices + MaintenanceStatus.choices,
        default=IncidentStatus.INVESTIGATING,
    )
    impact = models.CharField(_("impact"), max_length=10, choices=Impact.choices, default=Impact.MAJOR)
    cause = models.CharField(_("cause"), max_length=30, choices=Cause.choices, blank=True, default=Cause.UNKNOWN)
    cause_detail = models.CharField(_("cause (details)"), max_length=200, blank=True)
    cause_detail_translations = translations_field(_("cause (details) in every language"))
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
    # Facts for customers. customers_affected is an estimate;
    # crew_status and next_update_at follow the latest update, like eta.
    customers_affected = models.PositiveIntegerField(_("customers affected (estimate)"), null=True, blank=True)
    crew_status = models.CharField(
        _("crew status"), max_length=20, choices=CrewStatus.choices, default=CrewStatus.NOT_ASSIGNED
    )
    next_update_at = models.DateTimeField(_("next update by"), null=True, blank=True)
    # How firm the ETA is; follows the latest update like eta (services.post_update).
    eta_stage = models.CharField(
        _("estimate stage"), max_length=12, choices=EtaStage.choices, default=EtaStage.ASSESSING, editable=False
    )
    # The automatic first estimate (outages.queries.estimates), kept from
    # when the incident opened or its facts last changed: the time to restore
    # most similar outages stayed within, and how many were alike. Shown only
    # while no operator gives an ETA.
    estimate_minutes = models.PositiveIntegerField(
        _("automatic estimate (minutes)"), null=True, blank=True, editable=False
    )
    estimate_samples = models.PositiveIntegerField(_("similar outages"), null=True, blank=True, editable=False)
    # Set once the periodic job has pushed the page after a promise lapsed.
    promise_lapse_announced = models.BooleanField(default=False, editable=False)
    # Optimistic concurrency: every write bumps it; a form posted with an
    # older version is refused instead of overwriting someone else's change.
    version = models.PositiveIntegerField(default=0, editable=False)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [
            models.Index(fields=["status", "-started_at"]),
            models.Index(fields=["-resolved_at"]),
            # The automatic estimate reads resolved outages of one cause in a window.
            models.Index(
                fields=["cause", "resolved_at"],
                condition=models.Q(kind="incident", status="resolved"),
                name="resolved_outage_cause_idx",
            ),
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
    def latest_localized_message(self) -> str:
        """The latest update's message (annotated by queries.with_card_data) in the active language."""
        return message_in_language(
            getattr(self, "latest_message", "") or "", getattr(self, "latest_message_translations", None)
        )

    @property
    def localized_title(self) -> str:
        return self.in_language("title")

    @property
    def cause_text(self) -> str:
        """What the customer reads as the cause: the detail if given (in the active language), else the choice."""
        if self.cause_detail:
            return self.in_language("cause_detail")
        return self.get_cause_display() if self.cause else ""

    def get_absolute_url(self) -> str:
        return reverse("incident", args=[self.pk])


class IncidentArea(models.Model):
    """An area's part in an incident; added_at matters when an incident grows."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="incident_areas")
    area = models.ForeignKey(ServiceArea, on_delete=models.PROTECT, related_name="incident_areas")
    added_at = models.DateTimeField(default=timezone.now)
    customers_affected = models.PositiveIntegerField(_("customers affected (estimate)"), null=True, blank=True)

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
    # The message in other languages, {"hu": "...", "he": "..."}: customers
    # read their language where given and `message` (the default language)
    # otherwise. One JSON column rather than a column per language, so a
    # language added to settings.LANGUAGES needs no migration.
    message_translations = models.JSONField(_("message in other languages"), default=dict, blank=True)
    eta = models.DateTimeField(_("estimated restoration"), null=True, blank=True)
    # The ETA in force before this update, kept so the timeline can say
    # "ETA moved from 14:00 to 16:30" without reading the previous row.
    previous_eta = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("posted"), default=timezone.now, db_index=True)
    # Internal: never rendered on a public page, feed or API.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    crew_status = models.CharField(_("crew status"), max_length=20, choices=CrewStatus.choices, blank=True)
    next_update_at = models.DateTimeField(_("next update by"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = ["created_at", "id"]
        verbose_name = _("incident update")
        verbose_name_plural = _("incident updates")
        indexes = [
            models.Index(fields=["incident", "-created_at"]),
            # The latest update that gave an ETA, per incident (the 90-day ETA
            # honesty figures read it for every incident of the window).
            models.Index(
                fields=["incident", "created_at", "id"],
                condition=models.Q(eta__isnull=False),
                name="update_with_eta_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def eta_changed(self) -> bool:
        return self.eta != self.previous_eta and self.status not in CLOSED_STATUSES

    @property
    def localized_message(self) -> str:
        """The message in the active language where the operator gave one, else the default."""
        return message_in_language(self.message, self.message_translations)


class LiveChange(models.Model):
    """The outbox of the live push: fragments rendered once per change.

    Server processes read it when the channel layer could not reach them
    (another process on the in-memory layer, or Redis briefly down)."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    fragments = models.JSONField()

    class Meta:
        ordering = ["id"]


# The ops console ---------------------------------------------------------


class Team(Translated):
    """A regional team: owns regions (and their sub-regions); its members
    see and edit only incidents that touch those regions."""

    translated_fields = ("public_name",)

    name = models.CharField(_("name"), max_length=120, unique=True)
    public_name = models.CharField(
        _("public name"), max_length=120, help_text=_("Shown to customers on the pages of the team's areas.")
    )
    public_name_translations = translations_field(_("public name in every language"))
    support_contact = models.CharField(
        _("support contact"), max_length=200, blank=True, help_text=_("A phone number, e-mail address or web address.")
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), related_name="ops_teams", blank=True
    )
    regions = models.ManyToManyField(Region, through="TeamRegion", verbose_name=_("regions"), related_name="teams")

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name

    @property
    def localized_public_name(self) -> str:
        return self.in_language("public_name")


class TeamRegion(models.Model):
    """A region is owned by at most one team."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="team_regions")
    region = models.OneToOneField(
        Region, on_delete=models.CASCADE, related_name="team_region", verbose_name=_("region")
    )

    class Meta:
        verbose_name = _("owned region")
        verbose_name_plural = _("owned regions")

    def __str__(self) -> str:
        return str(self.region)


class MaintenanceWindow(Incident):
    """Planned maintenance, as the console shows it (same rows as Incident)."""

    class Meta:
        proxy = True
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")


class UpdateDue(Incident):
    """Incidents whose promised public update is due soon or overdue, as the console's live list shows them."""

    class Meta:
        proxy = True
        verbose_name = _("update due")
        verbose_name_plural = _("updates due (live)")


class UpdateTemplate(Translated):
    """Text for a common update, with {placeholders} filled in when posted.

    The text is data, never a Django template: outages.templating substitutes
    a fixed set of names and nothing else."""

    translated_fields = ("title", "message")

    name = models.CharField(_("name"), max_length=120, unique=True)
    title = models.CharField(
        _("incident title"),
        max_length=200,
        blank=True,
        help_text=_("Used when an incident is opened from this template."),
    )
    title_translations = translations_field(_("incident title in every language"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=IncidentStatus.choices,
        blank=True,
        help_text=_("Left empty, posting keeps the incident's status."),
    )
    impact = models.CharField(_("impact"), max_length=10, choices=Impact.choices, blank=True)
    cause = models.CharField(_("cause"), max_length=30, choices=Cause.choices, blank=True)
    crew_status = models.CharField(_("crew status"), max_length=20, choices=CrewStatus.choices, blank=True)
    message = models.TextField(
        _("message"),
        help_text=_("Placeholders: {area}, {areas}, {eta}, {title}, {customers}, {next_update}, {cause}, {crew}."),
    )
    message_translations = translations_field(_("message in every language"))
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("update template")
        verbose_name_plural = _("update templates")

    def __str__(self) -> str:
        return self.name


class AuditAction(models.TextChoices):
    OPENED = "opened", _("Opened")
    SCHEDULED = "scheduled", _("Scheduled")
    EDITED = "edited", _("Edited")
    UPDATE_POSTED = "update_posted", _("Update posted")
    AREAS_ADDED = "areas_added", _("Areas added")
    REFUSED = "refused", _("Stale edit refused")


class AuditEntry(models.Model):
    """Who changed what and when: one row per write, never edited."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="audit_entries")
    update = models.ForeignKey(IncidentUpdate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    action = models.CharField(_("action"), max_length=20, choices=AuditAction.choices)
    # {"field": [old, new]} with values as strings (JSON-safe).
    changes = models.JSONField(_("changes"), default=dict)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.created_at:%Y-%m-%d %H:%M}"


# Credits (service compensation for long outages) -------------------------

from django.core.validators import MinValueValidator  # noqa: E402  (kept with the credit models for merging)

IMPACT_RANK = {Impact.NONE: 0, Impact.MINOR: 1, Impact.MAJOR: 2, Impact.CRITICAL: 3}


class CreditPolicy(Translated):
    """A promise to customers: an outage of this service that lasts longer than
    the minimum, at the minimum impact or worse, earns them this credit."""

    translated_fields = ("credit",)

    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.CASCADE, related_name="credit_policies"
    )
    min_duration = models.PositiveIntegerField(
        _("minimum duration (minutes)"),
        validators=[MinValueValidator(1)],
        help_text=_("The outage must last longer than this, in minutes, counting only the time it was open."),
    )
    min_impact = models.CharField(
        _("minimum impact"),
        max_length=10,
        choices=[choice for choice in Impact.choices if choice[0] != Impact.NONE],
        default=Impact.MAJOR,
        help_text=_("Incidents of a lower impact earn no credit."),
    )
    credit = models.CharField(
        _("credit (customer wording)"),
        max_length=200,
        help_text=_("Completes “… will receive ___ as a credit automatically”, e.g. “one day's service charge”."),
    )
    credit_translations = translations_field(_("credit in every language"))
    include_maintenance = models.BooleanField(
        _("include planned maintenance"), default=False, help_text=_("Off: maintenance windows earn no credit.")
    )
    active = models.BooleanField(_("active"), default=True, help_text=_("Switch off to stop granting this credit."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["service__position", "service__name", "min_duration", "id"]
        verbose_name = _("credit policy")
        verbose_name_plural = _("credit policies")

    def __str__(self) -> str:
        return f"{self.service}: > {self.min_duration} min → {self.credit}"

    @property
    def localized_credit(self) -> str:
        return self.in_language("credit")


class CreditCrossing(models.Model):
    """The moment an ongoing outage passed a policy's threshold in one area,
    recorded once, so the scheduler pushes the notice live exactly once."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="credit_crossings")
    area = models.ForeignKey(ServiceArea, on_delete=models.CASCADE, related_name="+")
    policy = models.ForeignKey(CreditPolicy, on_delete=models.CASCADE, related_name="crossings")
    crossed_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "area", "policy"], name="credit_crossing_once"),
        ]
        verbose_name = _("credit threshold crossing")
        verbose_name_plural = _("credit threshold crossings")


# Customer problem reports ---------------------------------------------------


class Problem(models.TextChoices):
    NO_SERVICE = "no_service", _("No service at all")
    SLOW = "slow", _("Slow")
    INTERMITTENT = "intermittent", _("Comes and goes")


class ProblemReport(models.Model):
    """A customer's "I have a problem too". Anonymous: no account, no IP.

    `client` is a salted hash of the network the report came from (an IPv4
    address or an IPv6 /64), `browser` a salted hash of that plus the user
    agent; the salt changes daily, so neither can be linked to an address
    nor followed from one day to the next. They exist to fold duplicates and
    to count distinct sources, nothing else."""

    area = models.ForeignKey(
        ServiceArea, verbose_name=_("area"), on_delete=models.CASCADE, related_name="problem_reports"
    )
    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.CASCADE, related_name="problem_reports"
    )
    problem = models.CharField(_("problem"), max_length=20, choices=Problem.choices)
    postcode = models.CharField(_("postcode"), max_length=12, blank=True)
    # Set when an active incident already covered the report, or when ops
    # opened an incident from it: the report is then counted on that incident.
    incident = models.ForeignKey(
        Incident,
        verbose_name=_("incident"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="problem_reports",
    )
    client = models.CharField(_("source (hashed)"), max_length=32, editable=False)
    browser = models.CharField(_("browser (hashed)"), max_length=32, editable=False)
    created_at = models.DateTimeField(_("reported"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("problem report")
        verbose_name_plural = _("problem reports")
        indexes = [
            models.Index(fields=["area", "created_at"]),
            models.Index(fields=["created_at"]),
            models.Index(fields=["browser", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.area} · {self.service} · {self.get_problem_display()}"


class ReportSettings(models.Model):
    """The thresholds ops tune in the admin; one row (defaults until saved)."""

    notice_min_sources = models.PositiveIntegerField(
        _("public notice after"),
        default=5,
        help_text=_(
            "Show “Several customers reported problems here” on an area page once this many different "
            "sources reported a problem there in the last 15 minutes (reports already counted on an incident "
            "do not count). 0 turns the notice off."
        ),
    )
    hot_min_sources = models.PositiveIntegerField(
        _("unusual after at least"),
        default=3,
        help_text=_("An area is listed as unusual only with at least this many different sources in 15 minutes."),
    )
    hot_factor = models.FloatField(
        _("times the normal rate"),
        default=3.0,
        help_text=_(
            "…and with this many times its normal rate: the average number of reports per 15 minutes "
            "over the past 7 days."
        ),
    )

    class Meta:
        verbose_name = _("report thresholds")
        verbose_name_plural = _("report thresholds")

    def __str__(self) -> str:
        return str(_("Report thresholds"))

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "ReportSettings":
        """The saved row, or the defaults (reading never writes)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class ApiToken(models.Model):
    """A secret for the management API, bound to a user and limited to that user's permissions.

    The token is shown once when it is created; only its SHA-256 is stored
    (it is 256 random bits, so a fast hash is enough), with a short prefix
    that lets ops tell tokens apart."""

    name = models.CharField(_("name"), max_length=100, help_text=_("What uses it, e.g. “Prometheus Alertmanager”."))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AlertmanagerAlert(models.Model):
    """The incident an Alertmanager alert (by fingerprint) opened: what makes the receiver idempotent."""

    # Whose alert it is ("user:<id>" of the token's user): fingerprints are
    # unique per scope, so one team's alert never reaches another team's
    # incident. "" for links made before scopes (adopted by the first token
    # whose user may manage the incident).
    scope = models.CharField(max_length=40, default="", editable=False)
    fingerprint = models.CharField(max_length=64)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="alerts")
    # When the firing that opened the incident started; a later firing of the
    # same alert (after it resolved) opens a new incident.
    starts_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Alertmanager alert")
        verbose_name_plural = _("Alertmanager alerts")
        constraints = [models.UniqueConstraint(fields=["scope", "fingerprint"], name="alert_fingerprint_per_scope")]

    def __str__(self) -> str:
        return self.fingerprint


# Subscriptions and notifications -------------------------------------------


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WEBHOOK = "webhook", _("Webhook")
    PUSH = "push", _("Browser notifications")
    CHAT = "chat", _("Chat or text conversation")


def _link_key() -> str:
    return get_random_string(16)


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret: "whsec_" and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class Subscriber(models.Model):
    """One address (email, phone number or webhook URL) and the areas it follows.

    Personal data: deleting the row deletes everything about the person (the
    delivery log keeps only the channel and the outcome)."""

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    # Email lower-cased, phone number in E.164, the webhook URL, or the push endpoint.
    address = models.CharField(_("address"), max_length=500)
    language = models.CharField(_("language"), max_length=10, default=settings.LANGUAGE_CODE)
    areas = models.ManyToManyField(ServiceArea, verbose_name=_("areas"), related_name="subscribers", blank=True)
    # Browser notifications (Web Push): the subscription's keys {"p256dh", "auth"}
    # (the endpoint is the address); nothing else about the browser is kept.
    push_keys = models.JSONField(_("push keys"), default=dict, blank=True, editable=False)
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


# The storm at a glance --------------------------------------------------------


class CustomersServed(models.Model):
    """How many customers an area has for one service: what "customers out of
    how many" on the storm summary is counted against. Optional."""

    area = models.ForeignKey(
        ServiceArea, verbose_name=_("area"), on_delete=models.CASCADE, related_name="customers_served"
    )
    service = models.ForeignKey(Service, verbose_name=_("service"), on_delete=models.CASCADE, related_name="+")
    customers = models.PositiveIntegerField(_("customers served"))

    class Meta:
        ordering = ["area", "service__position", "service__name"]
        verbose_name = _("customers served")
        verbose_name_plural = _("customers served")
        constraints = [models.UniqueConstraint(fields=["area", "service"], name="customers_served_once")]

    def __str__(self) -> str:
        return f"{self.area} · {self.service}: {self.customers}"


class StormSettings(models.Model):
    """The storm mode switch; one row (defaults until saved)."""

    storm_mode = models.BooleanField(
        _("storm mode"),
        default=False,
        help_text=_(
            "On: the home page shows the storm summary first and offers the area search instead of the list of "
            "every area, so it stays small and fast under heavy traffic."
        ),
    )

    class Meta:
        verbose_name = _("storm mode")
        verbose_name_plural = _("storm mode")

    def __str__(self) -> str:
        return str(_("Storm mode"))

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "StormSettings":
        """The saved row, or the defaults (reading never writes)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


# Contact the local team: callbacks and messages with a promised time -------


class TeamContact(Translated):
    """How customers reach a team: its introduction, opening hours (read in the
    zone of the area a customer books from) and how many callbacks it can make
    in each staffed hour. Capacity and promises: outages.queries.callback_slots."""

    translated_fields = ("intro",)

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="contact", verbose_name=_("team"))
    enabled = models.BooleanField(_("takes callbacks and messages"), default=True)
    intro = models.TextField(_("introduction"), blank=True, max_length=600)
    intro_translations = translations_field(_("introduction in every language"))
    photo = models.FileField(_("photo"), upload_to="team-photos/", blank=True)
    # {"0": ["08:00", "20:00"], ...}: Monday is "0"; a missing day is closed.
    hours = models.JSONField(
        _("opening hours"),
        default=dict,
        blank=True,
        help_text=_('Per weekday (0 = Monday), local time: {"0": ["08:00", "20:00"]}. A missing day is closed.'),
    )
    holidays = models.TextField(_("holidays"), blank=True, help_text=_("Closed dates, one per line, as YYYY-MM-DD."))
    callbacks_per_hour = models.PositiveIntegerField(
        _("callbacks per staffed hour"), default=6, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("team contact settings")
        verbose_name_plural = _("team contact settings")

    def __str__(self) -> str:
        return str(self.team)

    @property
    def localized_intro(self) -> str:
        return self.in_language("intro")

    def clean(self):
        if not isinstance(self.hours, dict):
            raise ValidationError({"hours": _("Opening hours must be an object keyed by weekday.")})
        for day, span in self.hours.items():
            ok = day in {str(n) for n in range(7)} and isinstance(span, list) and len(span) == 2
            ok = ok and all(isinstance(v, str) and re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v) for v in span)
            if not ok or span[0] >= span[1]:
                raise ValidationError({"hours": _("Each day needs an opening and a later closing time, HH:MM.")})
        for line in self.holidays.split():
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", line):
                raise ValidationError({"holidays": _("Write each date as YYYY-MM-DD.")})


class ContactKind(models.TextChoices):
    CALLBACK = "callback", _("Callback")
    MESSAGE = "message", _("Message")


class ContactState(models.TextChoices):
    OPEN = "open", _("Waiting")
    TAKEN = "taken", _("Being handled")
    CALLED = "called", _("Called")
    ANSWERED = "answered", _("Answered")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_CONTACT_STATES = [ContactState.OPEN, ContactState.TAKEN]
DONE_CONTACT_STATES = [ContactState.CALLED, ContactState.ANSWERED]


class ContactOutcome(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    NO_ANSWER = "no_answer", _("No answer, try again")
    PASSED_ON = "passed_on", _("Passed on")


class ContactRequest(models.Model):
    """A customer's callback or message, with the time we promised to answer by.

    A booking holds one seat of a team's hour (slot_start, seat); the unique
    constraint is what makes two bookings at the same instant get different
    seats. Phone, e-mail and texts are personal data, blanked some days after
    the request closes (personal_data_deleted_at)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="contact_requests", verbose_name=_("team"))
    kind = models.CharField(_("kind"), max_length=10, choices=ContactKind.choices)
    area = models.ForeignKey(ServiceArea, on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("service")
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("incident")
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    answer_channel = models.CharField(_("answer by"), max_length=10, choices=Channel.choices, default=Channel.SMS)
    reason = models.TextField(_("reason"), max_length=1000, blank=True)
    language = models.CharField(_("language"), max_length=10, default=settings.LANGUAGE_CODE)
    asap = models.BooleanField(_("as soon as possible"), default=True)
    slot_start = models.DateTimeField(_("slot"), null=True, blank=True)
    seat = models.PositiveIntegerField(null=True, blank=True, editable=False)
    promised_at = models.DateTimeField(_("promised by"), db_index=True)
    state = models.CharField(_("state"), max_length=10, choices=ContactState.choices, default=ContactState.OPEN)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("taken by"),
    )
    taken_at = models.DateTimeField(_("taken"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=ContactOutcome.choices, blank=True)
    answer = models.TextField(_("answer"), max_length=2000, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    link_key = models.CharField(max_length=16, default=_link_key, editable=False)
    personal_data_deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["promised_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "slot_start", "seat"],
                condition=models.Q(seat__isnull=False),
                name="contact_seat_once",
            ),
        ]
        verbose_name = _("contact request")
        verbose_name_plural = _("contact requests")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_CONTACT_STATES

    def lateness(self, now=None):
        """How late the answer was (done) or is (still open); None while on time."""
        end = self.done_at if self.done_at else (now or timezone.now())
        if self.state == ContactState.CANCELLED or end <= self.promised_at:
            return None
        return end - self.promised_at


class ContactRequestEvent(models.Model):
    """The audit log of a contact request: every write, who made it, what changed."""

    request = models.ForeignKey(ContactRequest, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=20)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changes = models.JSONField(_("changes"), default=dict)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class WaitCreditPolicy(Translated):
    """A promise on our own promises: an answer later than the threshold earns this credit."""

    translated_fields = ("credit",)

    threshold_minutes = models.PositiveIntegerField(
        _("threshold (minutes late)"),
        validators=[MinValueValidator(1)],
        help_text=_("A callback or answer more than this many minutes after the promised time earns the credit."),
    )
    credit = models.CharField(
        _("credit (customer wording)"),
        max_length=200,
        help_text=_("Completes “You'll receive ___”, e.g. “a $5 credit”."),
    )
    credit_translations = translations_field(_("credit in every language"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["threshold_minutes", "id"]
        verbose_name = _("wait credit policy")
        verbose_name_plural = _("wait credit policies")

    def __str__(self) -> str:
        return f"> {self.threshold_minutes} min → {self.credit}"

    @property
    def localized_credit(self) -> str:
        return self.in_language("credit")


class WaitCredit(Translated):
    """A credit for one late answer, recorded once per request, with the policy's
    wording in every language as it was then (billing reads the default one)."""

    translated_fields = ("credit",)

    request = models.OneToOneField(ContactRequest, on_delete=models.CASCADE, related_name="wait_credit")
    policy = models.ForeignKey(WaitCreditPolicy, on_delete=models.PROTECT, related_name="credits")
    minutes_late = models.PositiveIntegerField(_("minutes late"))
    credit = models.CharField(_("credit"), max_length=200)
    credit_translations = translations_field(_("credit in every language"))
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "id"]
        verbose_name = _("wait credit")
        verbose_name_plural = _("wait credits")

    @property
    def localized_credit(self) -> str:
        return self.in_language("credit")


# Conversations: customers who ask by text message or chat ----------------------------------


class ChatChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    VIBER = "viber", _("Viber")
    MESSENGER = "messenger", _("Messenger")
    GATEWAY = "gateway", _("SMS gateway")


class Conversation(models.Model):
    """One customer on one provider (a phone number, a Telegram chat, a WhatsApp number).

    Personal data: `sender` is kept only while a follow is active or for
    CHAT_KEEP_DAYS after the last message (outages.jobs deletes it); the
    message log then keeps only the channel and the outcomes."""

    channel = models.CharField(_("channel"), max_length=10, choices=ChatChannel.choices)
    sender = models.CharField(_("sender"), max_length=200)
    language = models.CharField(_("language"), max_length=10, default=settings.LANGUAGE_CODE)
    last_area = models.ForeignKey(
        ServiceArea, verbose_name=_("last area asked about"), null=True, blank=True, on_delete=models.SET_NULL
    )
    # The follow: a Subscriber of channel "chat", so the delivery engine brings it every update.
    subscriber = models.OneToOneField(
        Subscriber, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversation"
    )
    # The areas of the last numbered list we sent, so "2" picks the second.
    choices = models.JSONField(default=list, blank=True)
    stopped = models.BooleanField(_("stopped"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last message"), default=timezone.now)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [models.UniqueConstraint(fields=["channel", "sender"], name="conversation_sender_once")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.pk}"

    @property
    def following(self):
        return self.subscriber.areas.all() if self.subscriber_id else ServiceArea.objects.none()


class ConversationMessage(models.Model):
    """The conversation log: what came in (never its text) and what we answered or sent."""

    class Direction(models.TextChoices):
        IN = "in", _("Received")
        OUT = "out", _("Sent")

    conversation = models.ForeignKey(
        Conversation, null=True, on_delete=models.SET_NULL, related_name="messages", verbose_name=_("conversation")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=ChatChannel.choices)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    # The provider's id of an inbound message: a replay of it is answered once.
    provider_message_id = models.CharField(max_length=200, null=True, blank=True)
    intent = models.CharField(_("intent"), max_length=20, blank=True)
    outcome = models.CharField(_("outcome"), max_length=40, blank=True)
    # Our own words (the answer); the customer's text is not kept.
    reply = models.TextField(_("reply"), blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("conversation message")
        verbose_name_plural = _("conversation messages")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_message_id"],
                condition=models.Q(provider_message_id__isnull=False),
                name="inbound_message_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.get_direction_display()} · {self.outcome}"


class ChatCounter(models.Model):
    """What leaves no other trace: refused signatures, rate-limited senders, replays."""

    channel = models.CharField(_("channel"), max_length=10, choices=ChatChannel.choices)
    name = models.CharField(_("counter"), max_length=40)
    count = models.PositiveBigIntegerField(_("count"), default=0)

    class Meta:
        ordering = ["channel", "name"]
        verbose_name = _("chat counter")
        verbose_name_plural = _("chat counters")
        constraints = [models.UniqueConstraint(fields=["channel", "name"], name="chat_counter_once")]

    def __str__(self) -> str:
        return f"{self.channel} {self.name}: {self.count}"


class ChatChannelConfig(models.Model):
    """A provider's account, set in the console; a blank field falls back to its
    setting (TWILIO_*, TELEGRAM_*, WHATSAPP_*). Secrets are entered once and only
    ever shown masked."""

    channel = models.CharField(_("channel"), max_length=10, choices=ChatChannel.choices, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    account = models.CharField(
        _("account"),
        max_length=200,
        blank=True,
        help_text=_("Twilio account SID, the WhatsApp phone number id, or the Viber bot's name."),
    )
    number = models.CharField(_("sender number"), max_length=40, blank=True, help_text=_("Twilio: the From number."))
    token = models.CharField(
        _("token"),
        max_length=300,
        blank=True,
        help_text=_("Twilio auth token, Telegram bot token, WhatsApp, Viber or Messenger page token."),
    )
    secret = models.CharField(
        _("webhook secret"),
        max_length=300,
        blank=True,
        help_text=_(
            "Telegram secret token, the WhatsApp or Messenger app secret, or the SMS gateway's signing secret."
        ),
    )
    verify_token = models.CharField(
        _("verify token"), max_length=300, blank=True, help_text=_("WhatsApp and Messenger only.")
    )
    api_base = models.URLField(_("API base URL"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["channel"]
        verbose_name = _("chat channel")
        verbose_name_plural = _("chat channels")

    def __str__(self) -> str:
        return self.get_channel_display()
