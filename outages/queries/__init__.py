"""The read side: what each page, fragment and channel shows.

- current: status now (banner, areas, incidents, search, components, facts)
- history: the public 90 days, availability, ETA honesty
- ops_history: the console's history report per region, area, service, team
- credits: when an outage earns a service credit, and its sentence
- credit_export: the billing CSV
- callback_slots: a local team's hours, capacity, promised times and promise record
- problem_reports: customers' reports, counted (notice, unusual areas)
- announcements: the customer sentence every channel says (page, IVR, messages)

Imports: models, geo, i18n, permissions. Never the write side or anything above.
"""
