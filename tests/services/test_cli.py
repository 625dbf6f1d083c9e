"""`manage.py incident`: the same service functions, for scripts."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from outages.models import Incident, IncidentStatus, ServiceArea
from tests import factories

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("incident", *args, stdout=out)
    return out.getvalue().strip()


def test_open_update_resolve_from_the_command_line():
    factories.area(slug="district-5")
    factories.service(slug="fiber")
    eta = (timezone.now() + timedelta(hours=2)).isoformat()
    pk = int(run("open", "--title", "Fiber down", "--areas", "district-5", "--services", "fiber", "--eta", eta))
    incident = Incident.objects.get(pk=pk)
    assert incident.eta is not None and [s.slug for s in incident.services.all()] == ["fiber"]
    run("update", str(pk), "--status", "identified", "--message", "Cable found")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.IDENTIFIED and incident.eta is not None
    run("resolve", str(pk), "--message", "Fixed")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED


@pytest.mark.parametrize(
    "args, message",
    [
        (["open", "--title", "X", "--areas", "nowhere"], "unknown nowhere"),
        (["open", "--title", "X", "--areas", "district-5", "--eta", "2001-01-01T00:00+00:00"], "future"),
        (["open", "--title", "X", "--areas", "district-5", "--eta", "tomorrow"], "ISO-8601"),
        (["update", "999", "--status", "identified"], "no incident"),
    ],
)
def test_bad_arguments_fail_with_one_line_and_change_nothing(args, message):
    factories.area(slug="district-5")
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not Incident.objects.exists()


def test_unknown_status_exits_non_zero_from_a_real_process(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "manage.py", "incident", "update", "1", "--status", "exploded"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
    )
    assert result.returncode != 0 and "invalid choice" in result.stderr


def test_seed_demo_is_idempotent():
    call_command("seed_demo", stdout=StringIO())
    counts = (ServiceArea.objects.count(), Incident.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (ServiceArea.objects.count(), Incident.objects.count()) == counts
    assert counts[0] >= 30 and Incident.objects.active().count() >= 3
