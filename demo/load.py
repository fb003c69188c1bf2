"""Running the demo against a service: submit the set in batches, read every verdict back, tally."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from demo.plan import COVERAGE, PlannedReport, plan_reports
from demo.world import PERIODS
from service.core.rules.engine import SEVERITY_OF_RULE, VERDICTS

RULE_IDS = tuple(SEVERITY_OF_RULE)  # every rule id of contract §6, in the contract's order
STATUSES = ("created", "duplicate", "conflict", "invalid")  # of a batch item, contract §10
MAX_CHUNK = 200

# ---- HTTP -------------------------------------------------------------------------------


class ServiceError(Exception):
    """The service could not be used (unreachable, refused the key, answered an error)."""


@dataclass
class Client:
    base_url: str
    key: str
    timeout: float = 120.0

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.base_url.rstrip("/") + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.key}", "Accept": "application/json",
            **({"Content-Type": "application/json"} if data is not None else {})})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")[:2000]
            try:
                problem = json.loads(detail)
                detail = problem.get("detail") or problem.get("title") or detail
                if problem.get("errors"):
                    detail += f" {json.dumps(problem['errors'])[:1500]}"
            except ValueError:
                pass
            raise ServiceError(f"{method} {path}: HTTP {error.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ServiceError(f"{method} {path}: cannot reach {self.base_url}: {reason}") from None


# ---- running and reporting --------------------------------------------------------------


@dataclass
class Tally:
    """What the service answered for the demo set, counted."""

    statuses: Counter = field(default_factory=Counter)
    verdicts: Counter = field(default_factory=Counter)
    rules: Counter = field(default_factory=Counter)
    policies: Counter = field(default_factory=Counter)
    by_policy_verdict: Counter = field(default_factory=Counter)
    problems: list = field(default_factory=list)  # invalid / conflict items: (source_event_id, status, errors)
    surprises: list = field(default_factory=list)  # coverage scenarios judged otherwise than planned
    submit_seconds: float = 0.0
    read_seconds: float = 0.0
    batches: int = 0

    def missing(self) -> tuple[list[str], list[str]]:
        return ([v for v in VERDICTS if not self.verdicts[v]], [r for r in RULE_IDS if not self.rules[r]])


def _submit(client: Client, reports: list[PlannedReport], chunk: int, tally: Tally) -> list[tuple[str, int]]:
    """POST the reports in chunks; returns (event id, index into reports) of created and duplicate items."""
    stored = []
    started = time.monotonic()
    for offset in range(0, len(reports), chunk):
        events = [r.event for r in reports[offset:offset + chunk]]
        answer = client.call("POST", "/v1/events/batch", {"events": events})
        tally.batches += 1
        results = answer.get("results", [])
        if len(results) != len(events):
            raise ServiceError(f"the batch answered {len(results)} results for {len(events)} reports")
        for result in results:
            index = offset + result["index"]
            tally.statuses[result["status"]] += 1
            if result["status"] in ("created", "duplicate"):
                stored.append((result["id"], index))
            else:
                tally.problems.append((reports[index].event["source_event_id"], result["status"],
                                         result.get("errors")))
    tally.submit_seconds = time.monotonic() - started
    return stored


def _read_back(client: Client, reports: list[PlannedReport], stored: list[tuple[str, int]], tally: Tally,
               workers: int = 4) -> None:
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        records = list(pool.map(lambda item: client.call("GET", f"/v1/events/{item[0]}"), stored))
    tally.read_seconds = time.monotonic() - started
    for (_event_id, index), record in zip(stored, records):
        rules = sorted({f["rule_id"] for f in record.get("findings", [])})
        verdict, policy = record.get("verdict"), record.get("policy_version") or "(none in force)"
        tally.verdicts[verdict] += 1
        tally.policies[policy] += 1
        tally.by_policy_verdict[(policy, verdict)] += 1
        tally.rules.update(rules)
        scenario = reports[index].scenario
        if scenario is not None and (verdict != scenario.expect_verdict
                                     or not set(scenario.expect_rules) <= set(rules)):
            tally.surprises.append((reports[index].event["source_event_id"], scenario.name,
                                      f"expected {scenario.expect_verdict} {list(scenario.expect_rules)}, "
                                      f"the service answered {verdict} {rules}"))


def _section(title: str, rows: list[tuple[str, int]]) -> list[str]:
    width = max([len(k) for k, _ in rows] + [12])
    return [title] + [f"  {key:<{width}}  {value:>6}" for key, value in rows] + [""]


def render(tally: Tally, total: int, url: str, seed: int) -> str:
    policy_ids = [p.policy_id or "(none in force)" for p in PERIODS]
    policies = policy_ids + sorted(set(tally.policies) - set(policy_ids))
    lines = [f"strike-audit demo: {total} synthetic reports, seed {seed}, {url}",
             f"submitted in {tally.batches} batch(es) of <= {MAX_CHUNK}: {tally.submit_seconds:.1f} s; "
             f"read back {sum(tally.verdicts.values())} verdicts: {tally.read_seconds:.1f} s", ""]
    lines += _section("status", [(s, tally.statuses[s]) for s in STATUSES]
                      + [(s, n) for s, n in sorted(tally.statuses.items()) if s not in STATUSES])
    lines += _section("verdict", [(v, tally.verdicts[v]) for v in VERDICTS])
    lines += _section("rule_id (events with the finding)", [(r, tally.rules[r]) for r in RULE_IDS]
                      + [(r, n) for r, n in sorted(tally.rules.items()) if r not in RULE_IDS])
    width = max(len(p) for p in policies)
    lines.append("policy_version" + " " * (width - 12) + "".join(f"{v:>14}" for v in VERDICTS) + f"{'total':>8}")
    for policy in policies:
        lines.append(f"  {policy:<{width}}" + "".join(f"{tally.by_policy_verdict[(policy, v)]:>14}" for v in VERDICTS)
                     + f"{tally.policies[policy]:>8}")
    lines.append("")
    for source_event_id, name, text in tally.surprises:
        lines.append(f"note: {source_event_id} ({name}): {text}")
    for source_event_id, status, errors in tally.problems[:20]:
        lines.append(f"{status}: {source_event_id}: {json.dumps(errors)[:500]}")
    if len(tally.problems) > 20:
        lines.append(f"... and {len(tally.problems) - 20} more")
    missing_verdicts, missing_rules = tally.missing()
    if missing_verdicts or missing_rules:
        lines.append(f"FAIL: never occurred: {', '.join(missing_verdicts + missing_rules)}")
    if tally.problems:
        lines.append(f"FAIL: {len(tally.problems)} report(s) came back invalid or in conflict"
                     + (" (a conflict means this key already stored different reports under these ids:"
                        " try another --seed)" if tally.statuses["conflict"] else ""))
    if not (missing_verdicts or missing_rules or tally.problems):
        lines.append(f"OK: all {len(VERDICTS)} verdicts and all {len(RULE_IDS)} rule ids of contract §6 occurred")
    return "\n".join(lines)


def run(url: str, key: str, count: int, seed: int, chunk: int = MAX_CHUNK, out=sys.stdout) -> int:
    reports = plan_reports(count, seed)
    client = Client(url, key)
    tally = Tally()
    stored = _submit(client, reports, chunk, tally)
    _read_back(client, reports, stored, tally)
    print(render(tally, len(reports), url, seed), file=out)
    missing_verdicts, missing_rules = tally.missing()
    return 1 if (missing_verdicts or missing_rules or tally.problems) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("DEMO_URL", "http://127.0.0.1:8000"),
                        help="base URL of the service (default: $DEMO_URL or http://127.0.0.1:8000)")
    parser.add_argument("--key", default=os.environ.get("DEMO_API_KEY"),
                        help="a reporter (or admin) API key (default: $DEMO_API_KEY)")
    parser.add_argument("--count", type=int, default=600, help="number of reports (default 600)")
    parser.add_argument("--seed", type=int, default=7, help="random seed; the set is a function of it (default 7)")
    parser.add_argument("--chunk", type=int, default=MAX_CHUNK, help=f"reports per batch request (<= {MAX_CHUNK})")
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("an API key is needed: --key KEY or DEMO_API_KEY "
                     "(create one with: flask --app service keys create --name demo --role reporter)")
    if not 1 <= args.chunk <= MAX_CHUNK:
        parser.error(f"--chunk must be between 1 and {MAX_CHUNK}")
    if args.count < len(COVERAGE):
        parser.error(f"--count must be at least {len(COVERAGE)}")
    if args.seed < 0:
        parser.error("--seed must not be negative")
    try:
        return run(args.url, args.key, args.count, args.seed, args.chunk)
    except ServiceError as error:
        print(f"demo: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
