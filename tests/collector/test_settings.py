"""Settings come from defaults, then clicktrail.toml, then the environment; a bad value fails at
start-up with a message naming the key."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.settings import SPECS, Settings, SettingsError, Spec, load_settings

HERE = Path(__file__).parent  # no clicktrail.toml here


def test_defaults_need_no_configuration(tmp_path: Path) -> None:
    settings = load_settings({"HOME": str(tmp_path)}, cwd=tmp_path)
    assert settings == Settings(data_dir=tmp_path / ".local/share/clicktrail")
    assert settings.collector_url == "http://127.0.0.1:8000"


def test_environment_values_are_cast(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "REDIS_URL": "redis://127.0.0.1:6379/3",
            "CLICKTRAIL_DATA": "/var/lib/ct",
            "CLICKTRAIL_PORT": "9000",
            "CLICKTRAIL_HONOR_DNT": "off",
            "CLICKTRAIL_TRUSTED_PROXIES": "10.0.0.0/8, ::1",
            "CLICKTRAIL_RATE_IP_PER_S": "2.5",
        },
        cwd=tmp_path,
    )
    assert settings.redis_url == "redis://127.0.0.1:6379/3"
    assert settings.data_dir == Path("/var/lib/ct")
    assert settings.port == 9000
    assert settings.honor_dnt is False
    assert settings.trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    assert settings.rate_ip_per_s == 2.5


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        ("CLICKTRAIL_PORT", "http", "CLICKTRAIL_PORT"),
        ("CLICKTRAIL_PORT", "70000", "from 1 to 65535"),
        ("REDIS_URL", "localhost:6379", "redis://"),
        ("CLICKTRAIL_HONOR_DNT", "maybe", "true or false"),
        ("CLICKTRAIL_TRUSTED_PROXIES", "10.0.0.300/8", "CLICKTRAIL_TRUSTED_PROXIES"),
        ("CLICKTRAIL_RATE_IP_PER_S", "nan", "from 0.001 to 1e+06"),
        ("CLICKTRAIL_RATE_SITE_PER_S", "-1", "from 0.001 to 1e+06"),
        ("CLICKTRAIL_MAX_EVENTS", "0", "CLICKTRAIL_MAX_EVENTS"),
        ("CLICKTRAIL_REDIS_FSYNC", "never", "always or everysec"),
        ("CLICKTRAIL_PUBLIC_URL", "ftp://x.example", "http"),
        ("CLICKTRAIL_LOG_LEVEL", "loud", "debug, info"),
    ],
)
def test_a_bad_environment_value_names_its_key(
    tmp_path: Path, env: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=env) as raised:
        load_settings({env: value}, cwd=tmp_path)
    assert message in str(raised.value)


def test_the_config_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    config = tmp_path / "clicktrail.toml"
    config.write_text("[clicktrail]\nport = 9100\nhonor_dnt = false\nmax_events = 50\n")
    settings = load_settings({"CLICKTRAIL_PORT": "9200"}, config)
    assert (settings.port, settings.honor_dnt, settings.max_events) == (9200, False, 50)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[clicktrail]\nprot = 1\n", "unknown setting [clicktrail].prot"),
        ("[clicktrail]\nport = 'abc'\n", "[clicktrail].port"),
        ("[clicktrail\n", "cannot read"),
        ("clicktrail = 3\n", "must be a table"),
    ],
)
def test_a_bad_config_file_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "clicktrail.toml"
    config.write_text(text)
    with pytest.raises(SettingsError) as raised:
        load_settings({}, config)
    assert message in str(raised.value)
    assert str(config) in str(raised.value)


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        ("CLICKTRAIL_MAX_HEADER_BYTES", "100", "from 4096 to 1048576"),
        ("CLICKTRAIL_HEADER_TIMEOUT_S", "0", "from 0.1 to 600"),
        ("CLICKTRAIL_HEADER_TIMEOUT_S", "nan", "from 0.1 to 600"),
        ("CLICKTRAIL_BODY_TIMEOUT_S", "1e9", "from 0.1 to 600"),
        ("CLICKTRAIL_RATE_INVALID_PER_S", "1e-300", "from 0.001 to 1e+06"),
        ("CLICKTRAIL_METRICS_TOKEN", "short", "at least 16"),
        ("CLICKTRAIL_METRICS_TOKEN", "sixteen chars or more", "without spaces"),
    ],
)
def test_edge_limits_are_validated_with_ranges(
    tmp_path: Path, env: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=env) as raised:
        load_settings({env: value}, cwd=tmp_path)
    assert message in str(raised.value)


def test_the_metrics_token_is_never_shown(tmp_path: Path) -> None:
    token = "metrics-token-0123456789"
    settings = load_settings({"CLICKTRAIL_METRICS_TOKEN": token}, cwd=tmp_path)
    assert settings.metrics_token == token
    assert token not in repr(settings)


def test_page_templates_in_the_config_file_are_a_list_and_regexes_keep_their_commas(
    tmp_path: Path,
) -> None:
    config = tmp_path / "clicktrail.toml"
    config.write_text(
        "[clicktrail]\npage_templates = ['re:^/u/\\d{1,5}$', '/blog/*']\n"
        "trusted_proxies = ['10.0.0.0/8', '::1']\n"
    )
    settings = load_settings({}, config)
    assert settings.page_templates == (r"re:^/u/\d{1,5}$", "/blog/*")
    assert len(settings.trusted_proxies) == 2


@pytest.mark.parametrize(
    "value",
    [r"re:^/u/\d{1,5}$ /blog/*", r'["re:^/u/\\d{1,5}$", "/blog/*"]', "  re:^/u/\\d{1,5}$\n/blog/*"],
)
def test_page_templates_in_the_environment_are_separated_by_spaces_or_a_json_array(
    tmp_path: Path, value: str
) -> None:
    settings = load_settings({"CLICKTRAIL_PAGE_TEMPLATES": value}, cwd=tmp_path)
    assert settings.page_templates == (r"re:^/u/\d{1,5}$", "/blog/*")


def test_old_comma_separated_page_templates_are_refused_not_misread(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="separate templates with spaces"):
        load_settings({"CLICKTRAIL_PAGE_TEMPLATES": "/blog/*,/u/*"}, cwd=tmp_path)


def test_a_list_is_refused_where_one_value_is_meant(tmp_path: Path) -> None:
    config = tmp_path / "clicktrail.toml"
    config.write_text("[clicktrail]\nport = [80, 81]\n")
    with pytest.raises(SettingsError, match=r"\[clicktrail\]\.port: expected a single value"):
        load_settings({}, config)


NUMERIC = [s for s in SPECS if Settings.__dataclass_fields__[s.name].type in ("int", "float")]


@pytest.mark.parametrize("spec", NUMERIC, ids=[s.name for s in NUMERIC])
@pytest.mark.parametrize("value", ["1e-300", "1e300", "-1", "0", "nan", "inf", "99999999999"])
def test_every_numeric_setting_has_a_range(spec: Spec, value: str) -> None:
    # 1e-300 batches a second was accepted, and answered a Retry-After of 300 digits.
    with pytest.raises(SettingsError, match=spec.env):
        load_settings({spec.env: value}, cwd=HERE)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_rate_is_accepted_only_within_its_range(rate: float) -> None:
    try:
        settings = load_settings({"CLICKTRAIL_RATE_IP_PER_S": repr(rate)}, cwd=HERE)
    except SettingsError:
        assert not 0.001 <= rate <= 1_000_000
    else:
        assert 0.001 <= settings.rate_ip_per_s <= 1_000_000


def test_a_named_settings_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^--config: no settings file at .*missing\.toml$"):
        load_settings({}, tmp_path / "missing.toml", cwd=tmp_path)
    with pytest.raises(SettingsError, match=r"^CLICKTRAIL_CONFIG: no settings file"):
        load_settings({"CLICKTRAIL_CONFIG": "missing.toml"}, cwd=tmp_path)


def test_the_data_folder_is_named_by_the_environment_before_the_settings_file(
    tmp_path: Path,
) -> None:
    config = tmp_path / "etc" / "clicktrail.toml"
    config.parent.mkdir()
    config.write_text("[clicktrail]\ndata_dir = 'data'\n")
    # A relative data_dir in the file is the file's neighbour, wherever the command runs.
    assert load_settings({}, config, cwd=tmp_path).data_dir == tmp_path / "etc" / "data"
    named = load_settings({"CLICKTRAIL_DATA": "/srv/ct"}, config, cwd=tmp_path)
    assert named.data_dir == Path("/srv/ct")


def test_an_unnamed_data_folder_is_found_in_a_parent_else_the_per_user_one(
    tmp_path: Path,
) -> None:
    deep = tmp_path / "project" / "src" / "deep"
    deep.mkdir(parents=True)
    home = {"HOME": str(tmp_path / "home")}
    assert load_settings(home, cwd=deep).data_dir == tmp_path / "home/.local/share/clicktrail"
    xdg = {**home, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    assert load_settings(xdg, cwd=deep).data_dir == tmp_path / "xdg" / "clicktrail"
    (tmp_path / "project" / "clicktrail-data").mkdir()
    assert load_settings(xdg, cwd=deep).data_dir == tmp_path / "project" / "clicktrail-data"
    assert not (tmp_path / "home").exists() and not (tmp_path / "xdg").exists()  # nothing made
