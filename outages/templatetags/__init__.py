"""Template tags: status icons and times, credit sentences, facts for the console,
the report form and the widget. Imports: the read side and models (the report
form from outages.views.report).
"""
