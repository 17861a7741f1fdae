"""Version 1 of the API cannot change silently: the OpenAPI document is pinned in
tests/api/openapi-v1.json. Additions are fine once the copy is updated on purpose; a removed
or renamed path, operation, parameter, field, or a changed type breaks v1 clients and fails.

To update the copy after an addition:
    SPREEKUUR_PIN_OPENAPI=1 .venv/bin/python -m pytest tests/test_api_schema.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

PINNED = Path(__file__).parent / "api" / "openapi-v1.json"
PROSE = ("description", "summary", "title")


def missing(pinned, current, where: str = "") -> list[str]:
    """What of ``pinned`` is gone or different in ``current``: every key of an object must
    still be there with what it held; other values must be equal. A list of required names
    may grow only for answers, never for what clients send."""
    if isinstance(pinned, dict):
        if not isinstance(current, dict):
            return [f"{where or '/'}: was an object"]
        problems = []
        for key, value in pinned.items():
            if key in PROSE and not where.endswith("/properties"):
                continue  # words for people, not part of the contract
            if key not in current:
                problems.append(f"{where}/{key}: removed")
            else:
                problems += missing(value, current[key], f"{where}/{key}")
        return problems
    if isinstance(pinned, list) and all(isinstance(x, dict) and "name" in x for x in pinned):
        # Parameters (and tags) by name: each stays as it was; a new one must be optional.
        by_name = {x.get("name"): x for x in current if isinstance(x, dict)}
        problems = []
        for item in pinned:
            if item["name"] not in by_name:
                problems.append(f"{where}/{item['name']}: removed")
            else:
                problems += missing(item, by_name[item["name"]], f"{where}/{item['name']}")
        known = {x["name"] for x in pinned}
        problems += [
            f"{where}/{name}: a new required parameter"
            for name, item in by_name.items()
            if name not in known and item.get("required")
        ]
        return problems
    if isinstance(pinned, list) and where.endswith("/required") and "/components/" in where:
        return [f"{where}: {name} no longer always given" for name in pinned if name not in current]
    if pinned != current:
        return [f"{where}: was {pinned!r}, is {current!r}"]
    return []


def test_version_1_only_grows(client):
    current = client.get("/api/v1/openapi.json").get_json()
    pinned = json.loads(PINNED.read_text(encoding="utf-8")) if PINNED.exists() else None
    breaking = missing(pinned, current) if pinned is not None else []
    assert not breaking, (
        "These changes would break clients of /api/v1; add a /api/v2 instead:\n"
        + "\n".join(breaking)
    )
    if os.environ.get("SPREEKUUR_PIN_OPENAPI"):
        PINNED.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return
    assert current == pinned, (
        "The OpenAPI document of /api/v1 grew. If that is meant, update the pinned copy: "
        "SPREEKUUR_PIN_OPENAPI=1 .venv/bin/python -m pytest tests/test_api_schema.py"
    )


def test_the_check_finds_removals_renames_and_type_changes():
    pinned = {
        "paths": {"/api/v1/hours": {"get": {"parameters": [{"name": "page"}]}}},
        "components": {
            "schemas": {
                "Hours": {
                    "properties": {"title": {"type": "string"}, "id": {"type": "integer"}},
                    "required": ["id", "title"],
                }
            }
        },
    }
    grown = json.loads(json.dumps(pinned))
    grown["paths"]["/api/v1/news"] = {"get": {}}
    grown["components"]["schemas"]["Hours"]["properties"]["extra"] = {"type": "string"}
    grown["components"]["schemas"]["Hours"]["required"].append("extra")
    assert missing(pinned, grown) == []

    renamed = json.loads(json.dumps(pinned))
    props = renamed["components"]["schemas"]["Hours"]["properties"]
    props["name"] = props.pop("title")
    renamed["components"]["schemas"]["Hours"]["required"] = ["id", "name"]
    assert missing(pinned, renamed) == [
        "/components/schemas/Hours/properties/title: removed",
        "/components/schemas/Hours/required: title no longer always given",
    ]
    retyped = json.loads(json.dumps(pinned))
    retyped["components"]["schemas"]["Hours"]["properties"]["id"]["type"] = "string"
    assert missing(pinned, retyped) == [
        "/components/schemas/Hours/properties/id/type: was 'integer', is 'string'"
    ]
    more = json.loads(json.dumps(pinned))
    more["paths"]["/api/v1/hours"]["get"]["parameters"].insert(0, {"name": "q"})
    assert missing(pinned, more) == []
    more["paths"]["/api/v1/hours"]["get"]["parameters"].append({"name": "x", "required": True})
    assert missing(pinned, more) == [
        "/paths//api/v1/hours/get/parameters/x: a new required parameter"
    ]
    reworded = json.loads(json.dumps(pinned))
    reworded["components"]["schemas"]["Hours"]["description"] = "Other words."
    assert missing(pinned, reworded) == []
    gone = json.loads(json.dumps(pinned))
    del gone["paths"]["/api/v1/hours"]
    assert missing(pinned, gone) == ["/paths//api/v1/hours: removed"]
