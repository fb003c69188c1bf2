"""Prometheus metrics: requests by route and status, events ingested by verdict, and the ledger's
backlog and size. Under gunicorn every worker writes its samples to PROMETHEUS_MULTIPROC_DIR (set up
in gunicorn_conf) and a scrape adds them up, whichever worker answers it."""
from flask import Flask, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from service.core.time import utcnow
from service.ledger.cosigned import witnessing_status
from service.ledger.sequencer import backlog
from service.ledger.tree import latest_checkpoint
from service.web.logs import request_seconds

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
disable_created_metrics()  # a *_created series per label set doubles the output and tells nothing here
LABELS = ("method", "route", "status")
REQUESTS = Counter("audit_http_requests_total", "Requests answered, by method, route (the URL rule) and status",
                   LABELS)
LATENCY = Histogram("audit_http_request_duration_seconds",
                    "Seconds until the response was ready (a streamed body is still being sent)", LABELS)
INGESTED = Counter("audit_events_ingested_total",
                   "Event versions stored and judged, by verdict; kind: report (new) or correction",
                   ("verdict", "kind"))
# Label values come from a fixed set: a raw path or a made-up method would add a time series per request.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"


def count_ingested(verdict: str, kind: str) -> None:
    INGESTED.labels(verdict, kind).inc()


def install(app: Flask) -> None:
    @app.after_request
    def _observe(response):
        labels = (request.method if request.method in METHODS else "other",
                  request.url_rule.rule if request.url_rule else UNMATCHED, str(response.status_code))
        REQUESTS.labels(*labels).inc()
        LATENCY.labels(*labels).observe(request_seconds())
        return response


class LedgerCollector:
    """Read from the database at scrape time, so every worker and instance reports the same numbers."""

    def __init__(self, sessions: sessionmaker):
        self.sessions = sessions

    def describe(self):
        return []  # registering must not query the database

    def collect(self):
        up = GaugeMetricFamily("audit_database_up", "1 when this scrape could read the ledger tables")
        try:
            with self.sessions() as session:
                pending, checkpoint = backlog(session, utcnow()), latest_checkpoint(session)
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("audit_sequencer_lag_seconds", "Age of the oldest ledger entry no signed "
                                "checkpoint covers yet; 0 when none is pending", value=pending.lag_seconds)
        yield GaugeMetricFamily("audit_ledger_pending_entries", "Ledger entries waiting for the sequencer",
                                value=pending.pending)
        yield GaugeMetricFamily("audit_ledger_tree_size", "Tree size of the latest signed checkpoint",
                                value=checkpoint.tree_size if checkpoint else 0)


class WitnessCollector:
    """How far witnessing trails signing, read at scrape time like LedgerCollector."""

    def __init__(self, sessions: sessionmaker, policy):
        self.sessions, self.policy = sessions, policy

    def describe(self):
        return []

    def collect(self):
        try:
            with self.sessions() as session:
                status = witnessing_status(session, self.policy, utcnow())
        except SQLAlchemyError:
            return  # audit_database_up already says so
        yield GaugeMetricFamily("audit_ledger_witnessed_tree_size", "Tree size of the newest checkpoint carrying "
                                "the witness quorum (the published one); -1 when none does",
                                value=-1 if status.witnessed_tree_size is None else status.witnessed_tree_size)
        yield GaugeMetricFamily("audit_ledger_unwitnessed_seconds", "Age of the oldest signed checkpoint newer than "
                                "the published one: how long the quorum has been missing; 0 when it is not",
                                value=status.unwitnessed_seconds)
        cosigned = GaugeMetricFamily("audit_witness_cosigned_tree_size", "Largest tree size each witness of the "
                                     "policy has cosigned", labels=["witness"])
        for name in self.policy.witnesses:
            cosigned.add_metric([name], status.cosigned_sizes.get(name, -1))
        yield cosigned


def exposition(sessions: sessionmaker, multiprocess_dir: str | None, policy=None) -> bytes:
    """Prometheus text format: this process's (or, under gunicorn, every worker's) samples, then the ledger's."""
    if multiprocess_dir:
        workers = CollectorRegistry()
        MultiProcessCollector(workers)
    else:
        workers = REGISTRY
    ledger = CollectorRegistry()
    ledger.register(LedgerCollector(sessions))
    if policy is not None and policy.needs_witnesses:
        ledger.register(WitnessCollector(sessions, policy))
    return generate_latest(workers) + generate_latest(ledger)
