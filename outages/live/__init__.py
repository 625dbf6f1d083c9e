"""The live wing: what open pages see change without reloading.

How a change travels:
1. A write commits; outages.events calls publish.publish_change().
2. publish renders every changed fragment once per language (fragments),
   stores them as one LiveChange row (the outbox), bumps the page cache's
   status version (pagecache) and announces the row on the channel layer.
   (A one-shot command announces the change unrendered; each relay renders
   it for its own clients.)
3. In every server process one relay.Relay receives the row, from the
   channel layer at once or from the outbox poll if that message was lost,
   and hands the ready frames to the consumers of that process (consumers,
   routing). Consumers never touch the database for a push.
4. A browser that cannot keep a socket polls the same path (poll).

Modules: groups (names and paths), fragments, publish, relay, consumers,
routing, poll, pagecache, census (what is open, per group and language);
wake (how the processes of one SQLite database wake each other and share
the census); server runs daphne for `manage.py serve` (a shutdown that
drains its websockets). Imports: the read side (outages.queries), models,
i18n. Never the write side, views, api or admin.
"""
