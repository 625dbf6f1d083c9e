"""'Notify me in this browser' in headless Chromium, on a real daphne under the
strict CSP.

What Chromium does for real here: the permission prompt (granted through the
browser context), the service worker's registration at the site's root, and
the call of PushManager.subscribe with our VAPID key. The subscription itself
comes from the browser vendor's push service, which is not reachable from
this machine (and Chromium refuses push in incognito-like contexts): so the
second test puts a stand-in for the push service behind PushManager.subscribe
(a real P-256 key pair and auth secret made with WebCrypto in the page, and
an endpoint on a local HTTP server), and follows the subscription from the
button to the server, and a notification from the engine back to those keys.
"""

import base64
import json
import time

import http_ece
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.db import connections

from outages.models import Channel, Subscriber
from outages.notify import webpush
from tests import factories
from tests.receivers import HTTPReceiver, run_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Counts calls to Notification.requestPermission and records the arguments of
# PushManager.subscribe, then calls the browser's own.
WATCH = """
window.__asked = 0; window.__subscribeCalls = [];
const ask = Notification.requestPermission.bind(Notification);
Notification.requestPermission = (...args) => { window.__asked += 1; return ask(...args); };
const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
  .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
const subscribe = PushManager.prototype.subscribe;
PushManager.prototype.subscribe = function (options) {
  window.__subscribeCalls.push({ userVisibleOnly: options.userVisibleOnly, key: b64(options.applicationServerKey) });
  return STAND_IN ? standIn(options) : subscribe.call(this, options);
};
// The stand-in for the push service: a subscription with keys made here,
// kept across reloads as a browser keeps its own.
const wrap = (json) => json && ({
  endpoint: json.endpoint, toJSON: () => json,
  unsubscribe: async () => { localStorage.removeItem("standIn"); return true; },
});
async function standIn(options) {
  const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
  const auth = crypto.getRandomValues(new Uint8Array(16));
  const json = {
    endpoint: STAND_IN, expirationTime: null,
    keys: { p256dh: b64(await crypto.subtle.exportKey("raw", pair.publicKey)), auth: b64(auth) },
  };
  localStorage.setItem("standIn", JSON.stringify(json));
  localStorage.setItem("standInPrivate", JSON.stringify(await crypto.subtle.exportKey("jwk", pair.privateKey)));
  return wrap(json);
}
if (STAND_IN) PushManager.prototype.getSubscription = async function () {
  return wrap(JSON.parse(localStorage.getItem("standIn")));
};
"""


def watch(stand_in: str | None) -> str:
    return "const STAND_IN = " + json.dumps(stand_in) + ";\n" + WATCH


def wait_until(page, expression: str, timeout: float = 20) -> None:
    """Poll with page.evaluate (wait_for_function evaluates a string, which the CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout}s: {expression}")
        page.wait_for_timeout(100)


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def vapid():
    return webpush.generate_keys()


@pytest.fixture
def push_server(make_server, monkeypatch, vapid):
    server = make_server(
        VAPID_PRIVATE_KEY=vapid["private_key"], VAPID_PUBLIC_KEY=vapid["public_key"], WEBHOOK_ALLOW_LOOPBACK="1"
    )
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    yield server
    connections.close_all()


@pytest.fixture
def profile(chromium_path, tmp_path):
    """Chromium with a profile on disk: push is refused in browser.new_context()'s incognito-like contexts."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "profile",
            executable_path=chromium_path,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-component-update", "--disable-sync"],
        )
        yield context
        context.close()


def open_area(context, server, violations):
    page = context.new_page()
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{server.url}/areas/district-5/")
    return page, page.wait_for_selector("#push .push__button")


def test_the_button_asks_only_on_click_then_registers_the_worker_and_subscribes_with_our_key(
    profile, push_server, vapid
):
    factories.area("District 5", slug="district-5")
    profile.add_init_script(watch(None))
    violations = []
    page, button = open_area(profile, push_server, violations)
    assert button.inner_text() == "Notify me in this browser"
    page.wait_for_timeout(500)
    # Nothing before the click: no prompt, no service worker, no subscription.
    assert page.evaluate("window.__asked") == 0
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0
    assert page.evaluate("window.__subscribeCalls.length") == 0

    profile.grant_permissions(["notifications"], origin=push_server.url)
    button.click()
    wait_until(page, "window.__subscribeCalls.length === 1")
    assert page.evaluate("window.__asked") == 1
    assert page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)") == f"{push_server.url}/"
    assert page.evaluate("navigator.serviceWorker.ready.then(r => r.active.scriptURL)") == f"{push_server.url}/sw.js"
    assert page.evaluate("window.__subscribeCalls[0]") == {"userVisibleOnly": True, "key": vapid["public_key"]}
    assert violations == []


def test_a_subscription_made_on_click_arrives_at_the_server_and_a_notification_comes_back_to_its_keys(
    profile, push_server, settings
):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    settings.VAPID_PRIVATE_KEY = push_server.env["VAPID_PRIVATE_KEY"]
    settings.VAPID_PUBLIC_KEY = push_server.env["VAPID_PUBLIC_KEY"]
    district = factories.area("District 5", slug="district-5")
    push_service = HTTPReceiver()
    push_service.status = 201
    try:
        profile.add_init_script(watch(push_service.url + "/push/standin-1"))
        profile.grant_permissions(["notifications"], origin=push_server.url)
        violations = []
        page, button = open_area(profile, push_server, violations)
        page.wait_for_timeout(300)
        assert page.evaluate("window.__asked") == 0
        button.click()
        wait_until(page, "document.querySelector('#push .push__button').getAttribute('aria-pressed') === 'true'")
        assert button.inner_text() == "Notifications on — turn off"
        assert "District 5" in page.inner_text("#push .push__status")
        subscriber = Subscriber.objects.get(channel=Channel.PUSH)
        assert subscriber.address == push_service.url + "/push/standin-1"
        assert [area.slug for area in subscriber.areas.all()] == ["district-5"]

        # A reload shows it as on (asking the server), without asking anything.
        page.reload()
        wait_until(page, "document.querySelector('#push .push__button').getAttribute('aria-pressed') === 'true'")

        # An outage reaches the keys the page made.
        factories.incident(district, title="Fiber down")
        run_worker()
        [request] = push_service.requests
        jwk = page.evaluate("JSON.parse(localStorage.getItem('standInPrivate'))")
        private_key = ec.derive_private_key(int.from_bytes(b64decode(jwk["d"]), "big"), ec.SECP256R1())
        auth = b64decode(page.evaluate("JSON.parse(localStorage.getItem('standIn')).keys.auth"))
        payload = json.loads(http_ece.decrypt(request["body"], private_key=private_key, auth_secret=auth))
        assert payload["body"].startswith("There is an outage in District 5.")

        # The service worker shows it: the decrypted message handed to it as
        # the browser would (DevTools' ServiceWorker.deliverPushMessage).
        cdp = profile.new_cdp_session(page)
        registrations = []
        cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
        cdp.send("ServiceWorker.enable")
        deadline = time.monotonic() + 10
        while not registrations and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        [registration] = [r for r in registrations if r["scopeURL"] == f"{push_server.url}/" and not r["isDeleted"]]
        # Delivered again until the worker has run it (DevTools may hand the
        # first one to a worker still starting); one tag, so one notification.
        count = "navigator.serviceWorker.ready.then(r => r.getNotifications()).then(n => n.length)"
        for _attempt in range(20):
            cdp.send(
                "ServiceWorker.deliverPushMessage",
                {
                    "origin": push_server.url,
                    "registrationId": registration["registrationId"],
                    "data": json.dumps(payload),
                },
            )
            page.wait_for_timeout(500)
            if page.evaluate(count):
                break
        assert page.evaluate(count) == 1
        shown = page.evaluate(
            "navigator.serviceWorker.ready.then(r => r.getNotifications())"
            ".then(([n]) => ({title: n.title, body: n.body, tag: n.tag, url: n.data.url}))"
        )
        assert shown == {
            "title": payload["title"],
            "body": payload["body"],
            "tag": payload["tag"],
            "url": payload["url"],
        }

        # Turning it off deletes the subscription on the server.
        page.click("#push .push__button")
        wait_until(page, "document.querySelector('#push .push__button').getAttribute('aria-pressed') === 'false'")
        assert not Subscriber.objects.filter(channel=Channel.PUSH).exists()
        assert page.evaluate("localStorage.getItem('standIn')") is None  # the browser's subscription is dropped too
        assert page.evaluate("window.__asked") == 0  # since the reload: on, and off, without a prompt
        assert violations == []
    finally:
        push_service.close()
