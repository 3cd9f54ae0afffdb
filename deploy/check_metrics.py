#!/usr/bin/env python3
"""Check that every metric name used by the chart's dashboards and alert rules is
exposed by the running services.

  referenced: PromQL of every PrometheusRule rule and every Grafana dashboard
              (panel targets, template-variable queries) in rendered manifests
              (`helm template` output for the services that are running).
  exposed:    either a Prometheus server's view of what it scraped from them
              (--prometheus URL: series names + metric metadata, so a labelled
              metric declared by # HELP/# TYPE but with no sample yet counts), or
              raw /metrics texts (--metrics-file, for offline use).

Explicitly excluded from "must be exposed by a pingan service":
  EXTERNAL_PREFIXES  metrics of RabbitMQ's own Prometheus plugin (rabbitmq_*),
                     scraped from the broker, not from a pingan service; and
                     kube-state-metrics' (kube_*), which the audit alerts use to
                     see the audit CronJobs' Jobs (a CronJob cannot be scraped).
  SCRAPE_GENERATED   series Prometheus generates per scrape target (up, ...).

Exit status 1 and a list of missing names, with where each is used, if any is missing.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.parse
import urllib.request
from collections import defaultdict
from pathlib import Path

import yaml

EXTERNAL_PREFIXES = ("rabbitmq_", "kube_")  # RabbitMQ's plugin; kube-state-metrics
SCRAPE_GENERATED = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                    "scrape_samples_post_metric_relabeling", "scrape_series_added", "ALERTS", "ALERTS_FOR_STATE"}
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
            "offset", "bool", "inf", "nan", "atan2", "start", "end"}
GRAFANA_VARS = re.compile(r"\$(__rate_interval|__interval|__range|__range_s|__interval_ms)\b|\$\{__[a-z_]+\}")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
NAME_MATCHER = re.compile(r'__name__\s*=\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"')
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
IDENT = re.compile(r"(?<![\w.:$])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")


def metric_names(expr: str) -> set[str]:
    """Metric names selected by a PromQL expression (Grafana variables allowed)."""
    expr = GRAFANA_VARS.sub("5m", expr)
    names = set(NAME_MATCHER.findall(expr))
    expr = STRING.sub('""', expr)
    expr = re.sub(r"\{[^}]*\}", " ", expr)      # label matchers
    expr = re.sub(r"\[[^\]]*\]", " ", expr)     # ranges / subqueries
    expr = GROUPING.sub(" ", expr)
    for ident, call in IDENT.findall(expr):
        if call or ident in KEYWORDS:
            continue
        names.add(ident)
    return names


def template_query_expr(query) -> str | None:
    """The PromQL inside a Grafana Prometheus template-variable query, if any."""
    if isinstance(query, dict):
        query = query.get("query", "")
    query = (query or "").strip()
    m = re.fullmatch(r"label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)", query, re.S)
    if m:
        return m.group(1)
    m = re.fullmatch(r"(?:query_result|metrics)\((.*)\)", query, re.S)
    if m:
        return m.group(1)
    if re.fullmatch(r"label_values\(\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)|label_names\(\)", query):
        return None
    return None


def _walk_panels(panels):
    for p in panels or []:
        yield p
        yield from _walk_panels(p.get("panels"))


def referenced_metrics(manifest_texts: list[str]) -> tuple[dict[str, set[str]], set[str]]:
    """(metric name -> places it is used, names defined by recording rules)."""
    used: dict[str, set[str]] = defaultdict(set)
    recorded: set[str] = set()
    for text in manifest_texts:
        for doc in yaml.safe_load_all(text):
            if not doc:
                continue
            kind = doc.get("kind")
            if kind == "PrometheusRule":
                for group in doc["spec"]["groups"]:
                    for rule in group["rules"]:
                        if "record" in rule:
                            recorded.add(rule["record"])
                        where = f"rule {group['name']}/{rule.get('alert') or rule.get('record')}"
                        for m in metric_names(str(rule["expr"])):
                            used[m].add(where)
            elif kind == "ConfigMap" and "grafana_dashboard" in ((doc.get("metadata") or {}).get("labels") or {}):
                for key, value in (doc.get("data") or {}).items():
                    dash = json.loads(value)
                    title = dash.get("title", key)
                    for p in _walk_panels(dash.get("panels")):
                        for t in p.get("targets") or []:
                            for m in metric_names(t.get("expr", "")):
                                used[m].add(f"dashboard '{title}' panel '{p.get('title')}'")
                    for var in (dash.get("templating") or {}).get("list", []):
                        expr = template_query_expr(var.get("query")) if var.get("type") == "query" else None
                        for m in metric_names(expr or ""):
                            used[m].add(f"dashboard '{title}' variable ${var['name']}")
    return dict(used), recorded


def _expand(name: str, mtype: str) -> set[str]:
    if mtype == "histogram":
        return {name + "_bucket", name + "_sum", name + "_count"}
    if mtype == "summary":
        return {name, name + "_sum", name + "_count"}
    if mtype == "counter" and not name.endswith("_total"):
        return {name, name + "_total"}
    return {name}


def exposed_from_text(text: str) -> set[str]:
    """Names in a Prometheus text exposition (samples and # TYPE declarations)."""
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, mtype = line.split(None, 3)
            names |= _expand(name, mtype.strip())
        elif line and not line.startswith("#"):
            names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
    return names


def _get(url: str, timeout: float = 10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(f"{url}: {body}")
    return body["data"]


def exposed_from_prometheus(base_url: str, match: str | None = None) -> set[str]:
    """Series names Prometheus holds (optionally only those matching a selector)
    plus names declared in scraped metric metadata."""
    base = base_url.rstrip("/")
    q = "" if not match else "?" + urllib.parse.urlencode({"match[]": match})
    names = set(_get(f"{base}/api/v1/label/__name__/values{q}"))
    for name, entries in _get(f"{base}/api/v1/metadata").items():
        for e in entries:
            names |= _expand(name, e.get("type", "unknown"))
    return names


def missing_metrics(used: dict[str, set[str]], exposed: set[str], recorded: set[str]) -> dict[str, set[str]]:
    return {m: where for m, where in sorted(used.items())
            if m not in exposed and m not in recorded and m not in SCRAPE_GENERATED
            and not m.startswith(EXTERNAL_PREFIXES)}


def report(used, missing) -> str:
    excluded = sorted(m for m in used if m.startswith(EXTERNAL_PREFIXES))
    lines = [f"{len(used)} metric names referenced by dashboards/rules; "
             f"excluded as external exporter metrics: {', '.join(excluded) or 'none'}"]
    for m, where in missing.items():
        lines.append(f"MISSING {m}  (used by: {'; '.join(sorted(where))})")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifests", nargs="+", required=True, help="rendered manifests (helm template output)")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--prometheus", help="base URL of a Prometheus scraping the running services")
    src.add_argument("--metrics-file", nargs="+", help="saved /metrics texts of the running services")
    ap.add_argument("--list", action="store_true", help="print every referenced name")
    args = ap.parse_args()
    used, recorded = referenced_metrics([Path(p).read_text() for p in args.manifests])
    if args.prometheus:
        exposed = exposed_from_prometheus(args.prometheus)
    else:
        exposed = set(SCRAPE_GENERATED)
        for p in args.metrics_file:
            exposed |= exposed_from_text(Path(p).read_text())
    missing = missing_metrics(used, exposed, recorded)
    if args.list:
        for m in sorted(used):
            print(m)
    print(report(used, missing))
    print("FAILED" if missing else "OK: every referenced metric is exposed")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
