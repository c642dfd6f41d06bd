"""Fixtures shared by the report tests."""

from tests.reports.servers import smtp_server, webhook_server

__all__ = ["smtp_server", "webhook_server"]
