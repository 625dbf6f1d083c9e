"""Customer-facing data in every language: the storage, the migration that
introduced it, and the rule that no customer-facing text field lacks a slot."""

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import isolate_apps
from django.utils import timezone, translation

from outages.models import (
    Incident,
    Region,
    Service,
    ServiceArea,
    TeamContact,
    Translated,
    WaitCredit,
    WaitCreditPolicy,
    translations_field,
)

BEFORE = [("outages", "0012_conversations")]
AFTER = [("outages", "0013_translated_data")]
BEFORE_CONTACT_SLOTS = [("outages", "0015_chat_gateway_channel")]
CONTACT_SLOTS = [("outages", "0016_team_intro_and_wait_credit_translations")]

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
    "teamcontact": {"holidays"},
    "waitcreditpolicy": set(),
    "waitcredit": set(),
}


def missing_slots(model, exempt: set[str]) -> list[str]:
    """The model's text fields, other than the exempt ones, with no `<field>_translations`
    map (or, on a Translated model, not in its translated_fields)."""
    names = {f.name for f in model._meta.concrete_fields}
    missing = []
    for field in model._meta.concrete_fields:
        if not isinstance(field, (models.CharField, models.TextField)) or field.name in exempt:
            continue
        slot = "message_translations" if model._meta.model_name == "incidentupdate" else f"{field.name}_translations"
        if slot not in names or (issubclass(model, Translated) and field.name not in model.translated_fields):
            missing.append(field.name)
    return missing


def test_every_customer_facing_text_field_has_a_language_slot():
    for model_name, exempt in NOT_TRANSLATED.items():
        model = apps.get_model("outages", model_name)
        assert missing_slots(model, exempt) == [], f"{model_name}: shown to customers but without a language slot"


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


# Models whose text no operator writes for all customers to read: codes, addresses,
# secrets, what customers typed, logs, and a team's answer to one customer (written
# in that customer's language). Every other model with text is in NOT_TRANSLATED.
NOT_CUSTOMER_FACING = {
    "auditentry",
    "problemreport",
    "apitoken",
    "alertmanageralert",
    "subscriber",
    "notificationevent",
    "delivery",
    "contactrequest",
    "contactrequestevent",
    "conversation",
    "conversationmessage",
    "chatcounter",
    "chatchannelconfig",
}


def _text_fields(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if isinstance(f, (models.CharField, models.TextField))]


def test_every_model_with_text_is_checked_for_language_slots_or_said_not_to_face_customers():
    """A new model with text fails here until it is listed: in NOT_TRANSLATED (and
    then the test above fails on each of its fields without a slot) or here."""
    checked = set()
    for model in apps.get_app_config("outages").get_models():
        name = model._meta.model_name
        texts = _text_fields(model)
        if texts and not model._meta.proxy:
            assert name in NOT_TRANSLATED or name in NOT_CUSTOMER_FACING, f"{name} ({', '.join(texts)}): which?"
            checked.add(name)
    assert not NOT_TRANSLATED.keys() & NOT_CUSTOMER_FACING
    # No stale entry: each listed model exists with text, and each exemption names one of its fields.
    assert NOT_TRANSLATED.keys() | NOT_CUSTOMER_FACING == checked
    for name, exempt in NOT_TRANSLATED.items():
        assert exempt <= set(_text_fields(apps.get_model("outages", name))), name


@isolate_apps("outages")
def test_the_check_fails_on_a_customer_facing_field_without_a_slot():
    class Leaflet(models.Model):
        headline = models.CharField(max_length=80)
        headline_translations = translations_field("headline in every language")
        footer = models.TextField()

        class Meta:
            app_label = "outages"

    assert missing_slots(Leaflet, set()) == ["footer"]
    assert missing_slots(Leaflet, {"footer"}) == []


@pytest.mark.parametrize(
    ("model", "field"), [(TeamContact, "intro"), (WaitCreditPolicy, "credit"), (WaitCredit, "credit")]
)
def test_the_team_introduction_and_the_wait_credit_have_their_slots(model, field):
    assert missing_slots(model, NOT_TRANSLATED[model._meta.model_name]) == []
    assert model.translated_fields == (field,)


@pytest.mark.django_db(transaction=True)
def test_the_team_introduction_and_wait_credit_slots_start_empty_and_read_the_default_text():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_CONTACT_SLOTS)
    old = executor.loader.project_state(BEFORE_CONTACT_SLOTS).apps
    region = old.get_model("outages", "Region").objects.create(name="Pest", slug="pest")
    area = old.get_model("outages", "ServiceArea").objects.create(name="Érd", slug="erd", region=region)
    team = old.get_model("outages", "Team").objects.create(name="east", public_name="East team")
    contact = old.get_model("outages", "TeamContact").objects.create(team=team, intro="We look after Érd.")
    policy = old.get_model("outages", "WaitCreditPolicy").objects.create(threshold_minutes=5, credit="a $5 credit")
    request = old.get_model("outages", "ContactRequest").objects.create(
        team=team, kind="callback", area=area, phone="+36301234567", promised_at=timezone.now()
    )
    credit = old.get_model("outages", "WaitCredit").objects.create(
        request=request, policy=policy, minutes_late=12, credit="a $5 credit"
    )
    executor = MigrationExecutor(connection)
    executor.migrate(CONTACT_SLOTS)
    new = executor.loader.project_state(CONTACT_SLOTS).apps
    assert new.get_model("outages", "TeamContact").objects.get(pk=contact.pk).intro_translations == {}
    assert new.get_model("outages", "WaitCreditPolicy").objects.get(pk=policy.pk).credit_translations == {}
    assert new.get_model("outages", "WaitCredit").objects.get(pk=credit.pk).credit_translations == {}
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_CONTACT_SLOTS)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    # An empty map reads the default text in every language.
    with translation.override("hu"):
        assert TeamContact.objects.get(pk=contact.pk).localized_intro == "We look after Érd."
        assert WaitCreditPolicy.objects.get(pk=policy.pk).localized_credit == "a $5 credit"
        assert WaitCredit.objects.get(pk=credit.pk).localized_credit == "a $5 credit"
