"""Validating OCDS output offline against the standard's schema and closed codelists (used by the tests and by
anyone who exports: ``python -m procurement.ocds_validation FILE.json SCHEMA_DIR``)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

#: The closed codelists of the fields the system writes (partyRole, documentType … are open).
CLOSED = {
    ("tag",): "releaseTag.csv",
    ("initiationType",): "initiationType.csv",
    ("tender", "status"): "tenderStatus.csv",
    ("tender", "procurementMethod"): "method.csv",
    ("tender", "mainProcurementCategory"): "procurementCategory.csv",
    ("awards", "status"): "awardStatus.csv",
    ("contracts", "status"): "contractStatus.csv",
    ("contracts", "milestones", "status"): "milestoneStatus.csv",
    ("*", "currency"): "currency.csv",
}


def _codes(directory: Path, name: str) -> set[str]:
    with (directory / "codelists" / name).open(encoding="utf-8") as handle:
        return {row["Code"] for row in csv.DictReader(handle)}


def _values(node, path):
    if not path:
        yield from (node if isinstance(node, list) else [node])
        return
    if isinstance(node, list):
        for item in node:
            yield from _values(item, path)
        return
    if isinstance(node, dict) and path[0] in node:
        yield from _values(node[path[0]], path[1:])


def _currencies(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "currency" and isinstance(value, str):
                yield value
            else:
                yield from _currencies(value)
    elif isinstance(node, list):
        for item in node:
            yield from _currencies(item)


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
        for path, codelist in CLOSED.items():
            allowed = _codes(schema_dir, codelist)
            found = _currencies(release) if path[0] == "*" else _values(release, path)
            for value in found:
                if value not in allowed:
                    problems.append(f"releases/{index}: {'.'.join(path)} “{value}” is not in {codelist}")
    return problems


if __name__ == "__main__":  # pragma: no cover
    errors = validate_package(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")), Path(sys.argv[2]))
    print("\n".join(errors) or "valid")
    sys.exit(1 if errors else 0)
