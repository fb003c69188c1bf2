"""`make bench`: the performance figures against their targets, into bench/results/latest.json and a table.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/ .venv/bin/python -m bench.run

A loaded template database (bench.databases, built once) is cloned for the run and dropped after.
The service runs under gunicorn as in production (service/gunicorn_conf.py, service.wsgi:app, the
embedded sequencer); the ceiling app under the same settings. Each figure is the median of
BENCH_RUNS runs (3); the slow ones stop early when they overrun their time budget, and a phase that
fails records why and lets the others run.
"""
import os
import platform
import subprocess
import time
from pathlib import Path

from service.ledger.verify import default_jobs

from . import commands, console, databases, events, export, intake, reads, results, servers
from .intake import LoadShape

REPO = servers.REPO
RESULTS = REPO / "bench" / "results" / "latest.json"
WORK = REPO / "var" / "bench" / "work"
SERVICE_APP, SERVICE_CONFIG = "service.wsgi:app", "service/gunicorn_conf.py"
CEILING_APP, CEILING_CONFIG = "bench.ceiling:app", "bench/gunicorn_ceiling.py"


PHASES = ("single", "batch", "reads", "console", "report", "verify", "export")


class Settings:
    def __init__(self, environ=os.environ):
        self.server_url = environ.get("BENCH_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/"
        self.events = int(environ.get("BENCH_EVENTS", 1_000_000))
        self.runs = int(environ.get("BENCH_RUNS", 3))
        self.seconds = float(environ.get("BENCH_SECONDS", 10))  # of each single-event wrk load
        self.port = int(environ.get("BENCH_PORT", 8600))
        # Caps on one run of the two slowest figures, so that a slow service still gives a bench in
        # bounded time: the export's growth is then the growth until the cap, and says so.
        # 90 s streams about half a million events, plenty to see whether memory grows with the
        # export, and keeps a first run (template build included) under ten minutes.
        self.export_limit_s = float(environ.get("BENCH_EXPORT_LIMIT_S", 90))
        self.verify_limit_s = float(environ.get("BENCH_VERIFY_LIMIT_S", 120))
        # `ledger verify --jobs`; by default one per CPU (at most 8), as the command itself does.
        self.verify_jobs = int(environ.get("BENCH_VERIFY_JOBS", default_jobs()))
        # The worker count production would use: gunicorn_conf reads WEB_CONCURRENCY (default 4).
        self.workers = int(environ.get("WEB_CONCURRENCY", 4))
        # Which phases to run (comma-separated), for working on one figure; every phase by default.
        self.phases = set((environ.get("BENCH_PHASES") or ",".join(PHASES)).split(","))
        # Closed-loop wrk: two connections per worker keep every worker busy with one request queued.
        self.load = LoadShape(self.seconds, connections=2 * self.workers, threads=2)
        self.reads = LoadShape(max(3.0, self.seconds / 2), connections=2 * self.workers, threads=2)


def repeat(runs: int, budget_s: float, measure) -> list:
    """`measure()` up to `runs` times, but no new run once `budget_s` has gone by (at least one)."""
    outcomes, started = [], time.perf_counter()
    while len(outcomes) < runs and (not outcomes or time.perf_counter() - started < budget_s):
        outcomes.append(measure())
    return outcomes


def machine(server_url: str) -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal")))
    [(version,)] = databases.query(databases.database_url(server_url, "postgres"), "SHOW server_version")
    return {"cores": os.cpu_count(), "ram_gib": round(mem_kib / 2**20, 1), "cpu": cpu, "postgresql": version,
            "python": platform.python_version(), "load_average_at_start": os.getloadavg()}


class Bench:
    def __init__(self, settings: Settings):
        self.s = settings
        self.started = time.perf_counter()
        self.figures = {name: results.Figure(name) for name in results.TARGETS}
        self.run_id = f"r{int(time.time())}"
        self.log = WORK / "gunicorn.log"

    def say(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.started:6.0f} s] {text}", flush=True)

    def record(self, name: str, value: float) -> None:
        self.figures[name].runs.append(value)

    def attempt(self, names: tuple[str, ...], what: str, phase, key: str = "") -> None:
        """Run a phase; if it fails, say so on its figures and go on with the next phase."""
        if key and key not in self.s.phases:
            return
        try:
            phase()
        except Exception as error:  # one failing measurement must not cost the others
            text = f"{what}: {type(error).__name__}: {str(error)[:300]}"
            self.say(f"FAILED {text}")
            for name in names:
                self.figures[name].error = text

    # ---- phases ---------------------------------------------------------------------------

    def single_events(self, ceiling, service, key: str, templates: list) -> None:
        bodies = intake.write_bodies(WORK / "bodies.ndjson", templates)
        warm = LoadShape(max(2.0, self.s.seconds / 3), self.s.load.connections, self.s.load.threads)
        self.say(f"warming up both servers ({warm.seconds:.0f} s each)")
        intake.post_events(ceiling, key, bodies, f"{self.run_id}-warm-c", warm)
        intake.post_events(service, key, bodies, f"{self.run_id}-warm-s", warm)
        intake.settle(self.url)
        for run in range(self.s.runs):
            ceiling_load, single, lag = intake.single_event_run(ceiling, service, self.url, key, bodies,
                                                                f"{self.run_id}-{run}", self.s.load)
            for name, value in (("ceiling_rps", ceiling_load.ok_per_s), ("single_rps", single.ok_per_s),
                                ("single_ratio", single.ok_per_s / ceiling_load.ok_per_s),
                                ("single_p99_ms", single.p99_ms), ("sequencer_lag_p99_s", lag)):
                self.record(name, value)
            if single.failed or ceiling_load.failed:
                self.figures["single_rps"].error = (f"{single.failed} of {single.requests} service requests and "
                                                    f"{ceiling_load.failed} ceiling requests failed")
            self.say(f"single-event run {run + 1}: ceiling {ceiling_load.ok_per_s:.0f} req/s, service "
                     f"{single.ok_per_s:.0f} req/s (p99 {single.p99_ms:.0f} ms), sequencer lag p99 {lag:.2f} s")

    def batches(self, service, key: str, templates: list) -> None:
        def measure():
            return intake.batch_run(service, self.url, key, templates, f"{self.run_id}-batch{time.time_ns()}",
                                    self.s.workers)
        for run, (rate, problem) in enumerate(repeat(self.s.runs, 90, measure)):
            self.record("batch_events_per_s", rate)
            if problem:
                self.figures["batch_events_per_s"].error = problem
            self.say(f"batch run {run + 1}: {rate:.0f} events/s stored ({self.s.workers} concurrent batches of "
                     f"1000){'; ' + problem if problem else ''}")

    def reads(self, service, auditor: str) -> None:
        inclusion, consistency = reads.proof_paths(WORK, service.base_url)
        queries = reads.query_paths(WORK, service.base_url, auditor)
        for run in range(self.s.runs):
            for name, paths, key in (("inclusion_proof_p95_ms", inclusion, None),
                                     ("consistency_proof_p95_ms", consistency, None),
                                     ("query_p95_ms", queries, auditor)):
                load = reads.get_paths(service, paths, self.s.reads, key)
                intake.settle(self.url)
                self.record(name, load.p95_ms)
                if load.failed:
                    self.figures[name].error = f"{load.failed} of {load.requests} requests failed"
                self.say(f"{name} run {run + 1}: p95 {load.p95_ms:.1f} ms at {load.ok_per_s:.0f} req/s"
                         + (f" ({load.failed} failed)" if load.failed else ""))

    def console_pages(self, service, auditor: str) -> None:
        for run in range(self.s.runs):
            outcome = console.console_run(service.base_url, auditor)
            self.record("console_list_p95_ms", outcome.p95_ms)
            self.say(f"console list pages run {run + 1}: p95 {outcome.p95_ms:.0f} ms, median {outcome.median_ms:.0f} ms "
                     f"over {outcome.pages} pages")

    def report(self, service, auditor: str) -> None:
        start, end, count = commands.busiest_month(self.url)
        self.figures["report_month_s"].note = f"POST /v1/reports for {start:%Y-%m} ({count} events)"
        for seconds in repeat(self.s.runs, 60, lambda: commands.report_run(service, auditor, start, end)):
            self.record("report_month_s", seconds)
            self.say(f"monthly report {start:%Y-%m} ({count} events): {seconds:.1f} s")

    def verify(self) -> None:
        jobs = self.s.verify_jobs
        runs = repeat(self.s.runs, 90, lambda: commands.verify_run(self.env, self.s.verify_limit_s, jobs))
        for entries, rate, cpu_s in runs:
            self.record("verify_entries_per_s", rate)
            self.record("verify_cpu_us_per_entry", cpu_s / entries * 1e6)
            self.say(f"ledger verify --jobs {jobs}: {entries} entries at {rate:,.0f} entries/s, "
                     f"{cpu_s:.1f} CPU seconds (all processes)")

    def exports(self, auditor: str) -> None:
        one = servers.start(SERVICE_APP, SERVICE_CONFIG, self.s.port + 2, {**self.env, "EMBEDDED_SEQUENCER": "0"},
                            self.log, workers=1)
        try:
            for outcome in repeat(self.s.runs, self.s.export_limit_s,
                                  lambda: export.export_run(one, auditor, self.s.export_limit_s)):
                self.record("export_events_per_s", outcome.lines / outcome.seconds)  # a capped run's rate too
                self.record("export_rss_growth_mib", outcome.growth_mib)
                rate = f"{outcome.lines} events in {outcome.seconds:.0f} s ({outcome.lines / outcome.seconds:,.0f}/s)"
                if not outcome.complete:
                    self.figures["export_rss_growth_mib"].error = f"stopped after {rate}: too slow to finish"
                self.say(f"export: {rate}{'' if outcome.complete else ', stopped there'}, worker RSS "
                         f"{outcome.baseline_mib:.0f} MiB + {outcome.growth_mib:.1f} MiB")
        finally:
            one.stop()

    # ---- the whole run --------------------------------------------------------------------

    def create_key(self, name: str, role: str) -> str:
        done = subprocess.run([commands.FLASK, "--app", "service", "keys", "create", "--name", name, "--role", role],
                              cwd=REPO, env={**os.environ, **self.env}, capture_output=True, text=True, check=True)
        return done.stdout.strip().splitlines()[-1]

    def measure(self) -> None:
        reporter, auditor = self.create_key("bench-reporter", "reporter"), self.create_key("bench-auditor", "auditor")
        templates = events.plan_templates(count=300, seed=events.SEED + 1)
        service = servers.start(SERVICE_APP, SERVICE_CONFIG, self.s.port, self.env, self.log, self.s.workers)
        try:
            ceiling = servers.start(CEILING_APP, CEILING_CONFIG, self.s.port + 1, self.env, self.log, self.s.workers)
            try:
                self.attempt(("ceiling_rps", "single_rps", "single_ratio", "single_p99_ms", "sequencer_lag_p99_s"),
                             "single-event load", lambda: self.single_events(ceiling, service, reporter, templates),
                             "single")
            finally:
                ceiling.stop()
            self.attempt(("batch_events_per_s",), "batch load", lambda: self.batches(service, reporter, templates),
                         "batch")
            intake.settle(self.url)
            self.attempt(("inclusion_proof_p95_ms", "consistency_proof_p95_ms", "query_p95_ms"), "read load",
                         lambda: self.reads(service, auditor), "reads")
            self.attempt(("console_list_p95_ms",), "console list pages", lambda: self.console_pages(service, auditor),
                         "console")
            self.record("worker_rss_mib", service.worker_rss_mib())
            self.attempt(("report_month_s",), "monthly report", lambda: self.report(service, auditor), "report")
            intake.settle(self.url)
        finally:
            service.stop()
        self.attempt(("verify_entries_per_s", "verify_cpu_us_per_entry"), "ledger verify", self.verify, "verify")
        self.attempt(("export_events_per_s", "export_rss_growth_mib"), "export", lambda: self.exports(auditor),
                     "export")

    def run(self) -> dict:
        WORK.mkdir(parents=True, exist_ok=True)
        meta = {"machine": machine(self.s.server_url), "events": self.s.events, "runs": self.s.runs,
                "wrk": vars(self.s.load), "workers": self.s.workers, "verify_jobs": self.s.verify_jobs}
        template, built_s = databases.ensure_template(self.s.server_url, self.s.events, echo=self.say)
        meta["template"], meta["template_build_s"] = template, round(built_s, 1)
        run_db = f"{databases.PREFIX}run_{os.getpid()}"
        self.url = databases.clone(self.s.server_url, template, run_db)
        self.say(f"cloned {template} into {run_db}")
        # Capacity, not policy, is measured: per-key rate limits would cap one key's load long before
        # the service's own limit, so they are set out of reach (the limiter itself still runs).
        self.env = {"DATABASE_URL": self.url, "LEDGER_SIGNING_KEY": str(databases.key_path(template)),
                    "LEDGER_ORIGIN": databases.ORIGIN, "RATE_LIMIT": "100000000/minute",
                    "RATE_LIMIT_BATCH": "100000000/minute"}
        try:
            self.measure()
        finally:
            databases.drop(self.s.server_url, run_db)
        meta["total_s"] = round(time.perf_counter() - self.started, 1)
        meta["machine"]["load_average_at_end"] = os.getloadavg()
        return results.write(RESULTS, self.figures, meta), meta


def main() -> None:
    data, meta = Bench(Settings()).run()
    print()
    print(results.markdown_table(data))
    built = meta["template_build_s"]
    print(f"\n{RESULTS.relative_to(REPO)} written; {meta['total_s']:.0f} s in all "
          f"(template {f'built in {built:.0f} s' if built else 'reused'}).")


if __name__ == "__main__":
    main()
