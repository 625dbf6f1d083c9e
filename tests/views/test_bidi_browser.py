"""Hebrew that reads right: on a right-to-left area page the support phone,
the e-mail address and a postcode render in their own order, at a small
phone's width and a phone's (read back as innerText, and by the positions
of their characters, left to right)."""

import os

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AREA = "budapest-district-5"

# The characters of an element in visual order: each character's box, sorted
# by its left edge (lines top to bottom), read back as a string.
VISUAL_ORDER_JS = """(el) => {
  const text = el.firstChild;
  const range = document.createRange();
  const boxes = [];
  for (let i = 0; i < text.length; i++) {
    range.setStart(text, i); range.setEnd(text, i + 1);
    const box = range.getBoundingClientRect();
    if (text.data[i].trim() && box.width) boxes.push([Math.round(box.top / 4), box.left, text.data[i]]);
  }
  boxes.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return boxes.map(b => b[2]).join('');
}"""


@pytest.fixture
def demo(server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    call_command("seed_demo", stdout=open(os.devnull, "w"))


@pytest.mark.parametrize("width", [320, 390])
def test_phone_email_and_postcode_keep_their_order_in_hebrew(server, demo, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="he")
    page = context.new_page()
    page.goto(f"{server.url}/areas/{AREA}/?lang=he")
    assert page.get_attribute("html", "dir") == "rtl"
    expected = {
        "phone": "+36 1 555 0100",
        "email": "budapest-support@example.invalid",
        "postcode": "1051",
    }
    contacts = page.locator(".area-team__contact")
    found = {"phone": contacts.nth(0), "email": contacts.nth(1), "postcode": page.locator(".postcode").first}
    for name, source in expected.items():
        element = found[name]
        assert element.inner_text() == source, name
        assert element.evaluate(VISUAL_ORDER_JS) == source.replace(" ", ""), name
    context.close()
