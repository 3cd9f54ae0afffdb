#!/usr/bin/env python3
"""promtool proof that the regulation dashboard shows a domain figure once, however many
replicas report it (docs/deploy.md, "Many replicas, one figure").

  python deploy/check_dashboard_replicas.py <work dir>   (promtool on PATH)

Every replica computes a domain figure from the shared database, so each reports the same
series. For every regulation panel query this feeds promtool the same figures twice: in
namespace "one" from one replica, in namespace "three" from three, and asserts that the
query gives the same answer for both (and a non-empty one). A `sum` over replicas fails.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PANELS = ROOT / "charts" / "pingan" / "dashboards" / "regulation"
DOMAIN = re.compile(r"\b(pingan_[a-z_]+)\{")
LABELS = 'service="s", county="433101", status="open", level="high", tier="village", source="grid", to_tier="township"'
COUNTERS = ("_total", "_bucket")


def queries() -> list[tuple[str, str]]:
    return [(f"{f.stem}: {p['title']}", t["expr"]) for f in sorted(PANELS.glob("*.json"))
            for p in json.loads(f.read_text())["panels"] for t in p["targets"]]


def in_namespace(expr: str, namespace: str) -> str:
    expr = expr.replace('namespace=~"$namespace"', f'namespace="{namespace}"').replace("$county", ".*")
    return re.sub(r"\$__(rate_interval|range)", "5m", expr)


def series(metric: str) -> list[dict]:
    values = "0+6x20" if metric.endswith(COUNTERS) else "7x20"
    buckets = ['le="1"', 'le="+Inf"'] if metric.endswith("_bucket") else [""]
    out = []
    for namespace, replicas in (("one", 1), ("three", 3)):
        for pod in range(replicas):
            for le in buckets:
                labels = ", ".join(x for x in (f'namespace="{namespace}"', f'pod="r{pod}"', LABELS, le) if x)
                more = "0+10x20" if 'Inf' in le else values
                out.append({"series": f"{metric}{{{labels}}}", "values": more})
    return out


def test_file() -> dict:
    metrics = sorted({m for _, expr in queries() for m in DOMAIN.findall(expr)})
    cases = []
    for _, expr in queries():
        one, three = in_namespace(expr, "one"), in_namespace(expr, "three")
        cases += [{"expr": f"absent({one})", "eval_time": "10m", "exp_samples": []},
                  {"expr": f"count(({three}) != ({one}))", "eval_time": "10m", "exp_samples": []},
                  {"expr": f"count(({one}) unless ({three}))", "eval_time": "10m", "exp_samples": []}]
    return {"rule_files": [], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": [s for m in metrics for s in series(m)],
                       "promql_expr_test": cases}]}


def main(work: str) -> int:
    path = Path(work) / "dashboard-replicas.test.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(test_file(), sort_keys=False))
    result = subprocess.run(["promtool", "test", "rules", path.name], cwd=path.parent, capture_output=True, text=True)
    print(result.stdout + result.stderr)
    if result.returncode == 0:
        print(f"{len(queries())} regulation panel queries give one figure for one or three replicas")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/deploy/promtool"))
