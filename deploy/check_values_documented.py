#!/usr/bin/env python3
"""Every value in charts/pingan/values.yaml is declared, with a description, in
values.schema.json (helm only validates; this checks the schema also documents).

usage: check_values_documented.py CHART_DIR
"""
import json
import sys

import yaml


def resolve(schema, node):
    while "$ref" in node:
        node = schema["definitions"][node["$ref"].split("/")[-1]]
    return node


def walk(schema, node, value, path, problems):
    node = resolve(schema, node)
    if not node.get("description"):
        problems.append(f"{path or '<root>'}: no description in values.schema.json")
    if isinstance(value, dict) and node.get("type") == "object":
        props = node.get("properties", {})
        extra = node.get("additionalProperties")
        for key, sub in value.items():
            if key in props:
                walk(schema, props[key], sub, f"{path}.{key}" if path else key, problems)
            elif isinstance(extra, dict) and "$ref" in extra:
                walk(schema, extra, sub, f"{path}.{key}" if path else key, problems)
            elif isinstance(extra, dict) and extra:
                pass  # an entry of a free-form map (labels, env): the map itself is documented
            elif extra is not True and not (isinstance(extra, dict) and not extra):
                problems.append(f"{path}.{key}: not declared in values.schema.json")


def main() -> int:
    chart = sys.argv[1]
    with open(f"{chart}/values.schema.json") as schema_file, open(f"{chart}/values.yaml") as values_file:
        schema = json.load(schema_file)
        values = yaml.safe_load(values_file)
    problems = []
    walk(schema, schema, values, "", problems)
    for p in problems:
        print("ERROR", p)
    print(
        f"{'FAILED' if problems else 'OK'}: values.yaml keys documented in values.schema.json "
        f"({len(problems)} problem(s))"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
