"""Values a stranger might post to `POST /e` to run script wherever they are shown. Each payload,
if it ever ran, would set `window.__xss` (or open a dialog), which the browser tests look for."""

from __future__ import annotations

from starlette.testclient import TestClient

from collector.sites import Site
from tests.factories import batch, click, event, now_ms, pageview

PAYLOADS = (
    '<img src=x onerror="window.__xss=1">',
    '"><svg onload=window.__xss=2>',
    "'><img src=x onerror=window.__xss=3 alt='",
    "</title></textarea></script><script>window.__xss=4;alert(4)</script>",
    "javascript:window.__xss=5",
    "{{7*7}}<b onmouseover=window.__xss=6>",
)
# As page paths, which are also the page titles; and as steps of a funnel.
HOSTILE_PATHS = tuple("/" + p for p in PAYLOADS)
# What a page must never contain as markup: the start of each payload's element.
RAW_MARKUP = ("<img src=x", "<svg onload", "<script>window", "<b onmouseover")

MIN_MS = 60_000


def post_hostile_visits(client: TestClient, site: Site, sessions: int = 3) -> None:
    """Visits on every band whose paths, referrers, UTM values, selectors, labels and custom
    event names are payloads: / -> /cart -> each hostile path, clicking, rage-clicking,
    scrolling and firing a custom event on each."""
    t0 = now_ms() - 3 * 3_600_000
    for n in range(sessions):
        for vw in (375, 800, 1280):
            payload = PAYLOADS[n % len(PAYLOADS)]
            start = t0 + (n * 3 + vw % 7) * 10 * MIN_MS
            events = [
                pageview(p="/", ts=start, vw=vw, pv=f"pv-{n}-{vw}-0", ref=payload[:256],
                         utm={"source": payload, "medium": payload, "campaign": payload}),
                pageview(p="/cart", ts=start + MIN_MS, vw=vw, pv=f"pv-{n}-{vw}-1", ref="/"),
            ]  # fmt: skip
            for i, path in enumerate(HOSTILE_PATHS, 2):
                ts, pv = start + i * MIN_MS, f"pv-{n}-{vw}-{i}"
                label = PAYLOADS[i % len(PAYLOADS)][:64]
                events += [
                    pageview(p=path, ts=ts, vw=vw, pv=pv, ref="/cart"),
                    click(p=path, ts=ts + 1000, vw=vw, pv=pv, x=vw / 2, y=300,
                          sel=PAYLOADS[i % len(PAYLOADS)], label=label, tag="button"),
                    event("rage", p=path, ts=ts + 2000, pv=pv, x=vw / 3, y=200, vw=vw, vh=800,
                          n=4, sel=PAYLOADS[(i + 1) % len(PAYLOADS)]),
                    event("scroll", p=path, ts=ts + 3000, pv=pv, depth=1600, dh=3000, vh=800,
                          vw=vw),
                    event("custom", p=path, ts=ts + 4000, pv=pv,
                          name=PAYLOADS[i % len(PAYLOADS)][:64],
                          props={PAYLOADS[0][:64]: PAYLOADS[1]}),
                ]  # fmt: skip
            body = batch(site.key, events, sid=f"hostile-{n}-{vw}")
            response = client.post("/e", json=body)
            assert response.status_code == 202, response.text
            assert response.json()["accepted"] == len(events)
