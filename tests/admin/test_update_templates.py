"""Update templates: placeholders filled in, operator text never run as a template."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outages import templating
from outages.models import CrewStatus, Incident, IncidentStatus, UpdateTemplate
from tests import factories

pytestmark = pytest.mark.django_db


def test_known_placeholders_are_filled_in():
    text = templating.render("Crew in {area}, fix by {eta}. {{literal}}", {"area": "District 5", "eta": "16:30"})
    assert text == "Crew in District 5, fix by 16:30. {literal}"


def test_operator_text_is_never_executed_as_a_template():
    hostile = "{{ settings.SECRET_KEY }} {% debug %} {area.__class__} {0} {eta!r} {unknown} {area}"
    text = templating.render(hostile, {"area": "X", "eta": "Y"})
    # Only {area} is replaced; everything else stays exactly as typed.
    assert text == "{ settings.SECRET_KEY } {% debug %} {area.__class__} {0} {eta!r} {unknown} X"


def test_values_are_not_rescanned_for_placeholders():
    assert templating.render("{area} {eta}", {"area": "{eta}", "eta": "16:30"}) == "{eta} 16:30"


def test_html_rendering_escapes_text_and_values():
    html = templating.render_html("<b>{area}</b>", {"area": "<script>alert(1)</script>"})
    assert html == "&lt;b&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;/b&gt;"


def test_admin_preview_is_escaped(admin_client):
    UpdateTemplate.objects.create(name="Evil", message="<img src=x onerror=alert(1)> {area}")
    page = admin_client.get("/admin/outages/updatetemplate/").text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt; District 5" in page


def test_one_click_update_posts_the_filled_in_template(admin_client, client):
    district = factories.area("District 5")
    incident = factories.incident(district, eta_in=timedelta(hours=2))
    template = UpdateTemplate.objects.create(
        name="Crew on the way",
        status=IncidentStatus.IDENTIFIED,
        crew_status=CrewStatus.EN_ROUTE,
        message="A crew is on its way to {area}; expected fix {eta}. <b>{{ request }}</b>",
    )
    page = admin_client.get(f"/admin/outages/incident/{incident.pk}/change/").text
    assert f"/post-template/{template.pk}/" in page and "View as customer" in page
    response = admin_client.post(
        f"/admin/outages/incident/{incident.pk}/post-template/{template.pk}/", {"seen_version": incident.version}
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    update = incident.updates.first()
    assert update.message.startswith("A crew is on its way to District 5; expected fix ")
    assert update.message.endswith("<b>{ request }</b>")
    assert incident.status == IncidentStatus.IDENTIFIED and incident.crew_status == CrewStatus.EN_ROUTE
    public = client.get(f"/incidents/{incident.pk}/").text
    assert "&lt;b&gt;{ request }&lt;/b&gt;" in public and "<b>{ request }" not in public


def test_one_click_update_with_a_stale_page_posts_nothing(admin_client):
    incident = factories.incident()
    template = UpdateTemplate.objects.create(name="Monitoring", message="Watching {area}")
    response = admin_client.post(
        f"/admin/outages/incident/{incident.pk}/post-template/{template.pk}/", {"seen_version": incident.version - 1}
    )
    assert response.status_code == 302
    assert incident.updates.count() == 1


def test_incident_opened_from_a_template(admin_client):
    district = factories.area("District 6")
    template = UpdateTemplate.objects.create(
        name="Cable cut",
        title="Fiber cable cut",
        status=IncidentStatus.IDENTIFIED,
        impact="critical",
        cause="cable_cut",
        crew_status=CrewStatus.ASSIGNED,
        message="A cable was cut in {area}. Fix by {eta}.",
    )
    form_page = admin_client.get(f"/admin/outages/incident/add/?template={template.pk}").text
    assert "Fiber cable cut" in form_page and "A cable was cut in {area}" in form_page
    eta = timezone.localtime(timezone.now() + timedelta(hours=3))
    response = admin_client.post(
        "/admin/outages/incident/add/",
        {
            "template": template.pk,
            "title": "Fiber cable cut",
            "impact": "critical",
            "cause": "cable_cut",
            "cause_detail": "",
            "areas": [district.pk],
            "update_status": "identified",
            "update_message": "A cable was cut in {area}. Fix by {eta}.",
            "update_eta": eta.strftime("%Y-%m-%dT%H:%M"),
            "update_crew_status": "assigned",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    incident = Incident.objects.get(title="Fiber cable cut")
    message = incident.updates.get().message
    assert message.startswith("A cable was cut in District 6. Fix by ") and "{" not in message
    assert incident.crew_status == CrewStatus.ASSIGNED and incident.cause == "cable_cut"


def test_a_bad_template_id_in_the_url_is_ignored(admin_client):
    assert admin_client.get("/admin/outages/incident/add/?template=abc").status_code == 200
    assert admin_client.get("/admin/outages/incident/add/?template=999").status_code == 200
