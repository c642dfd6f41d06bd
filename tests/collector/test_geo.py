"""Countries of client addresses: the registries' data by default (IPv4 and IPv6), nothing for
private, reserved or malformed addresses, and a named .mmdb file that must be one."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.geo import Countries

countries = Countries()


@pytest.mark.parametrize(
    ("address", "country"),
    [
        ("81.2.69.142", "GB"),
        ("8.8.8.8", "US"),
        ("2a00:1450:4001:80b::200e", "IE"),  # Google's European IPv6 range
        ("127.0.0.1", ""),
        ("10.1.2.3", ""),
        ("192.168.0.1", ""),
        ("203.0.113.7", ""),  # documentation range
        ("::1", ""),
        ("not an address", ""),
        ("", ""),
    ],
)
def test_an_address_gets_its_country_or_nothing(address: str, country: str) -> None:
    assert countries(address) == country


def test_a_named_file_that_is_no_mmdb_is_refused_with_the_reason(tmp_path: Path) -> None:
    bogus = tmp_path / "GeoLite2-Country.mmdb"
    bogus.write_bytes(b"not a database")
    with pytest.raises(
        ValueError, match=r"geoip_file .*GeoLite2-Country\.mmdb: not an \.mmdb file$"
    ):
        Countries(bogus)
