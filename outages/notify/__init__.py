"""The notify wing: telling subscribers, by every channel, what the page says.

- engine: the delivery engine (plan once, claim batches, record each outcome,
  retry with backoff, sweep up after a dead worker) and its deliver_event task
- outcomes: sent / failed / cancelled, backoff, and the permanent and
  temporary failures every channel raises
- compose: the message of one event in one language (the page's sentence)
- links: signed confirm, manage and unsubscribe links
- email, sms, webhook: one module per channel: compose its form, send it
- confirm: the double opt-in and "manage" messages, as a task

Imports: the read side, models, core helpers (ssrf, site). Never the write
side (it hands events over through outages.events), views, api or admin.
"""
