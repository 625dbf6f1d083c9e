"""Open, update and resolve incidents from scripts and automation, through
the same service functions as the admin.

  manage.py incident open --title T --areas SLUG[,SLUG] [--services SLUG,...]
                          [--impact major] [--status investigating] [--message M] [--eta ISO-8601]
  manage.py incident update ID --status S --message M [--eta ISO-8601]
  manage.py incident resolve ID [--message M]
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from outages import services as outage_services
from outages.live import publish
from outages.models import EtaStage, Impact, Incident, IncidentStatus, Service, ServiceArea


def _slugs(value: str) -> list[str]:
    return [slug.strip() for slug in (value or "").split(",") if slug.strip()]


def _eta(value: str | None):
    if value is None:
        return outage_services.KEEP
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--eta: {value!r} is not an ISO-8601 date and time (e.g. 2026-11-24T16:30+01:00)") from None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _lookup(model, slugs: list[str], option: str):
    found = {obj.slug: obj for obj in model.objects.filter(slug__in=slugs)}
    missing = [slug for slug in slugs if slug not in found]
    if missing:
        raise CommandError(f"{option}: unknown {', '.join(missing)}")
    return [found[slug] for slug in slugs]


class Command(BaseCommand):
    help = "Open, update or resolve an incident (prints the incident id)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        opening = actions.add_parser("open", help="open an incident")
        opening.add_argument("--title", required=True)
        opening.add_argument("--areas", required=True, help="comma-separated area slugs")
        opening.add_argument("--services", default="", help="comma-separated service slugs")
        opening.add_argument("--impact", default=Impact.MAJOR, choices=Impact.values)
        opening.add_argument("--status", default=IncidentStatus.INVESTIGATING, choices=IncidentStatus.values)
        opening.add_argument("--message", default="")
        opening.add_argument("--eta", default=None)
        opening.add_argument("--eta-stage", default=None, choices=EtaStage.values, help="how firm the ETA is")
        update = actions.add_parser("update", help="post an update")
        update.add_argument("id", type=int)
        update.add_argument("--status", required=True, choices=IncidentStatus.values)
        update.add_argument("--message", default="")
        update.add_argument("--eta", default=None, help="ISO-8601; omit to keep the current ETA")
        update.add_argument("--reopen", action="store_true", help="allow a new status on a resolved incident")
        update.add_argument("--eta-stage", default=None, choices=EtaStage.values, help="omit to keep the current stage")
        resolving = actions.add_parser("resolve", help="resolve an incident")
        resolving.add_argument("id", type=int)
        resolving.add_argument("--message", default="")

    def handle(self, *args, action, **options):
        try:
            # The web servers render the change for their clients: they have the
            # templates compiled, where this process would compile them for one use.
            with publish.rendered_by_servers():
                incident = getattr(self, f"_{action}")(**options)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(str(incident.pk))

    def _open(self, *, title, areas, services: str, impact, status, message, eta, eta_stage=None, **_):
        eta_value = _eta(eta)
        return outage_services.open_incident(
            title=title,
            areas=_lookup(ServiceArea, _slugs(areas), "--areas"),
            services=_lookup(Service, _slugs(services), "--services"),
            impact=impact,
            status=status,
            message=message,
            eta=None if eta_value is outage_services.KEEP else eta_value,
            eta_stage=eta_stage,
        )

    def _update(self, *, id, status, message, eta, reopen, eta_stage=None, **_):
        incident = self._incident(id)
        outage_services.post_update(
            incident, status=status, message=message, eta=_eta(eta), reopen=reopen, eta_stage=eta_stage
        )
        return incident

    def _resolve(self, *, id, message, **_):
        incident = self._incident(id)
        outage_services.resolve(incident, message=message)
        return incident

    def _incident(self, pk: int) -> Incident:
        try:
            return Incident.objects.get(pk=pk)
        except Incident.DoesNotExist:
            raise CommandError(f"no incident with id {pk}") from None
