"""Nothing a stranger sends runs script in the dashboard, in headless Chromium against a real
server: values posted to POST /e (by hand and by the real snippet) on every page a logged-in
user can reach, the same values reflected through every parameter, the report's HTML and its
e-mail; other sites can neither frame the dashboard nor carry its login cookie."""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
import redis
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect
from starlette.testclient import TestClient

from clicktrail.demo.background import BackgroundServer, free_port
from clicktrail.web.app import web_app
from clicktrail.web.tokens import create_token
from clicktrail.worker import Processor, Worker
from collector import keys, sites
from collector.pages import BANDS, PageTemplates
from collector.settings import Settings
from collector.sites import Site
from heatmap.aggregate import Aggregator
from heatmap.view import MAP_KINDS
from reports.delivery.email import build_message
from reports.delivery.targets import EmailTarget
from reports.scheduled.build import build_report
from reports.scheduled.config import FunnelDefinition
from reports.scheduled.files import write_report
from reports.sessions.builder import SessionBuilder
from tests.clicktrail.hostile import HOSTILE_PATHS, PAYLOADS, post_hostile_visits
from tests.clicktrail.web.test_security import DASHBOARD_PARAMS
from tests.factories import BROWSER_UA, ORIGIN, stream_entries
from tests.tracker_js.pages import serve_pages, snippet_tag

pytestmark = pytest.mark.slow

# Set before any page script: records what a payload would do if it ever ran.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));
"""
# The snippet's own page: a label, class names, UTM values, a path and a custom event name
# that are payloads. Escaped here, so they reach the snippet as text.
LANDING_PATH = "/x'onmouseover='window.__xss=10'"  # Chromium leaves ' and = unencoded in paths
LANDING = """<!doctype html><html><head><meta charset="utf-8">{snippet}</head><body>
<button id="go" class="{cls}">{label}</button>
<a id="next" href="/cart">cart</a>
</body></html>"""
PAGE_TEMPLATES = (
    "async () => (await (await fetch('/api/sites/shop/pages')).json()).map((r) => r.template)"
)
FUNNEL = FunnelDefinition("hostile", ("/", HOSTILE_PATHS[0], "/thanks"))


@dataclass(frozen=True)
class Dashboard:
    url: str
    token: str
    site: Site


@pytest.fixture
def dashboard(
    make_client: Callable[..., TestClient],
    redis_url: str,
    redis_client: redis.Redis,
    browser: Browser,
    tmp_path: Path,
) -> Iterator[Dashboard]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serve_pages() as (origin, pages):
        site = sites.add_site(redis_client, sites.new_site("shop", [ORIGIN, origin]))
        post_hostile_visits(make_client(rate_ip_per_s=1e6), site)
        app = web_app(Settings(data_dir=tmp_path, port=port), redis_url, None, dashboard=True)
        with BackgroundServer(app, port):
            visit_with_the_snippet(browser, origin, pages, url, site, redis_client)
            processors: list[Processor] = [
                Aggregator(PageTemplates(), 90),
                SessionBuilder(redis_client),
            ]
            Worker(redis_client, processors).run(burst=True)
            secret, _ = create_token(redis_client, "browser test")
            yield Dashboard(url, secret, site)


def visit_with_the_snippet(
    browser: Browser, origin: str, pages: dict[str, str], collector: str, site: Site,
    client: redis.Redis,
) -> None:  # fmt: skip
    """A real visitor on a page whose content is hostile: the snippet posts it all."""
    tag = snippet_tag(collector, site.key, labels="true")
    pages["*"] = LANDING.format(
        snippet=tag, cls=html.escape(PAYLOADS[1]), label=html.escape(PAYLOADS[0])
    )
    context = browser.new_context(user_agent=BROWSER_UA)
    try:
        page = context.new_page()
        utm = urlencode({"utm_source": PAYLOADS[2], "utm_campaign": PAYLOADS[3]})
        page.goto(f"{origin}{quote(LANDING_PATH, safe=chr(39) + '=/')}?{utm}")
        page.wait_for_function("() => typeof window.clicktrail === 'function'")
        page.click("#go")
        page.evaluate("name => window.clicktrail('event', name)", PAYLOADS[5])
        page.click("#next")
        page.wait_for_url(f"{origin}/cart")
        page.goto("about:blank")  # pagehide: the last batch goes out
    finally:
        context.close()
    stream = keys.events_stream("shop", 0)

    def posted() -> list[bytes]:
        return [v for _, fields in stream_entries(client, stream) for v in fields.values()]

    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while not any(b"window.__xss=10" in v for v in posted()) or not any(
        PAYLOADS[5].encode() in v for v in posted()
    ):
        assert datetime.now(UTC) < deadline, "the snippet's events did not arrive"
        time.sleep(0.1)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, user_agent=BROWSER_UA)
    context.add_init_script(WATCH)
    yield context
    context.close()


@pytest.fixture
def dialogs() -> list[str]:
    return []


@pytest.fixture
def page(context: BrowserContext, dialogs: list[str]) -> Page:
    page = context.new_page()

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return page


def log_in(page: Page, dashboard: Dashboard) -> None:
    page.goto(f"{dashboard.url}/login#token={dashboard.token}")
    page.wait_for_url(f"{dashboard.url}/")


def assert_nothing_ran(page: Page, dialogs: list[str], where: str) -> None:
    assert page.evaluate("window.__xss") is None, f"a payload ran on {where}"
    assert dialogs == [], f"a dialog opened on {where}"
    injected = page.evaluate(
        "document.querySelectorAll('[onerror],[onload],[onmouseover],script:not([src])').length"
    )
    assert injected == 0, f"{where} holds markup a stranger wrote"
    assert page.evaluate("window.__violations") == [], f"{where} tried to break the policy"


def visit(page: Page, dialogs: list[str], url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status < 500, url
    page.wait_for_load_state("load")
    assert_nothing_ran(page, dialogs, url)


def test_values_posted_by_strangers_run_nowhere_in_the_dashboard(
    dashboard: Dashboard, page: Page, dialogs: list[str]
) -> None:
    log_in(page, dashboard)
    base = dashboard.url
    templates = page.evaluate(PAGE_TEMPLATES)
    templates = sorted(set(templates))
    assert set(HOSTILE_PATHS) <= set(templates)
    assert LANDING_PATH in templates  # the snippet's page, with its path as the visitor had it

    seen: set[str] = set()
    queue = [f"{base}/"]
    while queue:  # every page linked from the home page, and from those
        url = queue.pop()
        if url in seen or len(seen) > 80:
            continue
        seen.add(url)
        visit(page, dialogs, url)
        for link in page.eval_on_selector_all("a[href]", "links => links.map((a) => a.href)"):
            if link.startswith(base) and "/api/" not in link and "/static/" not in link:
                queue.append(link.split("#")[0])
    assert any("/heatmap?page=" in url for url in seen), "the crawl reached the heatmaps"

    for template in templates:  # every map kind of every page
        for kind in MAP_KINDS:
            visit(
                page,
                dialogs,
                f"{base}/sites/shop/heatmap?{urlencode({'page': template, 'kind': kind})}",
            )
    for band in BANDS:
        visit(
            page,
            dialogs,
            f"{base}/sites/shop/heatmap?{urlencode({'page': HOSTILE_PATHS[0], 'band': band})}",
        )
    expect(page.locator("td.element .selector").first).to_be_visible()
    labels = page.locator("td.element .element-label").all_text_contents()  # as text
    assert labels and set(labels) <= {p[:64] for p in PAYLOADS}, labels
    page.locator("tr[data-box]").first.hover()  # the outline: positioned, nothing run
    expect(page.locator("[data-outline]")).to_be_visible()

    # The funnel: hostile pages suggested for its steps, and as steps with their next pages.
    visit(page, dialogs, f"{base}/sites/shop/funnel")
    suggested = page.eval_on_selector_all("#templates option", "os => os.map((o) => o.value)")
    assert set(HOSTILE_PATHS) <= set(suggested)
    steps = urlencode({"step": FUNNEL.steps}, doseq=True)
    visit(page, dialogs, f"{base}/sites/shop/funnel?{steps}")
    for details in page.locator("details").all():
        details.click()
    expect(page.locator("details[open]").first).to_contain_text(HOSTILE_PATHS[1])
    assert_nothing_ran(page, dialogs, "the funnel's drop-off lists")

    # The journey map, drawn in the browser: hostile pages as labels, tooltips and the panel.
    visit(page, dialogs, f"{base}/sites/shop/journeys?rows=10&steps=3&events=true")
    nodes = page.locator("g.node.step")
    expect(nodes.first).to_be_attached()
    for node in nodes.all():
        node.focus()  # its tooltip
        node.press("Enter")  # its panel
    names = page.eval_on_selector_all("g.node.step", "gs => gs.map((g) => g.ariaLabel)")
    assert any(HOSTILE_PATHS[0] in name for name in names)
    assert_nothing_ran(page, dialogs, "the journey map")

    # Shown as text: the values reached the pages, escaped (the overview's lists in the browser).
    visit(page, dialogs, f"{base}/sites/shop/pages")
    expect(page.get_by_role("cell", name=HOSTILE_PATHS[0]).first).to_be_visible()
    visit(page, dialogs, f"{base}/sites/shop")
    page.wait_for_selector("[data-overview][data-loaded]")
    for button in page.get_by_role("button", name="Show all").all():
        if button.is_visible():
            button.click()
    expect(page.get_by_role("cell", name=HOSTILE_PATHS[0]).first).to_be_visible()
    expect(page.locator('[data-list="sources"]')).to_contain_text(PAYLOADS[2].lower())
    page.locator("[data-chart] rect.overlay").hover()
    assert_nothing_ran(page, dialogs, "the overview")
    page.wait_for_function("() => document.querySelector('[data-live-types]').textContent !== ''")
    assert_nothing_ran(page, dialogs, "the live panel")


def test_values_reflected_from_any_parameter_run_nowhere(
    dashboard: Dashboard, page: Page, dialogs: list[str]
) -> None:
    log_in(page, dashboard)
    for payload in PAYLOADS[:4]:
        for path, names in DASHBOARD_PARAMS.items():
            for name in (*names, payload):
                value = "/" + payload if name in ("next", "page", "step") else payload
                visit(page, dialogs, f"{dashboard.url}{path}?{urlencode({name: value})}")
    context = page.context
    context.clear_cookies()  # the login page as a stranger's link finds it
    for payload in PAYLOADS:
        visit(page, dialogs, f"{dashboard.url}/login?{urlencode({'next': '/' + payload})}")
        page.get_by_label("Token").fill(dashboard.token)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state("load")
        assert_nothing_ran(page, dialogs, "the page after logging in")
        context.clear_cookies()


def test_the_report_and_its_email_run_nothing_a_stranger_wrote(
    dashboard: Dashboard, redis_client: redis.Redis, page: Page, dialogs: list[str],
    tmp_path: Path,
) -> None:  # fmt: skip
    today = datetime.now(UTC).date()
    report = build_report(redis_client, dashboard.site, FUNNEL, today - timedelta(days=1), today)
    steps = report.data["current"]["steps"]
    assert steps[1]["dropped"] > 0 and steps[1]["next_pages"], "hostile pages to list"
    files = write_report(report, tmp_path / "report", base_url=dashboard.url)
    visit(page, dialogs, files.html.as_uri())
    expect(page.get_by_text(HOSTILE_PATHS[1]).first).to_be_visible()

    message = build_message(EmailTarget(("owner@shop.example",), "ct@shop.example"), files)
    body = message.get_body(("html",))
    assert body is not None
    email = tmp_path / "email.html"
    email.write_text(body.get_content())
    visit(page, dialogs, email.as_uri())
    expect(page.get_by_text(HOSTILE_PATHS[1]).first).to_be_visible()


def test_another_site_cannot_frame_the_dashboard(dashboard: Dashboard, page: Page) -> None:
    log_in(page, dashboard)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "frame-ancestors" in m.text else None)
    with serve_pages() as (origin, pages):
        pages["/"] = f'<iframe id="f" src="{dashboard.url}/sites/shop/funnel"></iframe>'
        page.goto(f"{origin.replace('127.0.0.1', 'localhost')}/")
        page.wait_for_load_state("load")
        # The refusal is a console message, which may come after the load (from the frame's own
        # process): waited for, not given a fixed 300 ms.
        deadline = time.monotonic() + 10
        while not refused and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert refused, "Chromium refused the frame under frame-ancestors 'none'"
        frame = page.frame_locator("#f")
        expect(frame.get_by_role("button", name="Show funnel")).to_have_count(0)


def test_a_link_from_another_site_reaches_the_page_without_the_strict_cookie_leaving(
    dashboard: Dashboard, page: Page
) -> None:
    log_in(page, dashboard)
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["clicktrail_token"]["sameSite"] == "Strict"
    assert cookies["clicktrail_token"]["httpOnly"]
    with serve_pages() as (origin, pages):
        # Another site, not just another port: cookies' sites ignore ports.
        origin = origin.replace("127.0.0.1", "localhost")
        pages["/"] = f'<a id="go" href="{dashboard.url}/sites/shop">the report link</a>'
        answers: list[int] = []
        page.on("response", lambda r: answers.append(r.status)
                if r.url == f"{dashboard.url}/sites/shop" else None)  # fmt: skip
        page.goto(f"{origin}/")
        page.click("#go")
        page.wait_for_url(f"{dashboard.url}/sites/shop")
        expect(page.get_by_role("heading", name="shop")).to_be_visible()
        # The link itself arrived without the cookie (to the login page); the login page went
        # on by itself, and that navigation of our own carried it.
        assert answers == [303, 200]
        # The logged-out case: the login page stays, it does not go round in circles.
        page.goto(f"{dashboard.url}/")
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(f"{dashboard.url}/login")
        page.goto(f"{origin}/")
        page.click("#go")
        page.wait_for_url(f"{dashboard.url}/login?next=/sites/shop")
        page.wait_for_timeout(300)
        assert page.url == f"{dashboard.url}/login?next=/sites/shop"
