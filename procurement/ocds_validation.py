"""Validating OCDS output offline against the standard's schema and closed codelists (used by the tests and by
anyone who exports: ``python -m procurement.ocds_validation FILE.json SCHEMA_DIR``).

Which fields have a closed codelist is read from the release schema itself (``"codelist"`` with
``"openCodelist": false``), so that every field the system writes is checked, the PPP profile's (riskAllocation,
chargePaidBy, financingPartyType …) included, without a list here to keep in step with the output.
"""

from __future__ import annotations

import csv
import functools
import json
import sys
from collections.abc import Iterator
from pathlib import Path


@functools.cache
def _codes(directory: Path, name: str) -> frozenset[str]:
    with (directory / "codelists" / name).open(encoding="utf-8") as handle:
        return frozenset(row["Code"] for row in csv.DictReader(handle))


def _closed_codelist_problems(node, schema: dict, release_schema: dict, directory: Path, path: str) -> Iterator[str]:
    """Walk the data beside its schema; report each value of a closed codelist that the codelist lacks."""
    while "$ref" in schema:
        schema = release_schema["definitions"][schema["$ref"].rsplit("/", 1)[-1]]
    if schema.get("codelist") and schema.get("openCodelist") is False:
        allowed = _codes(directory, schema["codelist"])
        for value in node if isinstance(node, list) else [node]:
            if value is not None and value not in allowed:
                yield f"{path}: “{value}” is not in {schema['codelist']}"
    if isinstance(node, dict):
        properties = schema.get("properties", {})
        for key, value in node.items():
            if key in properties:
                yield from _closed_codelist_problems(value, properties[key], release_schema, directory, f"{path}/{key}")
    elif isinstance(node, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(node):
            yield from _closed_codelist_problems(item, schema["items"], release_schema, directory, f"{path}/{index}")


def validate_package(package: dict, schema_dir: Path) -> list[str]:
    """Schema errors and values outside a closed codelist, as messages (empty: valid)."""
    from jsonschema import Draft4Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    release_schema = json.loads((schema_dir / "release-schema.json").read_text(encoding="utf-8"))
    package_schema = json.loads((schema_dir / "release-package-schema.json").read_text(encoding="utf-8"))
    registry = Registry().with_resource(release_schema["id"], Resource.from_contents(release_schema, DRAFT4))
    for ref in {"release-schema.json"}:
        registry = registry.with_resource(ref, Resource.from_contents(release_schema, DRAFT4))
    problems = [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in Draft4Validator(package_schema, registry=registry).iter_errors(package)
    ]
    validator = Draft4Validator(release_schema, registry=registry)
    for index, release in enumerate(package.get("releases", [])):
        problems += [
            f"releases/{index}/{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
            for error in validator.iter_errors(release)
        ]
        problems += _closed_codelist_problems(release, release_schema, release_schema, schema_dir, f"releases/{index}")
    return problems


if __name__ == "__main__":  # pragma: no cover
    errors = validate_package(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")), Path(sys.argv[2]))
    print("\n".join(errors) or "valid")
    sys.exit(1 if errors else 0)
