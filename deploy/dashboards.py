#!/usr/bin/env python3
"""The chart's Grafana dashboards, as code (grafana-foundation-sdk).

  python deploy/dashboards.py           write charts/pingan/dashboards/ (`make dashboards`)
  python deploy/dashboards.py --check   exit 1 if the files there differ from what this makes

One function per panel group. Operations panels take the service from the `$service`
variable, so a new service needs no line here; its regulation panels are one entry in
REGULATION_GROUPS (the chart adds a group's row for each name a service lists under
`services.<name>.monitoring.regulationPanels`).

Domain figures (open events, overdue items, cases, ...) are computed by every replica
from the one shared database, so each replica reports the whole figure: they are
de-duplicated with `max by (namespace, service, ...)` before any `sum` (see `once`).
RED counters and lags are per process and are summed or maxed as before.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from grafana_foundation_sdk.builders import bargauge, common, dashboard, prometheus, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import (
    LegendDisplayMode,
    LegendPlacement,
    SortOrder,
    StackingMode,
    TooltipDisplayMode,
)
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DataSourceRef,
    VariableOption,
    VariableRefresh,
    VariableSort,
)

OUT = Path(__file__).resolve().parents[1] / "charts" / "pingan" / "dashboards"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
NS = 'namespace=~"$namespace"'
SVC = f'{NS}, service=~"$service"'
KIND = f'{SVC}, kind=~"$kind"'
COUNTY = f'{NS}, county=~"$county"'


def once(metric: str, labels: str, selector: str = COUNTY) -> str:
    """A domain figure counted once however many replicas report it (see module docstring)."""
    return f"max by (namespace, service, {labels}) ({metric}{{{selector}}})"


def query(expr: str, legend: str, instant: bool = False) -> prometheus.Dataquery:
    q = prometheus.Dataquery().expr(expr).legend_format(legend).ref_id("A").datasource(DATASOURCE)
    return q.instant() if instant else q


def graph(title: str, expr: str, legend: str, unit: str = "short", width: int = 8, height: int = 8,
          stacked: bool = False) -> timeseries.Panel:
    legend_table = (common.VizLegendOptions().display_mode(LegendDisplayMode.TABLE).placement(LegendPlacement.RIGHT)
                    .show_legend(True).calcs(["lastNotNull", "max"]))
    panel = (timeseries.Panel().title(title).datasource(DATASOURCE).unit(unit).span(width).height(height)
             .legend(legend_table)
             .tooltip(common.VizTooltipOptions().mode(TooltipDisplayMode.MULTI).sort(SortOrder.DESCENDING))
             .with_target(query(expr, legend)))
    if stacked:
        panel = panel.stacking(common.StackingConfig().mode(StackingMode.NORMAL)).fill_opacity(30)
    return panel


def bars(title: str, expr: str, legend: str, width: int = 8) -> bargauge.Panel:
    return (bargauge.Panel().title(title).datasource(DATASOURCE).unit("short").span(width).height(8)
            .with_target(query(expr, legend, instant=True)))


def variable(name: str, label: str, metric_query: str) -> dashboard.QueryVariable:
    return (dashboard.QueryVariable(name).label(label).datasource(DATASOURCE).query(metric_query)
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED).include_all(True).all_value(".*").multi(True)
            .sort(VariableSort.ALPHABETICAL_ASC).current(VariableOption(text="All", value="$__all")))


def frame(uid: str, title: str, description: str, tags: list[str],
          variables: list[dashboard.QueryVariable]) -> dashboard.Dashboard:
    board = (dashboard.Dashboard(title).uid(uid).description(description).tags(tags).timezone("browser")
             .refresh("1m").time("now-6h", "now").tooltip(DashboardCursorSync.CROSSHAIR).readonly()
             .with_variable(dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus"))
             .with_variable(variable("namespace", "Namespace", "label_values(pingan_up, namespace)")))
    for v in variables:
        board = board.with_variable(v)
    return board


# ---- Operations: one function per row ------------------------------------------------

def availability() -> list:
    return [graph("Replicas up", f"count by (service) (pingan_up{{{SVC}}} == 1)", "{{service}}", height=6),
            graph("Calls per second (all entrypoints)",
                  f"sum by (service) (rate(pingan_entrypoint_calls_total{{{SVC}}}[$__rate_interval]))",
                  "{{service}}", "reqps", height=6)]


def red() -> list:
    def rate(metric: str, by: str) -> str:
        return f"sum by ({by}) (rate({metric}{{{KIND}}}[$__rate_interval]))"
    calls, errors = "pingan_entrypoint_calls_total", "pingan_entrypoint_errors_total"
    dur = "pingan_entrypoint_duration_seconds"
    return [
        graph("Rate", rate(calls, "service, entrypoint, kind"), "{{service}} {{entrypoint}} ({{kind}})", "reqps"),
        graph("Errors", rate(errors, "service, entrypoint, error"), "{{service}} {{entrypoint}} {{error}}", "reqps"),
        graph("Error ratio", f"{rate(errors, 'service, entrypoint')} / {rate(calls, 'service, entrypoint')}",
              "{{service}} {{entrypoint}}", "percentunit"),
        *[graph(f"Duration p{int(q * 100)}",
                f"histogram_quantile({q}, {rate(dur + '_bucket', 'service, entrypoint, le')})",
                "{{service}} {{entrypoint}}", "s") for q in (0.5, 0.95)],
        graph("Mean duration",
              f"{rate(dur + '_sum', 'service, entrypoint')} / {rate(dur + '_count', 'service, entrypoint')}",
              "{{service}} {{entrypoint}}", "s"),
    ]


def relay_and_projections() -> list:
    # Every replica reads the same log: the lag is a shared figure, so max, never sum.
    return [graph("Relay lag (stored events not yet dispatched)",
                  f"max by (service) (pingan_relay_lag_events{{{SVC}}})", "{{service}}"),
            graph("Events dispatched per second",
                  f"sum by (service, event_type) (rate(pingan_relay_dispatched_total{{{SVC}}}[$__rate_interval]))",
                  "{{service}} {{event_type}}", "ops"),
            graph("Projection lag (events behind)",
                  f"max by (service, projection) (pingan_projection_lag_events{{{SVC}}})",
                  "{{service}} {{projection}}")]


def rabbitmq_queues() -> list:
    queues = 'queue=~"rpc-.*|evt-.*"'
    return [graph("RPC queue depth (ready)",
                  'sum by (queue) (rabbitmq_queue_messages_ready{queue=~"rpc-.*"})', "{{queue}}"),
            graph("Unacknowledged messages",
                  f"sum by (queue) (rabbitmq_queue_messages_unacked{{{queues}}})", "{{queue}}"),
            graph("Consumers per queue", f"sum by (queue) (rabbitmq_queue_consumers{{{queues}}})", "{{queue}}")]


def audit_jobs() -> list:
    return [graph("Failed audit Jobs (kept in history)",
                  f'count by (namespace, job_name) (kube_job_failed{{{NS}, '
                  'job_name=~".+-audit-(verify|checkpoint)-.+", condition="true"} == 1)', "{{job_name}}", width=12),
            graph("Since the last successful audit Job",
                  f'time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{{{NS}, '
                  'cronjob=~".+-audit-(checkpoint|verify)"})', "{{cronjob}}", "s", width=12)]


OPERATIONS_ROWS: list[tuple[str, Callable[[], list]]] = [
    ("Availability", availability),
    ("RED per service and entrypoint", red),
    ("Event relay (outbox) and projections", relay_and_projections),
    ("RabbitMQ queues (RabbitMQ's own Prometheus plugin, per-object metrics)", rabbitmq_queues),
    ("Audit log jobs (kube-state-metrics; auditLog.enabled)", audit_jobs),
]


def operations() -> dict:
    board = frame("pingan-operations", "Ping'an / Operations",
                  "RED per service and entrypoint, event relay and projection lag, RabbitMQ queue depth.",
                  ["pingan", "operations"],
                  [variable("service", "Service", 'label_values(pingan_up{namespace=~"$namespace"}, service)'),
                   variable("kind", "Entrypoint kind",
                            'label_values(pingan_entrypoint_calls_total{namespace=~"$namespace"}, kind)')])
    for title, panels in OPERATIONS_ROWS:
        board = board.with_row(dashboard.Row(title))
        for panel in panels():
            board = board.with_panel(panel)
    return _numbered(_plain(board.build()))


# ---- Regulation (Art. 12): one function per group; the chart stacks the groups' rows ----

def grid_events_open() -> list:
    figure = once("pingan_grid_events_open", "county, status")
    return [graph("Open grid events by county and status", f"sum by (county, status) ({figure})",
                  "{{county}} {{status}}", width=16, stacked=True),
            bars("Open grid events now", f"sum by (county) ({figure})", "{{county}}")]


def grid_events_work_items() -> list:
    figure = f"sum by (county) ({once('pingan_work_items_overdue', 'county')})"
    return [graph("Overdue work items by county", figure, "{{county}}", width=16),
            bars("Overdue now", figure, "{{county}}")]


def grid_events_risks() -> list:
    figure = once("pingan_risks_open", "county, level")
    return [graph("Open risks by warning level", f"sum by (county, level) ({figure})", "{{county}} {{level}}",
                  width=16, stacked=True),
            bars("Open risks per level", f"sum by (level) ({figure})", "{{level}}")]


def grid_events_closure() -> list:
    def quantile(q: float) -> str:
        buckets = (f"max by (namespace, service, county, le) "
                   f"(rate(pingan_grid_event_closure_seconds_bucket{{{COUNTY}}}[$__rate_interval]))")
        return f"histogram_quantile({q}, sum by (county, le) ({buckets}))"
    return [graph(f"Closure time p{int(q * 100)} by county", quantile(q), "{{county}}", "s", width=12)
            for q in (0.5, 0.9)]


def mediation() -> list:
    escalations = (f"max by (namespace, service, county, to_tier) "
                   f"(increase(pingan_mediation_escalations_total{{{COUNTY}}}[$__range]))")
    return [graph("Local resolution rate by tier",
                  f"max by (county, tier) ({once('pingan_mediation_local_resolution_ratio', 'county, tier')})",
                  "{{county}} {{tier}}", "percentunit", width=12),
            bars("Escalations by target tier (over the time range)", f"sum by (county, to_tier) ({escalations})",
                 "{{county}} → {{to_tier}}", width=12),
            graph("Open mediation cases by tier and source",
                  f"sum by (county, tier, source) ({once('pingan_mediation_cases_open', 'county, tier, source')})",
                  "{{county}} {{tier}} {{source}}", width=24)]


def emergency_command() -> list:
    def per_county(metric: str) -> str:
        return f"sum by (county) ({once(metric, 'county')})"

    def quantile(q: float) -> str:
        # The histogram holds every incident ever acknowledged: the range's increase is the recent ones.
        buckets = (f"max by (namespace, service, le) "
                   f"(increase(pingan_emergency_first_acknowledgement_seconds_bucket{{{NS}}}[$__range]))")
        return f"histogram_quantile({q}, sum by (le) ({buckets}))"

    incidents = once("pingan_emergency_incidents_open", "county, level")
    return [graph("Open incidents by county and level", f"sum by (county, level) ({incidents})",
                  "{{county}} {{level}}", width=16, stacked=True),
            bars("Open incidents per level", f"sum by (level) ({incidents})", "{{level}}"),
            bars("Key areas with a drill overdue", per_county("pingan_emergency_drills_overdue"), "{{county}}"),
            bars("Key areas under-staffed", per_county("pingan_emergency_key_areas_understaffed"), "{{county}}"),
            bars("Key areas without a plan", per_county("pingan_emergency_plans_missing"), "{{county}}"),
            *[graph(f"Opening to first acknowledged task p{int(q * 100)} (over the time range)", quantile(q),
                    "all counties", "s", width=12) for q in (0.5, 0.9)]]


def key_populations() -> list:
    enrolled = once("pingan_key_population_enrolled", "category, county")
    overdue = once("pingan_key_population_follow_ups_overdue", "category, county")
    # Risk levels carry no county (bounded labels: category x level), so the county filter does not apply.
    levels = once("pingan_key_population_risk_level", "category, level", NS)
    return [graph("Enrolled by category and county", f"sum by (county, category) ({enrolled})",
                  "{{county}} {{category}}", width=16, stacked=True),
            bars("Enrolled per category", f"sum by (category) ({enrolled})", "{{category}}"),
            bars("Follow-ups overdue by county", f"sum by (county, category) ({overdue})",
                 "{{county}} {{category}}", width=12),
            bars("Risk-level distribution", f"sum by (category, level) ({levels})", "{{category}} {{level}}",
                 width=12),
            bars("Released persons' hand-overs not acknowledged in time",
                 f"sum by (county) ({once('pingan_key_population_handovers_late', 'county')})", "{{county}}",
                 width=12)]


def juvenile_protection() -> list:
    # A sealed case is never in these figures (docs/services/juvenile_protection.md).
    cases = once("pingan_juvenile_open_cases", "county, category")
    stalled = once("pingan_juvenile_plan_tasks_stalled", "county, department")
    return [graph("Open minors' cases by county and category", f"sum by (county, category) ({cases})",
                  "{{county}} {{category}}", width=16, stacked=True),
            bars("Open minors' cases per category", f"sum by (category) ({cases})", "{{category}}"),
            bars("Mandatory reports overdue for acceptance",
                 f"sum by (county) ({once('pingan_juvenile_reports_overdue', 'county')})", "{{county}}"),
            bars("Stalled plan tasks per department", f"sum by (department) ({stalled})", "{{department}}"),
            bars("Stalled plan tasks per county", f"sum by (county) ({stalled})", "{{county}}"),
            bars("Plan and special-school placement reviews overdue",
                 f"sum by (county, kind) ({once('pingan_juvenile_reviews_overdue', 'county, kind')})",
                 "{{county}} {{kind}}", width=12)]


# One line per panel group: file name (listed in values under monitoring.regulationPanels), row title, panels.
REGULATION_GROUPS: list[tuple[str, str, Callable[[], list]]] = [
    ("grid_events_open", "Grid events (Arts. 5, 6): open events", grid_events_open),
    ("grid_events_work_items", "Grid work items (Art. 6): overdue", grid_events_work_items),
    ("grid_events_risks", "Risks and hazards (Art. 7): open by warning level", grid_events_risks),
    ("grid_events_closure", "Grid events: closure time (report to closed, with feedback)", grid_events_closure),
    ("mediation", "Dispute mediation (Art. 8): local resolution and escalation", mediation),
    ("emergency_command", "Emergency command (Arts. 6(3), 7(1)): incidents and key areas", emergency_command),
    ("juvenile_protection", "Juvenile protection (Art. 7(5)): cases, intake deadlines, plan tasks, reviews",
     juvenile_protection),
    ("key_populations", "Key populations (Art. 7(4)): enrolled, follow-ups overdue, risk levels", key_populations),
]


def regulation() -> dict:
    board = frame("pingan-regulation", "Ping'an / Regulation Art. 12 assessment by county",
                  "Indicators for the annual Art. 12 assessment of counties. Rows come from the enabled "
                  "services (values: services.<name>.monitoring.regulationPanels).",
                  ["pingan", "regulation"],
                  [variable("county", "County (jurisdiction code)",
                            'label_values(pingan_grid_events_open{namespace=~"$namespace"}, county)')])
    return _plain(board.build())  # panels: assembled by the chart (templates/_monitoring.tpl)


def regulation_group(title: str, panels: Callable[[], list]) -> dict:
    board = dashboard.Dashboard(title)
    for panel in panels():
        board = board.with_panel(panel)
    return {"title": title, "panels": _plain(board.build())["panels"]}


def _plain(model: object) -> dict:
    return json.loads(json.dumps(model, cls=JSONEncoder))


def _numbered(board: dict) -> dict:
    for number, panel in enumerate(board.get("panels", []), start=1):
        panel["id"] = number
    return board


def generated() -> dict[Path, str]:
    files = {OUT / "operations.json": operations(), OUT / "regulation.json": regulation()}
    for name, title, panels in REGULATION_GROUPS:
        files[OUT / "regulation" / f"{name}.json"] = regulation_group(title, panels)
    return {path: json.dumps(content, indent=2, ensure_ascii=False) + "\n" for path, content in files.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the checked-in files are stale")
    args = parser.parse_args()
    stale = []
    for path, text in generated().items():
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in stale:
        print(f"stale: {path} (run `make dashboards`)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
