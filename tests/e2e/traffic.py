"""Reporting systems and auditors over real HTTP, and a record of what the service acknowledged to them.

Each reporting client sends, round after round: a new report, the same report again (an idempotent
replay), the same source_event_id with another body (a conflict), a report every client of its
reporter sends identically at once, one each client sends differently at once, and now and then a
batch mixing new, repeated, conflicting and invalid items. Answers the contract does not allow are
collected in `unexpected`; a request cut off by a fault the test provokes is kept in `failed` and
sent again by `resend_failed`, as a reporting system retries until it gets an answer.
"""
import itertools
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass

import requests

from ..helpers import make_event

# contract §2 (single reports) and §10 (batch items, mapped onto the same codes).
ITEM_STATUS = {"created": 201, "duplicate": 200, "conflict": 409, "invalid": 400}
EXPECTED = {
    "new": {201},  # a source_event_id never sent before
    "replay": {200},  # an acknowledged body again: the original record
    "conflict": {409},  # an acknowledged source_event_id with another body
    "shared": {200, 201},  # one body from every client of a reporter at once: one 201, the rest 200
    "contested": {201, 409},  # another body from each client at once: one 201, the rest 409
    "invalid": {400},
}
# After a fault, an answer may have been lost after the report was stored: sent again, it is a replay.
AFTER_FAULTS = {"new": {200}, "contested": {200}}
PROBLEM_JSON = "application/problem+json"
# What a killed process does to a request: no connection, or a response cut after its headers.
CUT_OFF = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


@dataclass(frozen=True)
class Submission:
    kind: str
    reporter: str
    body: dict

    @property
    def key(self) -> tuple[str, str]:
        return self.reporter, self.body["source_event_id"]


def _target(client: int, round_: int) -> dict:
    """Targets spread over the Kharkiv–Belgorod border, so reports are judged with different geography."""
    return {"target.lat": round(50.2 + (client * 7 + round_) % 40 / 100, 4),
            "target.lon": round(36.5 + (client * 3 + round_) % 50 / 100, 4)}


class Traffic:
    """Threads of clients against `base`; `headers` maps key names to their Authorization headers.

    `transient` names the failures the test provokes ("connection" for killed processes, 503 for a
    database outage): those requests are kept for `resend_failed`; any other failure is unexpected."""

    def __init__(self, base: str, headers: dict[str, dict], transient: tuple = (), batch_sizes=(50,),
                 batch_every: int = 3):
        self.base, self.headers, self.transient = base, headers, set(transient)
        self.batch_sizes, self.batch_every = batch_sizes, batch_every
        self.acknowledged: dict[tuple[str, str], tuple[str, dict]] = {}  # key -> (event id, body)
        self.created: Counter = Counter()  # 201s (or "created" items) per key: never more than one
        self.failed: list[tuple[str, list[Submission]]] = []  # (path, its reports)
        self.unexpected: list[str] = []
        self.answers: Counter = Counter()  # (kind, status or "connection")
        self.latencies: list[tuple[float, int | str]] = []  # single reports: (seconds, status)
        self.reads = 0  # auditor reads answered 200: each one must have written one access entry
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    # -- requests -------------------------------------------------------------------------------
    def _post(self, http: requests.Session, path: str, reporter: str, body: dict, kind: str):
        """The response, or None when it failed in a way the test provoked (and is to be retried)."""
        started = time.monotonic()
        try:
            response = http.post(self.base + path, json=body, headers=self.headers[reporter], timeout=60)
        except CUT_OFF as error:
            outcome, response = "connection", None
            failure = f"{kind} {path}: {type(error).__name__}"
        except requests.Timeout:
            outcome, response, failure = "timeout", None, f"{kind} {path}: no answer within 60 s"
        else:
            outcome, failure = response.status_code, f"{kind} {path}: {response.status_code} {response.text[:300]}"
        with self._lock:
            self.answers[kind, outcome] += 1
            if path == "/v1/events":
                self.latencies.append((time.monotonic() - started, outcome))
            if response is not None and response.status_code >= 400 and (
                    response.headers.get("Content-Type") != PROBLEM_JSON):
                self.unexpected.append(f"{failure}: not {PROBLEM_JSON}")
            if outcome == 503 and not response.headers.get("Retry-After"):
                self.unexpected.append(f"{failure}: no Retry-After")
            if outcome in self.transient:
                return None
            if response is None or response.status_code >= 500:
                self.unexpected.append(failure)
                return None
        return response

    def _expected(self, kind: str) -> set[int]:
        return EXPECTED[kind] | (AFTER_FAULTS.get(kind, set()) if self.transient else set())

    def _answered(self, submission: Submission, status: int, event_id: str | None, detail: str) -> bool:
        """Records an answer; True when the report is acknowledged (stored, answered 2xx)."""
        with self._lock:
            if status not in self._expected(submission.kind):
                self.unexpected.append(f"{submission.kind} {submission.key}: {status} {detail[:300]}")
            if status not in (200, 201):
                return False
            self.created[submission.key] += status == 201
            known = self.acknowledged.setdefault(submission.key, (event_id, submission.body))
            if known != (event_id, submission.body):
                self.unexpected.append(f"{submission.key} acknowledged twice differently: {known} and "
                                       f"{(event_id, submission.body)}")
            return True

    def submit(self, http: requests.Session, submission: Submission) -> bool:
        response = self._post(http, "/v1/events", submission.reporter, submission.body, submission.kind)
        if response is None:
            with self._lock:
                self.failed.append(("/v1/events", [submission]))
            return False
        record = response.json()
        return self._answered(submission, response.status_code, record.get("id"), response.text)

    def submit_batch(self, http: requests.Session, items: list[Submission]) -> None:
        response = self._post(http, "/v1/events/batch", items[0].reporter, {"events": [i.body for i in items]},
                              "batch")
        if response is None:
            with self._lock:
                self.failed.append(("/v1/events/batch", items))
            return
        if response.status_code != 200:
            with self._lock:
                self.unexpected.append(f"batch: {response.status_code} {response.text[:300]}")
            return
        results = response.json()["results"]
        if [r["index"] for r in results] != list(range(len(items))):
            with self._lock:
                self.unexpected.append(f"batch: results are not one per item in order: {results[:3]}…")
            return
        for item, result in zip(items, results):
            self._answered(item, ITEM_STATUS[result["status"]], result.get("id"), str(result))

    # -- clients --------------------------------------------------------------------------------
    def _batch(self, client: int, reporter: str, round_: int, acknowledged: Submission | None) -> list[Submission]:
        size = self.batch_sizes[(round_ // self.batch_every + client) % len(self.batch_sizes)]
        prefix = f"c{client}-{round_}-b"
        items = [Submission("invalid", reporter, make_event(f"{prefix}bad", **{"target.lat": 123.0}))]
        items += [Submission("new", reporter, make_event(f"{prefix}{n}", **_target(client, round_ + n)))
                  for n in range(size)]
        items.append(Submission("replay", reporter, items[1].body))  # the same item twice in one batch
        if acknowledged is not None:
            items += [Submission("replay", reporter, acknowledged.body),
                      Submission("conflict", reporter, {**acknowledged.body, "notes": "another account"})]
        return items

    def _round(self, http: requests.Session, client: int, reporter: str, round_: int) -> bool:
        """One round; False when its first request failed (the rest of it is then skipped)."""
        own = Submission("new", reporter, make_event(f"c{client}-{round_}", **_target(client, round_)))
        failures = len(self.failed)
        acknowledged = own if self.submit(http, own) else None
        if len(self.failed) > failures:
            return False
        if acknowledged is not None:  # only an acknowledged report has a known stored body to replay or clash with
            self.submit(http, Submission("replay", reporter, own.body))
            self.submit(http, Submission("conflict", reporter, {**own.body, "notes": "another account"}))
        self.submit(http, Submission("shared", reporter, make_event(f"shared-{round_}")))
        self.submit(http, Submission("contested", reporter, make_event(f"contested-{round_}", notes=f"client {client}")))
        if round_ % self.batch_every == 0 and not self.stopping.is_set():  # the longest request: not when stopping
            self.submit_batch(http, self._batch(client, reporter, round_, acknowledged))
        return True

    def _reporting_client(self, client: int, reporter: str, rounds: int | None) -> None:
        failing = 0
        with requests.Session() as http:
            for round_ in range(rounds) if rounds is not None else itertools.count():
                if self.stopping.is_set():
                    return
                failing = 0 if self._round(http, client, reporter, round_) else failing + 1
                if failing:  # the server or its database is down: back off, as a reporting system would
                    self.stopping.wait(min(0.2 * 2 ** failing, 2.0))

    def _auditor(self, headers: dict) -> None:
        with requests.Session() as http:
            while not self.stopping.is_set():
                try:
                    response = http.get(f"{self.base}/v1/events?limit=20", headers=headers, timeout=60)
                    status = response.status_code
                except CUT_OFF:
                    status = "connection"
                except requests.Timeout:
                    status = "timeout"
                with self._lock:
                    if status == 200:
                        self.reads += 1
                    elif status not in self.transient:
                        self.unexpected.append(f"auditor read: {status}")
                time.sleep(0.05)

    @contextmanager
    def running(self, reporters: list[str], auditors: list[str] = (), rounds: int | None = None):
        """One thread per reporting client (`reporters` names each client's key) and per auditor; on leaving,
        clients finish their round (or their `rounds`) and stop."""
        threads = [threading.Thread(target=self._reporting_client, args=(n, reporter, rounds))
                   for n, reporter in enumerate(reporters)]
        threads += [threading.Thread(target=self._auditor, args=(self.headers[name],)) for name in auditors]
        for thread in threads:
            thread.start()
        try:
            yield self
            if rounds is not None:
                for thread in threads[:len(reporters)]:
                    thread.join()
        finally:
            self.stopping.set()
            for thread in threads:
                thread.join()

    def wait_for_acknowledgements(self, count: int, timeout: float = 60.0) -> None:
        """Until `count` more reports than now are acknowledged: progress, not a fixed time."""
        target = len(self.acknowledged) + count
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < target:
            assert time.monotonic() < deadline, f"only {len(self.acknowledged)} of {target} acknowledged"
            assert not self.unexpected, self.unexpected[:5]
            time.sleep(0.05)

    def resend_failed(self, timeout: float = 60.0) -> int:
        """Sends every cut-off request again until it gets an answer; returns how many there were."""
        pending, count = self.failed, len(self.failed)
        self.failed = []
        deadline = time.monotonic() + timeout
        with requests.Session() as http:
            while pending:
                assert time.monotonic() < deadline, f"{len(pending)} requests still fail after {timeout} s"
                for path, items in pending:
                    if path == "/v1/events":
                        self.submit(http, items[0])
                    else:
                        self.submit_batch(http, items)
                pending, self.failed = self.failed, []
                time.sleep(0.1 if pending else 0)
        return count
