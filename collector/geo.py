"""The country of a client address, looked up at ingest and kept as a two-letter code: the
address itself is dropped right after (collector.privacy keeps it only in memory).

By default from the regional internet registries' delegations bundled with `iptocc` (IPv4 and
IPv6, no download, no account); or from a MaxMind or DB-IP `.mmdb` file the owner names in the
`geoip_file` setting (City or Country databases), read with `maxminddb`.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import iptocc
import maxminddb

UNKNOWN = ""


class Countries:
    """Client address -> ISO 3166-1 alpha-2 code, "" when unknown (private, reserved, absent)."""

    def __init__(self, mmdb: Path | None = None) -> None:
        self._reader: maxminddb.Reader | None = None
        if mmdb is not None:
            try:
                self._reader = maxminddb.open_database(str(mmdb))
            except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
                reason = "not an .mmdb file"
                if isinstance(exc, OSError) and exc.strerror:  # missing, or no permission
                    reason = exc.strerror
                raise ValueError(f"geoip_file {mmdb}: {reason}") from None

    def __call__(self, address: str) -> str:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return UNKNOWN
        if not ip.is_global:
            return UNKNOWN
        if self._reader is not None:
            return _code(_mmdb_country(self._reader.get(str(ip))))
        return _code(iptocc.country_code(str(ip)))

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()


def _mmdb_country(record: Any) -> Any:
    if not isinstance(record, dict):
        return None
    for key in ("country", "registered_country"):
        entry = record.get(key)
        if isinstance(entry, dict) and isinstance(entry.get("iso_code"), str):
            return entry["iso_code"]
    return record.get("country_code")  # DB-IP lite's flat layout


def _code(value: Any) -> str:
    if isinstance(value, str) and len(value) == 2 and value.isascii() and value.isalpha():
        return value.upper()
    return UNKNOWN
