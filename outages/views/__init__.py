"""The views wing: HTML for people.

- public: the home page, area and incident pages, search
- embed: the widget other sites frame (the only frameable pages), and embed.js
- history, map: past incidents; the outage map, its shapes and "use my location"
- report, subscribe: the customer's forms ("report a problem", alerts)
- origin: the same-origin check that stands in for CSRF tokens on cached pages

Every page renders the same template partials as the live push. Imports: the
write side, the read side, live and notify. Never api or admin.
"""
