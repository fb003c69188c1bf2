"""Revisions of a scheduled period's report: which revision this is, what it supersedes, what changed.

A stored report never changes. When events of its period arrive, are corrected or are reviewed after
it was computed, the next generation stores revision n + 1, whose `revision` section names revision n
(report id, SHA-256, tree size) and lists what changed between the two tree sizes. Both computations
(SQL and ledger replay) hand over a RevisionBasis; everything else here is shared, so they can only
disagree on what they found, never on how the section is laid out.

"Touched" events are those with an event, correction, evaluation or review entry between the two tree
sizes; every other event of the period is as it was, so comparing the touched ones alone is exact.
"""
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from service.core.time import format_utc

Key = tuple[str, str]  # (reporter, source_event_id): one reported event, whatever its version


@dataclass(frozen=True)
class EventState:
    """An event's latest judged version, as of a tree size, when it lies in the period."""
    event_id: str
    source_event_id: str
    reporter: str
    version: int
    verdict: str
    review_status: str


@dataclass(frozen=True)
class RecordedReview:
    key: Key
    event_id: str  # the version reviewed
    status: str
    reviewer: str
    comment: str
    recorded_at: datetime


@dataclass(frozen=True)
class Superseded:
    """The revision a new one supersedes, as its report_generated entry records it."""
    report_id: int
    revision: int
    sha256: str
    tree_size: int


@dataclass(frozen=True)
class RevisionBasis:
    kind: str  # weekly | monthly
    superseded: Superseded | None  # None: revision 1
    before: dict[Key, EventState] = field(default_factory=dict)  # touched events, as of superseded.tree_size
    after: dict[Key, EventState] = field(default_factory=dict)  # the same events now
    reviews: list[RecordedReview] = field(default_factory=list)  # recorded since, in ledger order
    policies_before: tuple[str, ...] = ()  # ids in force in the period, as of superseded.tree_size


def section(basis: RevisionBasis, counts_after: dict, policies_after: list[str]) -> dict:
    """The document's `revision`: `counts_after` holds events, corrected_events, by_verdict and
    by_review_status of the period now, as the report counts them."""
    superseded = basis.superseded
    if superseded is None:
        return {"kind": basis.kind, "number": 1, "supersedes": None, "changes": None}
    return {"kind": basis.kind, "number": superseded.revision + 1,
            "supersedes": {"report_id": superseded.report_id, "revision": superseded.revision,
                           "sha256": superseded.sha256, "tree_size": superseded.tree_size},
            "changes": _changes(basis, counts_after, policies_after)}


def has_changes(basis: RevisionBasis, policies_after: list[str]) -> bool:
    """Whether a revision would record anything new since the one it supersedes (revision 1 always
    does): decided before the report is computed, from what the revision compares."""
    return basis.superseded is None or any(_change_lists(basis, policies_after).values())


def _changes(basis: RevisionBasis, counts_after: dict, policies_after: list[str]) -> dict:
    return {**_change_lists(basis, policies_after),
            "counts": {"before": _counts_before(counts_after, basis.before, basis.after), "after": counts_after}}


def _change_lists(basis: RevisionBasis, policies_after: list[str]) -> dict:
    before, after = basis.before, basis.after
    both = sorted(before.keys() & after.keys())
    period_events = before.keys() | after.keys()
    return {
        "events_added": [_state_view(after[k]) for k in sorted(after.keys() - before.keys())],
        # corrected to an occurred_at outside the period
        "events_removed": [_state_view(before[k]) for k in sorted(before.keys() - after.keys())],
        "versions_corrected": [
            {"source_event_id": k[1], "reporter": k[0], "from_event_id": before[k].event_id,
             "from_version": before[k].version, "to_event_id": after[k].event_id, "to_version": after[k].version}
            for k in both if before[k].version != after[k].version],
        "verdicts_changed": [
            {"event_id": after[k].event_id, "source_event_id": k[1], "reporter": k[0],
             "from": before[k].verdict, "to": after[k].verdict}
            for k in both if before[k].verdict != after[k].verdict],
        "reviews_recorded": [
            {"event_id": r.event_id, "source_event_id": r.key[1], "reporter": r.key[0], "status": r.status,
             "reviewer": r.reviewer, "comment": r.comment, "recorded_at": format_utc(r.recorded_at)}
            for r in basis.reviews if r.key in period_events],
        "policy_versions_added": [p for p in policies_after if p not in basis.policies_before],
    }


def _state_view(state: EventState) -> dict:
    return {"event_id": state.event_id, "source_event_id": state.source_event_id, "reporter": state.reporter,
            "version": state.version, "verdict": state.verdict, "review_status": state.review_status}


def _counts_before(after_counts: dict, before: dict[Key, EventState], after: dict[Key, EventState]) -> dict:
    """The period's counts as of the superseded revision: today's, with each touched event's present
    state taken out and its earlier state put back (untouched events are unchanged by definition)."""
    def tally(states) -> dict:
        states = list(states)
        return {"events": len(states), "corrected_events": sum(s.version > 1 for s in states),
                "by_verdict": Counter(s.verdict for s in states),
                "by_review_status": Counter(s.review_status for s in states)}

    now, then = tally(after.values()), tally(before.values())
    counts = {name: after_counts[name] - now[name] + then[name] for name in ("events", "corrected_events")}
    for name in ("by_verdict", "by_review_status"):
        counts[name] = {key: n - now[name][key] + then[name][key] for key, n in after_counts[name].items()}
    return counts
