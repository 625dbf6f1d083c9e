"""Command-line interface: seed_demo, incident, import_areas, credits_csv, scheduler, serve.

The commands call the same write side (outages.services) as the console and the API.
"""
