"""Every figure the benchmarks write to ``bench/results.json``: what it measures, how it is
summarised, and its goal when an issue set one.

A figure is either the **median** of at least :data:`MIN_RUNS` runs (rates, ratios,
durations), the **peak** of at least :data:`MIN_RUNS` readings (resident memory), a
**percentile** over at least :data:`MIN_SAMPLES` samples (latency p50/p99), or a
**search** (the largest load that passed, its CPU and memory: one run by nature), or a
**drill** (a whole cluster started, loaded and killed: one run by nature). A figure
measured on fewer runs or samples than its kind asks for counts as a missed goal: a p99
of 60 samples is a p95 with the last three values dropped, not a p99.

Figures without a goal are references: the peer a ratio is taken against, or a figure no
issue set a goal for. They are printed beside the others and never fail a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MIN_RUNS = 5
"""Runs behind a median."""
MIN_SAMPLES = 1000
"""Samples behind a percentile."""

Kind = Literal["median", "peak", "percentile", "search", "drill"]


@dataclass(frozen=True, slots=True)
class Goal:
    """``figure >= bound`` (or ``<=`` when ``at_most``).

    >>> Goal(0.6).met(0.8), Goal(50, at_most=True).met(51)
    (True, False)
    >>> Goal(50, at_most=True).text("ms")
    '≤ 50 ms'
    """

    bound: float
    at_most: bool = False

    def met(self, value: float) -> bool:
        return value <= self.bound if self.at_most else value >= self.bound

    def text(self, unit: str = "") -> str:
        """The goal as printed, in the figure's unit."""
        return f"{'≤' if self.at_most else '≥'} {fmt(self.bound, unit)}"


@dataclass(frozen=True, slots=True)
class Spec:
    """One figure: its key in results.json, what it measures, its unit, kind and goal."""

    key: str
    what: str
    unit: str = ""
    kind: Kind = "median"
    goal: Goal | None = None

    @property
    def goal_text(self) -> str:
        """The goal as printed beside the figure; "—" for a reference."""
        return self.goal.text(self.unit) if self.goal else "—"

    @property
    def minimum(self) -> int:
        """Runs (median), readings (peak) or samples (percentile) it must rest on; 1 for a
        search or a drill."""
        return {"median": MIN_RUNS, "peak": MIN_RUNS, "percentile": MIN_SAMPLES,
                "search": 1, "drill": 1}[self.kind]  # fmt: skip


def fmt(value: float, unit: str = "") -> str:
    """A figure as the tables print it: thousands separated, a sensible precision.

    >>> fmt(70671070, "samples/s"), fmt(0.803, "×"), fmt(38.14, "ms"), fmt(5, "×")
    ('70,671,070 samples/s', '0.80×', '38.1 ms', '5×')
    """
    if unit == "×":
        if float(value).is_integer():
            return f"{value:g}×"
        return f"{value:.2f}×" if value < 10 else f"{value:.1f}×"
    if float(value).is_integer() or abs(value) >= 1000 or unit.endswith("/s"):
        text = f"{value:,.0f}"
    else:
        text = f"{value:.1f}" if abs(value) >= 10 or unit == "ms" else f"{value:.2f}"
    return f"{text} {unit}".rstrip()


def _specs(*specs: Spec) -> dict[str, Spec]:
    return {s.key: s for s in specs}


SPECS: dict[str, Spec] = _specs(
    # bench/ingest.py (goals from issue 2)
    Spec("ingest_vs_paho", "whole hub ingest ÷ bare paho subscriber, same broker and run",
         "×", goal=Goal(0.6)),
    Spec("ingest_msgs_per_s", "whole hub ingest (MQTT → validation → PostgreSQL)", "msg/s"),
    Spec("paho_msgs_per_s", "bare paho subscriber that only counts (the peer)", "msg/s"),
    Spec("publisher_msgs_per_s", "the bench publisher alone, no subscriber (its ceiling)",
         "msg/s"),
    # bench/mqtt_clients.py (issue 12: the short path is kept only if it pays)
    Spec("mqtt_short_path_vs_paho", "hub client's short path ÷ stock paho, same backlog",
         "×", goal=Goal(1.2)),
    Spec("mqtt_short_path_vs_aiomqtt", "hub client's short path ÷ aiomqtt, same backlog", "×"),
    Spec("mqtt_short_path_msgs_per_s", "hub client's short path draining a backlog", "msg/s"),
    Spec("mqtt_paho_msgs_per_s", "stock paho client, same backlog (the peer)", "msg/s"),
    Spec("mqtt_aiomqtt_msgs_per_s", "aiomqtt client, same backlog (a peer)", "msg/s"),
    Spec("copy_vs_executemany", "executemany time ÷ COPY time, same rows", "×", goal=Goal(5)),
    # bench/detect.py (goals from issue 3)
    Spec("detect_samples_per_s", "fall detector, 10,000 devices, vectorised, one core",
         "samples/s", goal=Goal(500_000)),
    Spec("detect_vs_loop", "vectorised ÷ per-device FallDetector.update(), same devices",
         "×", goal=Goal(50)),
    Spec("detect_per_device_samples_per_s", "per-device FallDetector.update() (the peer)",
         "samples/s"),
    # bench/alerts.py (no goal set by issue 4: references)
    Spec("alerts_per_s", "findings through the alert engine on PostgreSQL", "/s"),
    Spec("alerts_commit_per_s", "one bare committed transaction per finding (the peer)", "/s"),
    Spec("alerts_vs_commit", "alert engine ÷ bare commits, PostgreSQL", "×"),
    Spec("notify_p50_ms", "alert opened → signed webhook received, p50", "ms", "percentile"),
    Spec("notify_p99_ms", "alert opened → signed webhook received, p99", "ms", "percentile"),
    Spec("notify_bare_p99_ms", "the same webhooks posted by a bare httpx client, p99", "ms",
         "percentile"),
    # bench/ws.py (goals from issue 5)
    Spec("sos_to_ws_p50_ms", "SOS publish → console frame, 1,000 msg/s behind, p50", "ms",
         "percentile"),
    Spec("sos_to_ws_p99_ms", "SOS publish → console frame, 1,000 msg/s behind, p99", "ms",
         "percentile", Goal(50, at_most=True)),
    Spec("fanout_1000_p50_ms", "one alert to 1,000 consoles, p50", "ms", "percentile"),
    Spec("fanout_1000_p99_ms", "one alert to 1,000 consoles, p99", "ms", "percentile",
         Goal(50, at_most=True)),
    Spec("fanout_1000_bare_p99_ms", "bare websockets broadcaster, same clients, p99 (the peer)",
         "ms", "percentile"),
    Spec("ws_server_rss_mb_1000", "hub resident memory with 1,000 consoles", "MB", "peak"),
    # bench/rss.py (goal from issue 12)
    Spec("hub_rss_mb_10k_devices", "hub RSS, 10,000 registered and 2,000 active devices",
         "MB", "peak", Goal(300, at_most=True)),
    Spec("hub_rss_mb_idle", "hub RSS, nothing registered (the peer)", "MB", "peak"),
    # bench/provision.py (goal from issue 12)
    Spec("provision_100k_s", "import 100,000 devices with credentials (PostgreSQL)", "s",
         goal=Goal(60, at_most=True)),
    Spec("provision_store_100k_s", "the store's bulk write alone, same rows (the peer)", "s"),
    # bench/login.py (issue 14: the console stays responsive during a login flood)
    Spec("healthz_idle_p50_ms", "/healthz on an idle dashboard, p50 (the peer)", "ms"),
    Spec("healthz_login_flood_p50_ms", "/healthz during 96 parallel logins, p50", "ms"),
    Spec("healthz_login_flood_max_ms", "/healthz during 96 parallel logins, worst", "ms"),
    Spec("api_me_login_flood_p50_ms", "console request during 96 parallel logins, p50", "ms"),
    Spec("api_me_login_flood_max_ms", "console request during 96 parallel logins, worst", "ms"),
    Spec("login_flood_96_s", "time for the 96 logins to be answered", "s"),
    # bench/kpi.py (issue 17: KPI queries over a year of 50 stations)
    Spec("kpi_city_year_s", "a city's KPI table over a year, 50 stations (PostgreSQL)", "s",
         goal=Goal(2, at_most=True)),
    Spec("kpi_district_year_s", "a district's KPI table over a year, 5 stations", "s"),
    # bench/scale.py (issue 16; not in `make bench`: a cluster drill of its own)
    Spec("scale_workers_vs_single", "1 bridge + 2 workers ÷ single-node serve, same load",
         "×", "drill"),
    Spec("scale_single_msgs_per_s", "single-node carehub serve (the peer)", "msg/s", "drill"),
    Spec("scale_cluster_msgs_per_s", "1 bridge + 2 workers on NATS JetStream", "msg/s",
         "drill"),
    Spec("failover_p_max_s", "worst time from a worker kill to its partitions live again",
         "s", "drill"),
    # bench/dispatch.py (issue 17: a district's orders planned at once)
    Spec("dispatch_1000x200_s", "propose a worker for 1,000 open orders among 200 workers",
         "s", goal=Goal(2.0, at_most=True)),
    Spec("dispatch_reference_1000x200_s", "the same batch by the reference rule in plain "
         "Python (the peer)", "s"),
    Spec("dispatch_vs_reference", "reference rule time ÷ vectorised planner time", "×"),
    # bench/visits.py (issue 17: visit housekeeping beside the hub, a reference)
    Spec("visits_generate_10k_s", "first generation of 10,000 residents' visit tasks "
         "(PostgreSQL)", "s"),
    Spec("visits_hourly_10k_s", "hourly regeneration, nothing new, 10,000 plans", "s"),
    Spec("visits_round_idle_ms", "a keeper round with nothing overdue", "ms"),
    # bench/load.py (not in `make bench`: a search over device counts)
    Spec("load_max_devices", "most devices carried with no message lost", "", "search"),
    Spec("load_max_rate_per_s", "messages/s at that level", "msg/s", "search"),
    Spec("load_hub_cpu_pct", "hub CPU at that level (% of one core)", "%", "search"),
    Spec("load_hub_rss_mb", "hub RSS at that level", "MB", "search"),
)  # fmt: skip


def spec(key: str) -> Spec:
    """The spec of ``key``; an unknown key is a bug in a benchmark."""
    try:
        return SPECS[key]
    except KeyError:
        raise KeyError(f"{key!r} is not a known figure: add it to bench/goals.py") from None
