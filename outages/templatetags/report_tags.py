"""The report form on pages whose view does not build it (the area page)."""

from django import forms, template

from ..views.report import ReportForm

register = template.Library()


@register.simple_tag
def report_form_for(area, form=None):
    """The form given (with the customer's input and errors), or a fresh one for the area."""
    if isinstance(form, forms.Form):
        return form
    return ReportForm(area=area)
