"""The reviewers' judgements in a report: counts by review status, each event's latest review, and the
events whose reviewer judgement differs from the machine verdict (contract §8 reviews).

Both computations hand over the same plain values: a latest review is a dict with `status`,
`reviewer`, `comment` and `recorded_at` (a datetime), or None before any review.
"""
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from service.audit.reviews import REVIEW_STATUSES
from service.core.time import format_utc


@dataclass(frozen=True)
class Judgements:
    """What both computations hand over: events per review status (each event's latest review; "open"
    before any), and every reviewed event of the period with `event_id`, `source_event_id`, `reporter`,
    `occurred_at`, `verdict`, `review_status` and `latest_review`, in any order."""
    by_status: dict
    reviewed: list[dict]


def overrules(verdict: str, review_status: str) -> bool:
    """The reviewer's judgement contradicts the rules: a violation confirmed where the rules found none
    (compliant, needs_review or out_of_scope), or a violation the rules found dismissed. Acknowledging
    or escalating takes no side, and dismissing a needs_review only settles what the rules left open."""
    if review_status == "confirmed_violation":
        return verdict != "violation"
    return review_status == "dismissed" and verdict == "violation"


def review_view(review: dict | None) -> dict | None:
    if review is None:
        return None
    return {"status": review["status"], "reviewer": review["reviewer"], "comment": review["comment"],
            "recorded_at": format_utc(review["recorded_at"])}


def by_review_status(counts: dict) -> dict:
    """Every status, zeros included, in the contract's order (open first)."""
    tally = Counter(dict.fromkeys(REVIEW_STATUSES, 0))
    tally.update(counts)
    return dict(tally)


def overruled_view(row: dict) -> dict:
    """`row`: an event's latest version with `verdict`, `review_status` and `latest_review`."""
    return {"event_id": row["event_id"], "source_event_id": row["source_event_id"], "reporter": row["reporter"],
            "occurred_at": format_utc(row["occurred_at"]), "verdict": row["verdict"],
            "review_status": row["review_status"], "review": review_view(row["latest_review"])}


def overruled(reviewed: list[dict]) -> list[dict]:
    """`reviewed`: the period's reviewed events (any order); those the reviewers overruled, newest first."""
    rows = [row for row in reviewed if overrules(row["verdict"], row["review_status"])]
    return [overruled_view(row) for row in sorted(rows, key=_newest_first, reverse=True)]


def _newest_first(row: dict) -> tuple[datetime, str]:
    return row["occurred_at"], row["event_id"]
