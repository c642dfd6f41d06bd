"""Schemathesis against /api/openapi.json: requests generated from the document (valid and
invalid) never get a 5xx, and every reply matches what the document promises.

One check is left out: positive data acceptance. Some rules span parameters (from before to,
at most 366 days, a valid regular expression as a step) and cannot be said in OpenAPI, so a
request valid by the document alone may rightly get a 400; test_api checks those 400s."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import redis
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok

from clicktrail.web.app import create_web_app
from clicktrail.web.tokens import create_token
from collector.settings import Settings
from collector.sites import Site

EXAMPLES = 12  # per route and mode (valid, invalid)
# An invalid request may also be refused for its size: a query over 32 KiB gets 431, documented.
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": ["400", "401", "404", "431"]}}}
)


@pytest.fixture
def api_schema(
    shop: Site, redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> schemathesis.BaseSchema:
    app = create_web_app(Settings(data_dir=tmp_path), redis_url, None, lambda name: [])
    return schemathesis.openapi.from_asgi("/api/openapi.json", app, config=CONFIG)


def test_the_api_keeps_its_openapi_promises(
    api_schema: schemathesis.BaseSchema, redis_client: redis.Redis
) -> None:
    secret, _ = create_token(redis_client, "schemathesis")
    headers = {"Authorization": f"Bearer {secret}"}
    results = list(api_schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) == 11

    for operation, mode in itertools.product(operations, GenerationMode):

        @given(case=operation.as_strategy(mode, path_parameters={"site": "shop"}))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        call()
