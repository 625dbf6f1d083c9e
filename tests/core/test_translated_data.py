"""Customer-facing data in every language: the storage, the migration that
introduced it, and the rule that no customer-facing text field lacks a slot."""

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from outages.models import Incident, Region, Service, ServiceArea, Translated

BEFORE = [("outages", "0012_conversations")]
AFTER = [("outages", "0013_translated_data")]

# Text columns that customers never read, or that are not words (codes, slugs,
# addresses, internal names). Anything else customer-facing must carry a map.
NOT_TRANSLATED = {
    "region": {"slug"},
    "servicearea": {"slug", "postcodes", "time_zone", "aliases", "search_terms"},
    "service": {"slug"},
    "incident": {"kind", "status", "impact", "cause", "crew_status", "eta_stage"},
    "incidentupdate": {"status", "crew_status"},
    "team": {"name", "support_contact"},
    "updatetemplate": {"name", "status", "impact", "cause", "crew_status"},
    "creditpolicy": {"min_impact"},
}


def test_every_customer_facing_text_field_has_a_language_slot():
    for model_name, exempt in NOT_TRANSLATED.items():
        model = apps.get_model("outages", model_name)
        for field in model._meta.concrete_fields:
            if not isinstance(field, (models.CharField, models.TextField)) or field.name in exempt:
                continue
            slot = "message_translations" if model_name == "incidentupdate" else f"{field.name}_translations"
            names = {f.name for f in model._meta.concrete_fields}
            assert slot in names, f"{model_name}.{field.name} is shown to customers but has no {slot}"
            if issubclass(model, Translated):
                assert field.name in model.translated_fields, f"{model_name}.{field.name} not in translated_fields"


@pytest.mark.django_db
def test_text_is_chosen_in_the_requested_language_else_the_default():
    region = Region.objects.create(name="Budapest", slug="bp", name_translations={"he": "בודפשט"})
    area = ServiceArea.objects.create(name="District V", slug="d5", region=region)
    assert region.name_translations == {"he": "בודפשט", "en": "Budapest"}
    with translation.override("he"):
        assert region.localized_name == "בודפשט"
        assert area.localized_name == "District V"
    assert region.in_language("name", "hu") == "Budapest"
    area.name = "District 5"
    area.save(update_fields=["name"])
    area.refresh_from_db()
    assert area.name_translations[settings.LANGUAGE_CODE] == "District 5"


@pytest.mark.django_db
def test_missing_languages_are_listed():
    service = Service.objects.create(name="Water", slug="water", name_translations={"hu": "Víz"})
    assert service.missing_languages() == ["he"]


@pytest.mark.django_db(transaction=True)
def test_migration_moves_text_into_the_default_slot_and_back(django_db_blocker):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    region = old.get_model("outages", "Region").objects.create(name="Pest", slug="pest")
    area = old.get_model("outages", "ServiceArea").objects.create(
        name="Erzsébetváros", slug="d7", region=region, description="Downtown"
    )
    service = old.get_model("outages", "Service").objects.create(name="Fiber internet", slug="fiber")
    incident = old.get_model("outages", "Incident").objects.create(title="Outage in D7", cause_detail="Cable cut")
    team = old.get_model("outages", "Team").objects.create(name="east", public_name="East team")
    template = old.get_model("outages", "UpdateTemplate").objects.create(name="t", title="T", message="Fixed {area}")
    policy = old.get_model("outages", "CreditPolicy").objects.create(service=service, min_duration=60, credit="a day")
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    en = settings.LANGUAGE_CODE

    def slots(name, pk):
        return new.get_model("outages", name)._base_manager.get(pk=pk)

    assert slots("Region", region.pk).name_translations == {en: "Pest"}
    row = slots("ServiceArea", area.pk)
    assert (row.name, row.name_translations, row.description_translations) == (
        "Erzsébetváros",
        {en: "Erzsébetváros"},
        {en: "Downtown"},
    )
    assert slots("Service", service.pk).name_translations == {en: "Fiber internet"}
    row = slots("Incident", incident.pk)
    assert (row.title_translations, row.cause_detail_translations) == ({en: "Outage in D7"}, {en: "Cable cut"})
    assert slots("Team", team.pk).public_name_translations == {en: "East team"}
    row = slots("UpdateTemplate", template.pk)
    assert (row.title_translations, row.message_translations) == ({en: "T"}, {en: "Fixed {area}"})
    assert slots("CreditPolicy", policy.pk).credit_translations == {en: "a day"}
    # An edit made in the default slot survives going back.
    new.get_model("outages", "Incident")._base_manager.filter(pk=incident.pk).update(
        title_translations={en: "Outage in District VII", "hu": "Hiba"}
    )
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    back = executor.loader.project_state(BEFORE).apps
    assert back.get_model("outages", "Incident")._base_manager.get(pk=incident.pk).title == "Outage in District VII"
    assert back.get_model("outages", "Team")._base_manager.get(pk=team.pk).public_name == "East team"
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert Incident.objects.get(pk=incident.pk).title == "Outage in District VII"
