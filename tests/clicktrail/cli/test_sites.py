"""`clicktrail site add | set | list`: a site's time zone, stored with it and the default of its
funnels and reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis

from clicktrail.cli.main import main
from collector.sites import Site, set_time_zone


def run(capsys: pytest.CaptureFixture[str], redis_url: str, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--redis-url", redis_url])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_site_is_added_with_a_time_zone_and_changed(
    redis_url: str, redis_client: redis.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ("site", "add", "blog", "--origin", "https://blog.example", "--tz", "Europe/Paris")
    code, out, _ = run(capsys, redis_url, *add)
    assert code == 0 and "Time zone: Europe/Paris" in out
    code, out, _ = run(capsys, redis_url, "site", "list")
    header, row = out.splitlines()
    assert header.split("\t") == ["name", "key", "time_zone", "origins"]
    assert row.split("\t")[2] == "Europe/Paris"
    code, out, _ = run(capsys, redis_url, "site", "set", "blog", "--tz", "Asia/Tokyo")
    assert code == 0 and out == "Site blog: time zone Asia/Tokyo\n"
    code, out, _ = run(capsys, redis_url, "site", "list", "--json")
    assert json.loads(out)[0]["time_zone"] == "Asia/Tokyo"
    code, _, err = run(capsys, redis_url, "site", "set", "blog", "--tz", "Mars/Olympus")
    assert code == 2 and err.count("\n") == 1 and "unknown time zone 'Mars/Olympus'" in err
    code, out, _ = run(capsys, redis_url, "site", "add", "shop", "--origin", "https://s.example")
    assert code == 0 and "Time zone: UTC" in out


def test_funnels_and_reports_count_days_in_the_sites_time_zone_unless_told(
    shop: Site,
    redis_url: str,
    redis_client: redis.Redis,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    set_time_zone(redis_client, "shop", "Europe/Paris")
    steps = ("--step", "/cart", "--step", "/thanks")
    code, out, _ = run(capsys, redis_url, "funnel", "--site", "shop", *steps, "--json")
    assert code == 0 and json.loads(out)["time_zone"] == "Europe/Paris"
    code, out, _ = run(capsys, redis_url, "funnel", "--site", "shop", *steps, "--tz", "UTC")
    assert code == 0 and "(UTC)" in out.splitlines()[1]
    config = tmp_path / "clicktrail.toml"
    config.write_text('[funnels.cart]\nsteps = ["/cart", "/thanks"]\n')
    argv = ("report", "abandonment", "--site", "shop", "--out", str(tmp_path / "out"))
    code, out, _ = run(capsys, redis_url, *argv, "--config", str(config))
    assert code == 0 and out.startswith("covers ") and "(Europe/Paris)" in out.splitlines()[0]
