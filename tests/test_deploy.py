"""docker-compose.yml cannot run here; these checks read it against the CLI and settings."""

from __future__ import annotations

from pathlib import Path

import yaml

from clicktrail.cli.main import build_parser
from collector.settings import SPECS

ROOT = Path(__file__).parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_clicktrail_service_runs_a_real_command() -> None:
    parser = build_parser()
    commands = [
        s["command"]
        for s in COMPOSE["services"].values()
        if s.get("command", [""])[0] == "clicktrail"
    ]
    assert commands
    for command in commands:
        args = parser.parse_args(command[1:])
        assert callable(args.run)


def test_services_only_set_known_settings() -> None:
    # SMTP_PASSWORD: the secret an e-mail report target names with password_env.
    known = {spec.env for spec in SPECS} | {"SMTP_PASSWORD"}
    for name, service in COMPOSE["services"].items():
        if name == "redis":
            continue
        assert set(service.get("environment", {})) <= known, name
        assert service["environment"]["REDIS_URL"].startswith("redis://redis:")


def test_the_collector_and_the_worker_run_against_the_same_redis() -> None:
    services = COMPOSE["services"]
    assert services["collector"]["command"][1] == "collector"
    assert services["worker"]["command"][1] == "worker"
    urls = {services[s]["environment"]["REDIS_URL"] for s in ("collector", "worker")}
    assert len(urls) == 1


def test_redis_keeps_an_append_only_file_on_a_volume() -> None:
    redis = COMPOSE["services"]["redis"]
    assert redis["image"].startswith("redis:7")
    assert "--appendonly" in redis["command"] and "yes" in redis["command"]
    assert any(v.endswith(":/data") for v in redis["volumes"])


def test_the_image_installs_every_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("collector", "heatmap", "reports", "tracker_js", "clicktrail"):
        assert f"COPY {package} {package}" in dockerfile
