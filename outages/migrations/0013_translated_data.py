"""Customer-facing text in every language: one JSON map per text field, and the
existing text moved into the default language's slot (reversible)."""

from django.conf import settings
from django.db import migrations, models

# (model, field): every customer-facing text field that carries a language map.
TRANSLATED = [
    ("region", "name"),
    ("servicearea", "name"),
    ("servicearea", "description"),
    ("service", "name"),
    ("incident", "title"),
    ("incident", "cause_detail"),
    ("team", "public_name"),
    ("updatetemplate", "title"),
    ("updatetemplate", "message"),
    ("creditpolicy", "credit"),
]

VERBOSE = {
    ("servicearea", "name"): "display name in every language",
    ("incident", "title"): "title in every language",
    ("incident", "cause_detail"): "cause (details) in every language",
    ("team", "public_name"): "public name in every language",
    ("updatetemplate", "title"): "incident title in every language",
    ("updatetemplate", "message"): "message in every language",
    ("creditpolicy", "credit"): "credit in every language",
    ("servicearea", "description"): "description in every language",
}


def fill_default_slot(apps, schema_editor):
    default = settings.LANGUAGE_CODE
    for model_name, field in TRANSLATED:
        model = apps.get_model("outages", model_name)
        rows = []
        # Plain managers: the historical ServiceArea manager would not defer anything anyway.
        for row in model._base_manager.only("pk", field, f"{field}_translations").iterator(chunk_size=500):
            slots = dict(getattr(row, f"{field}_translations") or {})
            text = getattr(row, field) or ""
            if text and slots.get(default) != text:
                slots[default] = text
                setattr(row, f"{field}_translations", slots)
                rows.append(row)
            if len(rows) >= 500:
                model._base_manager.bulk_update(rows, [f"{field}_translations"])
                rows = []
        if rows:
            model._base_manager.bulk_update(rows, [f"{field}_translations"])


def restore_plain_text(apps, schema_editor):
    """Back to one language: the default slot is the text (it was kept in step
    with the column, but an edit made only in the map wins)."""
    default = settings.LANGUAGE_CODE
    for model_name, field in TRANSLATED:
        model = apps.get_model("outages", model_name)
        rows = []
        for row in model._base_manager.only("pk", field, f"{field}_translations").iterator(chunk_size=500):
            text = (getattr(row, f"{field}_translations") or {}).get(default)
            if text and text != getattr(row, field):
                setattr(row, field, text)
                rows.append(row)
        if rows:
            model._base_manager.bulk_update(rows, [field], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("outages", "0012_conversations")]

    operations = [
        *[
            migrations.AddField(
                model_name=model_name,
                name=f"{field}_translations",
                field=models.JSONField(
                    blank=True,
                    default=dict,
                    verbose_name=VERBOSE.get((model_name, field), "name in every language"),
                ),
            )
            for model_name, field in TRANSLATED
        ],
        migrations.RunPython(fill_default_slot, restore_plain_text),
    ]
