"""Whether a change to a published schema may keep its version (docs/integration.md, "Versioning").

Compares the JSON Schema a payload was published with (an event's ``<type>.v<N>.json``, an RPC's
``<method>.json``) with the one the models give now, and names each change that breaks a caller
or consumer written against the old one: a field removed, a field newly required, a type
changed, an enum value removed, a constant changed. A new optional field, a widened type or a
new enum value is additive. Length and pattern constraints are not compared.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """What in ``new`` breaks a reader or writer of ``old`` (empty: compatible)."""
    return _compare(old, new, old, new, "payload", set())


def _resolve(schema: Schema, root: Schema) -> Schema:
    seen = set()
    while "$ref" in schema and schema["$ref"] not in seen:  # pydantic refs are local: "#/$defs/<Model>"
        seen.add(schema["$ref"])
        node: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _variants(schema: Schema, root: Schema) -> list[Schema]:
    """The alternatives a value may take: an ``anyOf``/``oneOf`` flattened, else the schema itself."""
    schema = _resolve(schema, root)
    members = schema.get("anyOf") or schema.get("oneOf")
    return [v for m in members for v in _variants(m, root)] if members else [schema]


def _kind(schema: Schema) -> str:
    kind = schema.get("type", "object" if "properties" in schema else "any")
    return "|".join(sorted(kind)) if isinstance(kind, list) else kind


def _compare(old: Schema, new: Schema, old_root: Schema, new_root: Schema, path: str,
             seen: set[tuple[int, int]]) -> list[str]:
    if (id(old), id(new)) in seen:  # a recursive model: its fields were compared already
        return []
    seen.add((id(old), id(new)))
    problems = []
    new_variants = _variants(new, new_root)
    for variant in _variants(old, old_root):
        match = next((v for v in new_variants if _kind(v) == _kind(variant)), None)
        if match is None:
            now = " | ".join(sorted({_kind(v) for v in new_variants}))
            problems.append(f"{path}: type changed from {_kind(variant)} to {now}")
        else:
            problems += _compare_one(variant, match, old_root, new_root, path, seen)
    return problems


def _compare_one(old: Schema, new: Schema, old_root: Schema, new_root: Schema, path: str,
                 seen: set[tuple[int, int]]) -> list[str]:
    problems = []
    allowed = new.get("enum", [new["const"]] if "const" in new else None)
    if allowed is not None:
        gone = [v for v in old.get("enum", [old["const"]] if "const" in old else []) if v not in allowed]
        problems += [f"{path}: value {v!r} removed" for v in gone]
    old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
    for name, schema in sorted(old_fields.items()):
        if name not in new_fields:
            problems.append(f"{path}.{name}: field removed")
        else:
            problems += _compare(schema, new_fields[name], old_root, new_root, f"{path}.{name}", seen)
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        problems.append(f"{path}.{name}: field newly required")
    for key, suffix in (("items", "[]"), ("additionalProperties", "{}")):
        if isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
            problems += _compare(old[key], new[key], old_root, new_root, path + suffix, seen)
    return problems
