"""The OpenAPI 3.1 document of the read API, made from the same declarations that route and
validate requests (clicktrail.api.ENDPOINTS), so it always matches them."""

from __future__ import annotations

from typing import Any

from clicktrail.web import params as p
from clicktrail.web.api import ENDPOINTS, WARNINGS_HEADER, Endpoint
from clicktrail.web.auth import COOKIE

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string"},
        "parameter": {"type": "string", "description": "the parameter at fault"},
    },
}
_SITE_PARAM = {
    "name": "site",
    "in": "path",
    "required": True,
    "description": "The site's name (`clicktrail site list`).",
    "schema": {"type": "string"},
}
_WARNINGS = {
    WARNINGS_HEADER: {
        "description": "A JSON list of strings, empty unless the page matched no page view of "
        'the band in the range: ["page /chekout matched no desktop page view in this range"]. '
        "The reply is the same either way.",
        "required": True,
        "schema": {"type": "string"},
    }
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _operation(spec: Endpoint) -> dict[str, Any]:
    if spec.returns.get("png"):
        ok = {"image/png": {"schema": {"type": "string", "format": "binary"}}}
    else:
        ok = {"application/json": {"schema": spec.returns}}
    responses: dict[str, Any] = {
        "200": {"description": "OK", "content": ok}
        | ({"headers": _WARNINGS} if p.PAGE in spec.params else {}),
        "400": _error("A bad parameter; `parameter` names it"),
        "401": _error("No token, or not a valid one"),
    }
    parameters = [param.openapi() for param in spec.params]
    if spec.per_site:
        parameters.insert(0, _SITE_PARAM)
        responses["404"] = _error("No such site, or not one this token may see")
    if spec.returns.get("png"):
        responses["409"] = _error("The stored data cannot be drawn; `error` says what is wrong")
    return {
        "summary": spec.summary,
        "operationId": spec.handler.__name__,
        "parameters": parameters,
        "responses": responses,
    }


def openapi_document(version: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "clicktrail read API",
            "version": version,
            "description": "Heatmaps, pages, elements, funnels, journeys and live counts of your "
            "sites. Authenticate with `Authorization: Bearer <token>` (`clicktrail token "
            "create`) or the dashboard's login cookie.",
        },
        "paths": {f"/api{spec.path}": {"get": _operation(spec)} for spec in ENDPOINTS},
        "components": {
            "schemas": {"Error": _ERROR},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": COOKIE},
            },
        },
        "security": [{"bearer": []}, {"cookie": []}],
    }
