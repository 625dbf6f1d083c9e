"""Data in every language in the console: for each translated field (the
model's translated_fields), one input per other language right after the
default one, and "hu missing" where a filled field has no text in a language."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

OTHER_LANGUAGES = [(code, name) for code, name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def slot(field: str, code: str) -> str:
    return f"{field}_{code}"


def language_fields(model, names=None) -> dict[str, forms.Field]:
    """title_hu, title_he, ...: form fields for the other languages of the model's translated fields."""
    fields: dict[str, forms.Field] = {}
    for name in model.translated_fields:
        if names is not None and name not in names:
            continue
        model_field = model._meta.get_field(name)
        for code, language in OTHER_LANGUAGES:
            attrs = {"lang": code, "dir": "auto"}
            widget = (
                forms.Textarea(attrs={**attrs, "rows": 2, "cols": 80})
                if isinstance(model_field, models.TextField)
                else forms.TextInput(attrs={**attrs, "size": 60})
            )
            fields[slot(name, code)] = forms.CharField(
                label=format_lazy("{} ({})", model_field.verbose_name, language),
                max_length=getattr(model_field, "max_length", None),
                required=False,
                widget=widget,
                help_text=_("Optional. Customers who read this language see it instead of the default text."),
            )
    return fields


class TranslatedFormMixin:
    """Mix into a ModelForm whose class declares language_fields(model)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        for name in instance.translated_fields:
            slots = getattr(instance, f"{name}_translations") or {}
            for code, _language in OTHER_LANGUAGES:
                field = self.fields.get(slot(name, code))
                if field is None:
                    continue
                field.initial = slots.get(code, "")
                if getattr(instance, name) and not field.initial:
                    field.help_text = format_lazy("{} {}", _("Missing in this language."), field.help_text)
                    field.widget.attrs["class"] = "translation-missing"

    def translations(self, name: str) -> dict[str, str]:
        """{"hu": ..., "he": ...} from the cleaned data (blank ones left out)."""
        data = self.cleaned_data
        return {
            code: data[slot(name, code)].strip()
            for code, _language in OTHER_LANGUAGES
            if (data.get(slot(name, code)) or "").strip()
        }

    def _post_clean(self):
        for name in self.instance.translated_fields:
            if slot(name, OTHER_LANGUAGES[0][0]) in self.fields and hasattr(self, "cleaned_data"):
                setattr(self.instance, f"{name}_translations", self.translations(name))
        super()._post_clean()


def missing_label(obj) -> str:
    return ", ".join(str(_("%(code)s missing") % {"code": code}) for code in obj.missing_languages()) or "✓"


class TranslatedAdmin:
    """Mix into a ModelAdmin of a Translated model: the language inputs next
    to each field, the raw JSON maps hidden, and a "translations" column."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = kwargs.get("form", self.form)
        kwargs["form"] = type(f"Translated{base.__name__}", (TranslatedFormMixin, base), language_fields(self.model))
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        fields = []
        hidden = {f"{name}_translations" for name in self.model.translated_fields}
        extra = {slot(name, code) for name in self.model.translated_fields for code, _language in OTHER_LANGUAGES}
        for name in super().get_fields(request, obj):
            if name in hidden or name in extra:
                continue
            fields.append(name)
            if name in self.model.translated_fields:
                fields.extend(slot(name, code) for code, _language in OTHER_LANGUAGES)
        return fields

    @admin.display(description=_("translations"))
    def translations_missing(self, obj):
        return missing_label(obj)
