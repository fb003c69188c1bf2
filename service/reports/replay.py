"""A report recomputed from the ledger entries' canonical bytes alone (plus the munition catalog and the
checkpoint's signing time): how `reports verify` checks what compute.py counted with SQL.

Nothing is shared with compute.py but the layout (document.assemble) and the revision and judgement
logic that takes over from both (revisions.py, judgements.py).
"""
import json
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.ledger import merkle
from service.core.ledger.canonical import leaf_hash
from service.core.rules.engine import SEVERITIES
from service.core.rules.model import Policy
from service.core.time import parse_rfc3339
from service.ledger.tables import Checkpoint, Leaf, LedgerEntry
from service.policies.tables import Munition
from service.reports.document import FLAGGED, Group, assemble, policy_view
from service.reports.judgements import Judgements
from service.reports.periods import Period, weeks_between
from service.reports.revisions import EventState, Key, RecordedReview, RevisionBasis, Superseded


def _replay(session: Session, tree_size: int):
    """Every entry below tree_size, in leaf order, parsed from its canonical bytes; also the root they hash to."""
    rows = session.execute(select(LedgerEntry.canonical).join(Leaf, Leaf.entry_id == LedgerEntry.id)
                           .where(Leaf.leaf_index < tree_size).order_by(Leaf.leaf_index)).scalars().all()
    return [json.loads(data) for data in rows], merkle.root_from_leaves([leaf_hash(data) for data in rows])


@dataclass
class _Ledger:
    """What the entries replayed so far say about every event; `versions` only ever grows."""
    versions: dict = field(default_factory=dict)  # version id -> its event_received / correction entry
    evaluations: dict = field(default_factory=dict)  # version id -> its newest evaluation entry
    latest: dict = field(default_factory=dict)  # key -> id of the latest judged version
    reviews: dict = field(default_factory=dict)  # key -> its latest review entry
    policies: list = field(default_factory=list)

    def key_of(self, version_id: str) -> Key:
        version = self.versions[version_id]
        return version["reporter"], version["source_event_id"]

    def apply(self, entry: dict) -> None:
        kind = entry["entry_type"]
        if kind in ("event_received", "correction"):
            self.versions[entry["event_id"]] = entry
        elif kind == "evaluation":
            self.evaluations[entry["event_id"]] = entry  # the newest evaluation of a version wins
            key, version = self.key_of(entry["event_id"]), self.versions[entry["event_id"]]
            if key not in self.latest or self.versions[self.latest[key]]["version"] <= version["version"]:
                self.latest[key] = entry["event_id"]
        elif kind == "review":
            self.reviews[self.key_of(entry["event_id"])] = entry
        elif kind == "policy_published":
            self.policies.append(entry)

    def frozen(self) -> "_Ledger":
        """A copy of the view as it is now, unaffected by entries applied later."""
        return _Ledger(self.versions, dict(self.evaluations), dict(self.latest), dict(self.reviews),
                       list(self.policies))

    def head(self, key: Key, period: Period) -> tuple[dict, dict] | None:
        """(version entry, evaluation entry) of the event's latest judged version, if it lies in the period."""
        version_id = self.latest.get(key)
        if version_id is None:
            return None
        version = self.versions[version_id]
        if not period.start <= parse_rfc3339(version["payload"]["occurred_at"]) < period.end:
            return None
        return version, self.evaluations[version_id]

    def state(self, key: Key, period: Period) -> EventState | None:
        head = self.head(key, period)
        if head is None:
            return None
        version, evaluation = head
        review = self.reviews.get(key)
        return EventState(version["event_id"], key[1], key[0], version["version"], evaluation["verdict"],
                          review["status"] if review else "open")

    def policies_in(self, period: Period) -> list[dict]:
        in_force = [Policy.from_document(p["document"]) for p in self.policies]
        return [policy_view(p.id, p.sha256, p.effective_from, p.effective_to) for p in in_force
                if p.effective_from < period.end and (p.effective_to is None or p.effective_to > period.start)]


def _latest_report(entries: list[dict], kind: str, period: Period) -> Superseded | None:
    """The period's newest revision among the entries: the one a new revision supersedes."""
    view = period.view()
    found = None
    for entry in entries:
        if (entry["entry_type"] == "report_generated" and entry["kind"] == kind
                and entry["period"]["from"] == view["from"] and entry["period"]["to"] == view["to"]):
            found = Superseded(entry["report_id"], entry.get("revision", 1), entry["sha256"], entry["tree_size"])
    return found


def _revision_basis(entries: list[dict], kind: str, period: Period, ledger: _Ledger, then: _Ledger | None,
                    superseded: Superseded | None) -> RevisionBasis:
    if superseded is None:
        return RevisionBasis(kind, None)
    touched, recorded = set(), []
    for entry in entries[superseded.tree_size:]:
        if entry["entry_type"] in ("event_received", "correction", "evaluation", "review"):
            key = ledger.key_of(entry["event_id"])
            touched.add(key)
            if entry["entry_type"] == "review":
                recorded.append(RecordedReview(key, entry["event_id"], entry["status"], entry["reviewer"],
                                               entry["comment"], parse_rfc3339(entry["recorded_at"])))
    before = {key: state for key in touched if (state := then.state(key, period)) is not None}
    after = {key: state for key in touched if (state := ledger.state(key, period)) is not None}
    return RevisionBasis(kind, superseded, before, after, recorded, tuple(p["id"] for p in then.policies_in(period)))


def recompute_from_ledger(session: Session, period: Period, tree_size: int, kind: str | None = None) -> dict:
    """The report of `period` from the first `tree_size` entries; `kind` (weekly or monthly): as the
    revision of that scheduled period those entries call for, with its revision section."""
    entries, root = _replay(session, tree_size)
    superseded = _latest_report(entries, kind, period) if kind else None
    ledger, then = _Ledger(), None
    for index, entry in enumerate(entries):
        if superseded is not None and index == superseded.tree_size:
            then = ledger.frozen()
        ledger.apply(entry)
    if superseded is not None and then is None:  # only a ledger that contradicts itself gets here
        then = ledger.frozen()
    families = dict(session.execute(select(Munition.code, Munition.family)).all())
    weeks = weeks_between(period.start, period.end)
    tally, by_rule, flagged, by_status, reviewed = Counter(), Counter(), [], Counter(), []
    for key in ledger.latest:
        head = ledger.head(key, period)
        if head is None:
            continue
        version, evaluation = head
        event_id, payload = version["event_id"], version["payload"]
        occurred_at = parse_rfc3339(payload["occurred_at"])
        found = {f["severity"] for f in evaluation["findings"]}
        severity = next((s for s in SEVERITIES if s in found), "none")
        week = max(i for i, start in enumerate(weeks) if start <= occurred_at)
        tally[(evaluation["verdict"], severity, families.get(payload["weapon"]["munition"], "unknown"),
               version["reporter"], payload["target"]["category"], week, version["version"] > 1)] += 1
        by_rule.update({f["rule_id"] for f in evaluation["findings"]})
        review = ledger.reviews.get(key)
        status = review["status"] if review else "open"
        by_status[status] += 1
        if review is not None:
            reviewed.append({"event_id": event_id, "source_event_id": key[1], "reporter": key[0],
                             "occurred_at": occurred_at, "verdict": evaluation["verdict"], "review_status": status,
                             "latest_review": {"status": status, "reviewer": review["reviewer"],
                                               "comment": review["comment"],
                                               "recorded_at": parse_rfc3339(review["recorded_at"])}})
        if evaluation["verdict"] in FLAGGED:
            flagged.append({"event_id": event_id, "source_event_id": key[1], "reporter": key[0],
                            "occurred_at": occurred_at, "received_at": parse_rfc3339(version["received_at"]),
                            "verdict": evaluation["verdict"], "policy_version": evaluation["policy_version"],
                            "severity": severity, "review_status": status, "findings": evaluation["findings"],
                            "lat": payload["target"]["lat"], "lon": payload["target"]["lon"]})
    signed_at = session.scalars(select(Checkpoint.signed_at).where(Checkpoint.tree_size == tree_size)).one()
    revision = _revision_basis(entries, kind, period, ledger, then, superseded) if kind else None
    return assemble(period, tree_size, root, signed_at, ledger.policies_in(period),
                    [Group(*key, count) for key, count in tally.items()], by_rule, flagged,
                    Judgements(dict(by_status), reviewed), revision)
