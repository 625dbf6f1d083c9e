"""Hebrew that reads right: on a right-to-left area page the support phone,
the e-mail address and a postcode render in their own order, at a small
phone's width and a phone's (read back as innerText, and by the positions
of their characters, left to right); a list of Latin area names on a Hebrew
incident page keeps each name in its own order and the list right to left."""

import pytest

from tests import factories

from .test_widget_browser import off_loop

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

LINE_BOX_JS = "(r) => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom})"


@pytest.fixture
def demo(server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    factories.seed_demo_unannounced()


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


@pytest.mark.parametrize("width", [320, 390])
def test_a_list_of_latin_area_names_reads_name_by_name_right_to_left_in_hebrew(server, browser, width):
    names = ["Budapest District V", "Budapest District VI"]
    areas = [off_loop(factories.area, name, slug=f"district-{n}") for n, name in enumerate(names)]
    incident = off_loop(factories.incident, *areas, title="Fiber cut")
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="he")
    page = context.new_page()
    page.goto(f"{server.url}/incidents/{incident.pk}/?lang=he")
    # The socket's first message (its snapshot) replaces the card: read the one it left.
    page.wait_for_selector("#live[data-updated]", state="attached", timeout=10_000)
    links = page.locator(f"#incident-{incident.pk} dd bdi > a").all()
    assert [link.inner_text() for link in links] == names
    for link, name in zip(links, names, strict=True):
        assert link.evaluate(VISUAL_ORDER_JS) == name.replace(" ", ""), name
    # The list follows the Hebrew sentence: the second name starts left of where the
    # first ends on the same line, or on a later line.
    first_end = links[0].evaluate(f"(el) => ({LINE_BOX_JS})([...el.getClientRects()].at(-1))")
    second_start = links[1].evaluate(f"(el) => ({LINE_BOX_JS})(el.getClientRects()[0])")
    same_line = abs(first_end["top"] - second_start["top"]) < 2
    assert (same_line and second_start["right"] <= first_end["left"] + 1) or (
        second_start["top"] >= first_end["bottom"] - 1
    ), (first_end, second_start)
    context.close()
