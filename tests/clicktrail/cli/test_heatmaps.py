"""`clicktrail heatmap`, `pages` and `elements` over events posted through POST /e and
aggregated by the worker."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import redis
from PIL import Image
from starlette.testclient import TestClient

from clicktrail.cli.main import main
from clicktrail.worker import Worker
from collector.pages import PageTemplates
from collector.sites import Site
from heatmap.aggregate import Aggregator
from heatmap.render import LEGEND_PX
from tests.factories import batch, click, pageview


@pytest.fixture
def aggregated(
    make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site
) -> Site:
    client = make_client(rate_ip_per_s=1e6)
    rng = np.random.default_rng(11)
    for i in range(40):
        page = f"/product/{i}"

        def at(x0: float, x1: float, y0: float, y1: float, **fields: object) -> dict[str, object]:
            x, y = float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1))
            return click(p=page, x=x, y=y, **fields)  # noqa: B023 - called at once

        events = [pageview(p=page, vw=1280)]
        events += [
            at(1000, 1060, 600, 640, sel="button#buy", label="Add to cart") for _ in range(8)
        ]
        events += [at(0, 1280, 0, 2000, sel="a.more", dead=True)]
        assert client.post("/e", json=batch(site.key, events)).status_code == 202
    Worker(redis_client, [Aggregator(PageTemplates(), 90)]).run(burst=True)
    return site


def run(capsys: pytest.CaptureFixture[str], redis_url: str, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--redis-url", redis_url])
    out, err = capsys.readouterr()
    return code, out, err


def test_heatmap_draws_the_clicks_of_every_product_page_where_they_were(
    aggregated: Site, redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_png = tmp_path / "product.png"
    code, out, _ = run(
        capsys, redis_url, "heatmap", "--site", "shop", "--page", "/product/123", "-o", str(out_png)
    )
    assert code == 0
    assert "/product/:id, desktop" in out and "360 click events, 40 page views" in out
    with Image.open(out_png) as png:
        image = np.asarray(png.convert("RGB")).astype(int)
    page = image[LEGEND_PX:]
    redness = page[..., 0] - page[..., 1]
    ys, xs = np.nonzero(redness == redness.max())
    assert 1000 <= xs.mean() <= 1060 and 600 <= ys.mean() <= 640


def test_dead_click_map_and_scroll_map_render(
    aggregated: Site, redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def heatmap(*options: str) -> tuple[int, str, str]:
        return run(capsys, redis_url, "heatmap", "--site", "shop", "--page", "/product/1", *options)

    code, out, _ = heatmap("--kind", "dead", "--width", "640", "-o", str(tmp_path / "dead.png"))
    assert code == 0 and "40 dead events" in out
    with Image.open(tmp_path / "dead.png") as image:
        assert image.width == 640
    code, out, _ = heatmap("--kind", "scroll", "-o", str(tmp_path / "scroll.png"))
    assert code == 0 and "no events in this period" in out  # this test sent no scroll events


def test_pages_and_elements_list_what_was_clicked(
    aggregated: Site, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, redis_url, "pages", "--site", "shop", "--json")
    assert json.loads(out) == [
        {
            "template": "/product/:id",
            "band": "desktop",
            "views": 40,
            "clicks": 360,
            "rage": 0,
            "dead": 40,
        }
    ]
    _, out, _ = run(
        capsys, redis_url, "elements", "--site", "shop", "--page", "/product/9", "--json"
    )
    buy, more = json.loads(out)
    assert buy == {
        "selector": "button#buy",
        "label": "Add to cart",
        "clicks": 320,
        "rage": 0,
        "dead": 0,
        "box": {"x0": 78, "y0": 37, "x1": 82, "y1": 39},  # 1000-1060 of 1280 px, 600-640 px
    }
    assert (more["selector"], more["label"], more["clicks"], more["dead"]) == ("a.more", "", 40, 40)


CARD = "html>body>main#shop>div.grid>div.card:nth-of-type(2)>a.product-link"


def test_elements_show_the_label_first_and_the_selector_cut_at_its_parts(
    client: TestClient, redis_client: redis.Redis, site: Site, redis_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    events = [pageview(p="/shop"), click(p="/shop", sel=CARD, label="Blue linen shirt 19.99 €")]
    events.append(click(p="/shop", sel="a.x-" + "long" * 20, label="L" * 64))
    assert client.post("/e", json=batch(site.key, events)).status_code == 202
    Worker(redis_client, [Aggregator(PageTemplates(), 90)]).run(burst=True)
    _, out, _ = run(capsys, redis_url, "elements", "--site", "shop", "--page", "/shop")
    header, long, card = out.splitlines()  # one click each: by selector
    assert header.split() == ["label", "element", "clicks", "rage", "%", "dead", "%"]
    assert card.startswith("Blue linen shirt 19.99 €     …>div.card:nth-of-type(2)>a.product-link ")
    assert long.startswith("L" * 27 + "… …ong" + "long" * 9 + " ")  # no '>' to cut at
    assert all(len(line) == len(header) for line in (card, long))
    _, out, _ = run(capsys, redis_url, "elements", "--site", "shop", "--page", "/shop", "--wide")
    _, long, card = out.splitlines()
    assert card.startswith(f"Blue linen shirt 19.99 € {' ' * 40}{CARD} ")
    assert long.startswith("L" * 64 + " a.x-" + "long" * 20)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["heatmap", "--site", "nope", "--page", "/", "-o", "x.png"], "no site named 'nope'"),
        (
            [
                "heatmap",
                "--site",
                "shop",
                "--page",
                "/",
                "--from",
                "2026-02-01",
                "--to",
                "2026-01-01",
                "-o",
                "x.png",
            ],
            "--from/--to",
        ),
        (
            [
                "heatmap",
                "--site",
                "shop",
                "--page",
                "/",
                "--background",
                "/no/such.png",
                "-o",
                "x.png",
            ],
            "--background: cannot read",
        ),
    ],
)
def test_bad_values_exit_2_naming_the_option(
    aggregated: Site,
    redis_url: str,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    code, _, err = run(capsys, redis_url, *argv)
    assert code == 2 and message in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--width", "50"], "--width"),
        (["--band", "watch"], "--band"),
        (["--kind", "hover"], "--kind"),
        (["--from", "yesterday"], "YYYY-MM-DD"),
    ],
)
def test_bad_options_are_refused_by_the_parser(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["heatmap", "--site", "shop", "--page", "/", "-o", "x.png", *argv])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "format"), [("m.png", "PNG"), ("m.jpg", "JPEG"), ("m.JPEG", "JPEG")]
)
def test_heatmap_writes_the_format_its_file_name_says(
    aggregated: Site, redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    name: str, format: str,
) -> None:  # fmt: skip
    out = tmp_path / name
    code, _, _ = run(
        capsys, redis_url, "heatmap", "--site", "shop", "--page", "/product/1", "-o", str(out)
    )
    assert code == 0
    with Image.open(out) as image:
        assert image.format == format


def test_a_page_that_matches_nothing_is_said_and_answered_all_the_same(
    aggregated: Site, redis_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    warning = "clicktrail: warning: page /nowhere matched no desktop page view in this range\n"
    code, out, err = run(capsys, redis_url, "elements", "--site", "shop", "--page", "/nowhere")
    assert code == 0 and err == warning and out.startswith("label")
    code, out, err = run(
        capsys, redis_url, "elements", "--site", "shop", "--page", "/nowhere", "--json"
    )
    assert code == 0 and err == warning and json.loads(out) == []
    png = tmp_path / "nowhere.png"
    argv = ("heatmap", "--site", "shop", "--page", "/nowhere", "-o", str(png))
    code, out, err = run(capsys, redis_url, *argv)
    assert code == 0 and err == warning and png.is_file()
    code, _, err = run(capsys, redis_url, "elements", "--site", "shop", "--page", "/product/:id")
    assert code == 0 and err == ""
