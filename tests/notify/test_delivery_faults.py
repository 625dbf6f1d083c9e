"""Deliveries under failure: webhook receivers answering 5xx or timing out
then recovering, and a real `manage.py db_worker` killed with SIGKILL in the
middle of a batch then restarted. Delivery is at-least-once: nothing may be
lost; a duplicate is possible only for a message in flight at the kill and
carries the same Message-ID / webhook-id, so receivers can drop it. Each test
prints what it saw, duplicates included."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from outages.models import Channel, Delivery, Subscriber
from outages.notify import engine
from outages.services import subscriptions
from tests import factories
from tests.conftest import ROOT, server_env
from tests.receivers import HTTPReceiver, SMTPSink, run_worker, time_passes

pytestmark = pytest.mark.django_db(transaction=True)


def confirmed(address: str, *areas, channel=Channel.EMAIL) -> Subscriber:
    outcome = subscriptions.subscribe(channel=channel, address=address, areas=areas, language="en")
    return subscriptions.confirm(outcome.subscriber)


class FlakyReceiver(HTTPReceiver):
    """Answers `status`, after sleeping `delay` seconds (longer than the sender's timeout = a timeout)."""

    def __init__(self):
        super().__init__()
        self.delay = 0.0
        handler = self.server.RequestHandlerClass
        original = handler.do_POST
        receiver = self

        def do_post(request_handler):
            if receiver.delay:
                time.sleep(receiver.delay)
            original(request_handler)

        handler.do_POST = do_post


def test_webhook_receivers_failing_with_5xx_and_timeouts_then_recovering_get_everything(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    settings.WEBHOOK_TIMEOUT = 1
    receiver = FlakyReceiver()
    try:
        district = factories.area()
        hooks = 12
        for n in range(hooks):
            confirmed(f"{receiver.url}/hook/{n}", district, channel=Channel.WEBHOOK)
        rounds = []
        receiver.status = 503
        factories.incident(district)
        run_worker()
        rounds.append(("503", len(receiver.requests)))
        receiver.status, receiver.delay = 204, 1.5  # answers, but after the sender gave up
        time_passes()
        run_worker()
        rounds.append(("timeout", len(receiver.requests)))
        receiver.status, receiver.delay = 500, 0
        time_passes()
        run_worker()
        rounds.append(("500", len(receiver.requests)))
        receiver.status = 204
        time_passes()
        run_worker()
        rounds.append(("recovered", len(receiver.requests)))
        time.sleep(0.5)

        statuses = Counter(Delivery.objects.values_list("status", flat=True))
        per_hook = Counter(r["path"] for r in receiver.requests)
        ids_per_hook = {
            path: {r["headers"]["webhook-id"] for r in receiver.requests if r["path"] == path} for path in per_hook
        }
        # Received during the timeout round: the receiver got them, the sender did not know: duplicates.
        duplicates = sum(1 for r in receiver.requests[rounds[0][1] : rounds[1][1]])
        print(
            f"\n{hooks} webhook receivers; requests after each round {rounds}; deliveries {dict(statuses)}; "
            f"attempts per receiver {sorted(set(per_hook.values()))}; copies a receiver accepted twice "
            f"(timed out, then retried): {duplicates} (same webhook-id)"
        )
        assert statuses == {Delivery.Status.SENT: hooks}
        assert len(per_hook) == hooks, "a receiver never got the message"
        assert all(len(ids) == 1 for ids in ids_per_hook.values()), "a retry changed its webhook-id"
    finally:
        receiver.close()


class SlowSMTPSink(SMTPSink):
    async def handle_DATA(self, server, session, envelope):
        import asyncio

        await asyncio.sleep(0.05)
        return await super().handle_DATA(server, session, envelope)


def start_worker(sink: SMTPSink) -> subprocess.Popen:
    env = server_env(EMAIL_URL=f"smtp://127.0.0.1:{sink.port}", NOTIFY_BATCH_SIZE=5)
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.2", "--no-startup-delay", "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.faults
def test_a_worker_killed_with_sigkill_mid_batch_and_restarted_loses_no_message():
    sink = SlowSMTPSink().start()
    workers = []
    try:
        district = factories.area()
        people = [confirmed(f"p{n}@example.com", district) for n in range(60)]
        factories.incident(district)
        worker = start_worker(sink)
        workers.append(worker)
        deadline = time.monotonic() + 60

        def notices():
            with sink.lock:
                return [m for m in sink.messages if m["Message-ID"].startswith("<notice.")]

        while len(notices()) < 12:
            assert time.monotonic() < deadline, "the worker sent nothing"
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        at_kill = len(notices())
        in_flight = Delivery.objects.filter(status=Delivery.Status.SENDING).count()

        # The scheduler's sweep hands the dead worker's claims back once they are stale.
        assert engine.sweep(timezone.now() + timedelta(minutes=6)) >= 1
        workers.append(start_worker(sink))
        deadline = time.monotonic() + 90
        while Delivery.objects.exclude(status=Delivery.Status.SENT).exists():
            assert time.monotonic() < deadline, Counter(Delivery.objects.values_list("status", flat=True))
            time.sleep(0.2)
        time.sleep(0.5)
        received = notices()
        recipients = Counter(m["To"] for m in received)
        ids = {m["To"]: set() for m in received}
        for m in received:
            ids[m["To"]].add(m["Message-ID"])
        duplicates = sum(count - 1 for count in recipients.values())
        print(
            f"\n60 subscribers; worker killed (SIGKILL) after {at_kill} messages with {in_flight} claimed "
            f"deliveries in flight; after the restart: {len(received)} messages, {len(recipients)} subscribers "
            f"reached, duplicates {duplicates} (same Message-ID)"
        )
        assert set(recipients) == {p.address for p in people}, "a subscriber got nothing"
        assert all(len(message_ids) == 1 for message_ids in ids.values()), "a duplicate had a new Message-ID"
        assert duplicates <= in_flight
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(10)
        sink.stop()
