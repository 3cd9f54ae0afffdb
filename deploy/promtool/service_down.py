#!/usr/bin/env python3
"""Write the promtool test of PinganServiceDown for every service the rendered rules name.

The chart renders one PinganServiceDown rule per enabled service, so a hand-kept
test would list the services exactly and break whenever one is added. This test
is written from the rendered rules instead: every service reports ``pingan_up``
except the first, which stops being scrapeable after two minutes; only that one
must fire, and only once the rule's ``for`` has passed.

    service_down.py rules.yaml service_down.test.yaml
"""
from __future__ import annotations

import sys

import yaml


def service_down_rules(rules: dict) -> list[dict]:
    return [rule for group in rules["groups"] for rule in group["rules"] if rule.get("alert") == "PinganServiceDown"]


def minutes(duration: str) -> int:
    units = {"s": 1 / 60, "m": 1, "h": 60}
    return 0 if duration in ("0", "0s", "0m") else int(float(duration[:-1]) * units[duration[-1]])


def test_of(rules: dict) -> dict:
    down_rules = service_down_rules(rules)
    if not down_rules:
        raise SystemExit("no PinganServiceDown rule in the rendered rules")
    down = down_rules[0]
    namespace = down["expr"].split('namespace="')[1].split('"')[0]
    hold = minutes(down.get("for", "0m"))
    series = []
    for rule in down_rules:
        service = rule["labels"]["service"]
        values = "1 1 stale" if rule is down else f"1x{hold + 8}"
        series.append({"series": f'pingan_up{{namespace="{namespace}", service="{service}", pod="{service}-1"}}',
                       "values": values})
    # Stale from minute 2: absent from then on, firing once ``for`` has held.
    fires_at = 2 + hold
    return {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": series,
            "alert_rule_test": [
                {"eval_time": "1m", "alertname": "PinganServiceDown", "exp_alerts": []},
                {"eval_time": f"{fires_at}m", "alertname": "PinganServiceDown", "exp_alerts": [
                    {"exp_labels": {**down["labels"], "namespace": namespace},
                     "exp_annotations": down["annotations"]}]},
            ],
        }],
    }


def main(rules_path: str, out_path: str) -> None:
    with open(rules_path) as rules:
        test = test_of(yaml.safe_load(rules))
    with open(out_path, "w") as out:
        yaml.safe_dump(test, out, sort_keys=False)


if __name__ == "__main__":
    main(*sys.argv[1:3])
