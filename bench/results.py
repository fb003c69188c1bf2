"""The performance figures, their targets, and how they are written: bench/results/latest.json and a table."""
import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Target:
    unit: str
    bound: float | None  # None: no target of its own
    at_least: bool = True  # True: value >= bound meets it; False: value <= bound
    what: str = ""


# In the order. single_rps's bound is half the ceiling measured in the same run (set in `figures`).
TARGETS = {
    "ceiling_rps": Target("req/s", None, what="minimal Flask POST, same gunicorn settings"),
    "single_rps": Target("req/s", None, what="POST /v1/events, one report a request"),
    "single_ratio": Target("×", 0.5, what="single_rps / ceiling_rps"),
    "single_p99_ms": Target("ms", 50, False, what="POST /v1/events p99 at that load"),
    "batch_events_per_s": Target("events/s", 20_000, what="POST /v1/events/batch, 1000 reports a request"),
    "sequencer_lag_p99_s": Target("s", 1, False, what="entry created → integrated, under the single-event load"),
    "inclusion_proof_p95_ms": Target("ms", 10, False, what="GET /v1/ledger/proofs/inclusion, random leaves of the whole ledger"),
    "consistency_proof_p95_ms": Target("ms", 10, False, what="GET /v1/ledger/proofs/consistency, random older sizes"),
    "query_p95_ms": Target("ms", 50, False, what="GET /v1/events, a mix of filters and cursor pages"),
    "console_list_p95_ms": Target("ms", 200, False, what="GET /console/events (100 rows, the count of matches), "
                                                          "one request at a time: the server's time"),
    "export_events_per_s": Target("events/s", 20_000, what="one worker streams the NDJSON export of every event: "
                                                            "events streamed / wall seconds (within the time cap)"),
    "export_rss_growth_mib": Target("MiB", 50, False, what="one worker's RSS growth, NDJSON export of every event"),
    "verify_entries_per_s": Target("entries/s", 200_000, what="flask ledger verify over the whole ledger"),
    "verify_cpu_us_per_entry": Target("µs", None, what="that run's CPU, all processes incl. PostgreSQL, per entry: "
                                                       "a rate R needs R × this / 10⁶ cores"),
    "report_month_s": Target("s", 2, False, what="monthly compliance report, busiest month"),
    "worker_rss_mib": Target("MiB", 150, False, what="largest gunicorn worker after the load runs"),
}


@dataclass
class Figure:
    name: str
    runs: list[float] = field(default_factory=list)
    note: str = ""
    error: str = ""  # why a run failed; a figure with no run is then not met

    @property
    def value(self) -> float | None:
        return statistics.median(self.runs) if self.runs else None


def figures_json(figures: dict[str, Figure]) -> dict:
    """{name: {value, target, met, unit, runs, note}}; single_rps's target is 0.5 × the ceiling."""
    out = {}
    ceiling = figures.get("ceiling_rps")
    for name, target in TARGETS.items():
        figure = figures.get(name, Figure(name))
        bound = target.bound
        if name == "single_rps" and ceiling is not None and ceiling.value is not None:
            bound = 0.5 * ceiling.value
        value = figure.value
        if value is None:
            met = False if figure.error and bound is not None else None
        else:
            met = None if bound is None else (value >= bound if target.at_least else value <= bound)
        out[name] = {"value": _round(value), "target": _round(bound), "met": met, "unit": target.unit,
                     "comparison": ">=" if target.at_least else "<=", "runs": [_round(r) for r in figure.runs],
                     "note": figure.note or target.what}
        if figure.error:
            out[name]["error"] = figure.error
    return out


def _round(value: float | None) -> float | None:
    if value is None:
        return None
    return round(value, 3) if abs(value) < 100 else round(value, 1)


def _shown(value: float | None) -> str:
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def markdown_table(data: dict) -> str:
    lines = ["| figure | value | target | met | runs | what |", "|---|---:|---:|:---:|---|---|"]
    for name in TARGETS:
        row = data[name]
        target = "–" if row["target"] is None else f"{row['comparison']} {_shown(row['target'])}"
        met = {True: "yes", False: "**no**", None: "–"}[row["met"]]
        runs = ", ".join(_shown(r) for r in row["runs"])
        what = row["note"] + (f" — {row['error']}" if row.get("error") else "")
        lines.append(f"| {name} | {_shown(row['value'])} {row['unit']} | {target} | {met} | {runs} | {what} |")
    return "\n".join(lines)


def write(path: Path, figures: dict[str, Figure], meta: dict) -> dict:
    data = figures_json(figures)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**data, "meta": meta}, indent=2) + "\n")
    return data
