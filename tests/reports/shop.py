"""Shop traffic posted through the real endpoint: visitors who buy, who leave the cart, who browse.
Those who leave the cart click its "shipping" link (x 80 %, y 400 px) before going."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from starlette.testclient import TestClient

from collector.sites import Site
from tests.factories import batch, click, pageview

MIN = 60_000
CART_LINK = (1024.0, 400.0)  # on a 1280 px wide page: column 80, row 25
JOURNEYS = {
    "buy": ["/", "/product/1", "/cart", "/checkout", "/thanks"],
    "checkout": ["/product/2", "/cart", "/checkout"],
    "cart": ["/product/3", "/cart", "/shipping"],
    "browse": ["/product/4", "/about"],
}


@dataclass(frozen=True)
class Traffic:
    day: date
    buy: int
    checkout: int
    cart: int
    browse: int


def post_traffic(client: TestClient, site: Site, traffic: Traffic) -> None:
    """Every session starts at noon UTC of the day, one second apart, pages a minute apart."""
    noon = int(datetime(*traffic.day.timetuple()[:3], 12, tzinfo=UTC).timestamp() * 1000)
    n = 0
    for journey in ("buy", "checkout", "cart", "browse"):
        for _ in range(getattr(traffic, journey)):
            n += 1
            t = noon + n * 1000
            events = [
                pageview(p=p, ts=t + i * MIN, vw=1280) for i, p in enumerate(JOURNEYS[journey])
            ]
            if journey == "cart":
                x, y = CART_LINK
                events.append(click(p="/cart", ts=t + MIN + 5000, x=x, y=y, vw=1280))
            if journey == "buy":
                events.append(click(p="/cart", ts=t + 2 * MIN + 5000, x=100, y=900, vw=1280))
            body = batch(site.key, events, sid=f"{traffic.day:%Y%m%d}-{n}")
            response = client.post("/e", json=body)
            assert response.status_code == 202, response.text
