"""Realistic synthetic strike reports, fast enough for a million.

demo plans reports one by one from real places, weapons and launch areas, checking every
point with the geography module (about 1 ms a report). Here it plans a few thousand *templates*
once; each bench report is a template with its own id, time in the template's policy period,
notes and evidence. The geography of a template is computed once and reused, since a report's
country, depth and range depend only on its target and launch points, which the template fixes.
"""
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

import demo
from service.core import geo
from service.core.rules.model import Geography

SEED = 11
TEMPLATES = 4000
# Reporting systems; the bench's API keys carry these names too.
REPORTERS = ("ops-kharkiv", "ops-sumy", "ops-donetsk", "ops-zaporizhzhia", "ops-kherson", "air-defence-east")
REPORTER_WEIGHTS = (0.30, 0.15, 0.20, 0.15, 0.10, 0.10)
NOTES = ("Reported by the firing unit.", "Post-strike imagery attached.", "Secondary explosions observed.",
         "Battle damage assessment pending.", "Reported from a UAV feed.", "Time from the fire-mission log.")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
SOURCE_ID = "@SOURCE_ID@"  # placeholder in pre-built request bodies (bench/wrk/post_event.lua)


@dataclass(frozen=True)
class Template:
    payload: dict  # a planned report without source_event_id, occurred_at, notes and evidence
    period: int  # index into demo.PERIODS
    geography: Geography


def _period_of(moment: datetime) -> int:
    return next(i for i, p in enumerate(demo.PERIODS) if p.start <= moment < p.end)


def plan_templates(count: int = TEMPLATES, seed: int = SEED) -> list[Template]:
    """The demo's planner (every verdict and rule id occurs), with each template's geography."""
    templates = []
    for planned in demo.plan_reports(count, seed):
        event = planned.event
        occurred = datetime.fromisoformat(event["occurred_at"])
        payload = {k: v for k, v in event.items() if k not in ("source_event_id", "occurred_at", "notes", "evidence")}
        templates.append(Template(payload, _period_of(occurred), geo.geography_of(event)))
    return templates


def report(template: Template, source_event_id: str, occurred_at: datetime, rng: random.Random) -> dict:
    """One report: the template's weapon, launch and target, and this report's own id, time and evidence."""
    payload = {"source_event_id": source_event_id, "occurred_at": occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
               **template.payload}
    if rng.random() < 0.7:
        payload["notes"] = rng.choice(NOTES)
    evidence = [{"kind": kind, "uri": f"s3://evidence/{source_event_id}/{k + 1}.{ext}",
                 "sha256": f"{rng.getrandbits(256):064x}"}
                for k, (kind, ext) in enumerate(rng.choices((("imagery", "tif"), ("video", "mp4"), ("report", "pdf")),
                                                           k=rng.choice((0, 1, 1, 2))))]
    if evidence:
        payload["evidence"] = evidence
    return payload


@dataclass(frozen=True)
class Schedule:
    """When each of `count` reports happened and was received, which template and reporter it has.

    Ordered by receipt, as the API would have appended them to the ledger.
    """
    occurred: np.ndarray  # epoch seconds (reports give whole seconds)
    received: np.ndarray  # epoch microseconds (the service's clock)
    template: np.ndarray
    reporter: np.ndarray

    def __len__(self) -> int:
        return len(self.occurred)


def schedule(count: int, templates: list[Template], seed: int = SEED) -> Schedule:
    """Periods weighted as the demo weights them; reports arrive minutes to hours after the strike."""
    rng = np.random.default_rng(seed)
    weights = np.array([p.weight for p in demo.PERIODS])
    period = rng.choice(len(demo.PERIODS), size=count, p=weights / weights.sum())
    starts = np.array([p.start.timestamp() for p in demo.PERIODS])
    lengths = np.array([(p.end - p.start).total_seconds() for p in demo.PERIODS])
    occurred = (starts[period] + rng.random(count) * lengths[period]).astype(np.int64)
    received = (occurred + 60) * 1_000_000 + rng.exponential(3 * 3600 * 1_000_000, count).astype(np.int64)
    by_period = [np.array([i for i, t in enumerate(templates) if t.period == p]) for p in range(len(demo.PERIODS))]
    template = np.empty(count, dtype=np.int64)
    for p, members in enumerate(by_period):
        chosen = period == p
        template[chosen] = members[rng.integers(len(members), size=int(chosen.sum()))]
    reporter = rng.choice(len(REPORTERS), size=count, p=REPORTER_WEIGHTS)
    order = np.argsort(received, kind="stable")
    return Schedule(occurred[order], received[order], template[order], reporter[order])


def utc(seconds) -> datetime:
    return datetime.fromtimestamp(int(seconds), timezone.utc)


def utc_us(microseconds) -> datetime:
    return EPOCH + timedelta(microseconds=int(microseconds))


def fresh_reports(count: int, templates: list[Template], prefix: str, seed: int = SEED) -> list[dict]:
    """Reports for the load runs (ids `prefix-n`), each at a random time in its template's period."""
    rng = random.Random(f"{seed}-{prefix}")
    reports = []
    for n in range(count):
        template = rng.choice(templates)
        period = demo.PERIODS[template.period]
        moment = period.start + (period.end - period.start) * rng.random()
        reports.append(report(template, f"{prefix}-{n}", moment, rng))
    return reports
