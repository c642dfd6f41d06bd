"""The snippet's element labels in Chromium: what an element is called or shows, masked, never
what is typed; none at all with data-labels="false"."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext

from tests.tracker_js.conftest import Site
from tests.tracker_js.pages import snippet_tag

pytestmark = pytest.mark.slow

LABELLED = """<!doctype html>
<html><head><meta charset="utf-8"><title>labels</title>{snippet}</head><body>
<main>
  <a id="card" href="#p" style="display:block;padding-bottom:20px">
    <h3 id="name">Blue   linen shirt</h3><p>19.99 €</p>
  </a>
  <button id="close" aria-label="Close the basket">&times;</button>
  <a id="logo" href="#home"><img id="home" alt="Shop home" width="40" height="20"></a>
  <span id="tip" title="Free returns for 30 days"
    style="display:inline-block;width:20px;height:20px"></span>
  <button id="order">Order 20261202 for ann@example.com</button>
  <button id="long">{long}</button>
  <input id="email" type="email" value="ann@example.com">
  <div id="note" contenteditable="true">typed by a visitor</div>
  <label id="news">News <textarea id="message">a message</textarea></label>
</main>
</body></html>"""
LONG = "Add the blue linen shirt in size M to the basket and go on shopping " * 2
LABELS = {
    "h3#name": "Blue linen shirt",
    "a#card": "Blue linen shirt 19.99 €",  # white space collapsed, a price kept
    "button#close": "Close the basket",  # its aria-label, not its "&times;"
    "img#home": "Shop home",  # an image's alt
    "span#tip": "Free returns for 30 days",  # a title
    "button#order": "Order #### for [email]",
    "button#long": LONG[:64].strip(),
    "input#email": "",  # never a field's value
    "div#note": "",  # nor what is typed
    "textarea#message": "",
}


def clicked_labels(context: BrowserContext, site: Site, **attrs: str) -> dict[str, str]:
    """Click every element of LABELS (the card away from its heading); the labels sent."""
    site.pages["/labels"] = LABELLED.format(
        snippet=snippet_tag(site.collector.url, site.key, **attrs), long=LONG
    )
    page = context.new_page()
    page.goto(site.origin + "/labels")
    page.wait_for_function("() => typeof window.clicktrail === 'function'")
    for selector in LABELS:
        box = page.locator(selector).bounding_box()
        assert box, selector
        y = box["y"] + (box["height"] - 4 if selector == "a#card" else box["height"] / 2)
        page.mouse.click(box["x"] + 2, y)
    page.close()  # held clicks go out as the page is left
    events = site.wait_for(lambda ev: len([e for e in ev if type(e).__name__ == "Click"]) >= 10)
    return {e.sel: e.label for e in events if type(e).__name__ == "Click"}


def test_a_click_sends_what_the_element_is_called_or_shows_masked_by_default(
    context: BrowserContext, site: Site
) -> None:
    assert clicked_labels(context, site) == LABELS


def test_data_labels_false_sends_no_label(context: BrowserContext, site: Site) -> None:
    assert set(clicked_labels(context, site, labels="false").values()) == {""}
