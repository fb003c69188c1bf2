"""Writing new event versions: for each, both ledger entries, the event and evaluation rows and the
query index, with one statement per table whether there is one version or a batch of a thousand."""
import uuid
from dataclasses import dataclass, field

from sqlalchemy import insert
from sqlalchemy.orm import Session

from service.audit.records import version_record
from service.core.rules.model import Evaluation
from service.core.time import format_utc, parse_rfc3339, utcnow
from service.events.index import index_versions
from service.events.tables import Evaluation as EvaluationRow
from service.events.tables import Event
from service.ledger.entries import append_entries


@dataclass(frozen=True)
class NewVersion:
    reporter: str
    submitted_by: str
    payload: dict
    evaluation: Evaluation
    family: str | None  # the munition's catalog family (None if uncatalogued), for the query index
    version: int = 1
    supersedes: str | None = None
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(frozen=True)
class StoredVersion:
    event: dict
    evaluation: dict
    entry: object  # the report entry's (id, leaf_hash)

    def record(self) -> dict:
        """Its record as GET shows it; nothing supersedes a version just stored, so no query."""
        return version_record(Event(**self.event), EvaluationRow(**self.evaluation), self.entry, superseded_by=None)


def store_versions(session: Session, versions: list[NewVersion]) -> list[StoredVersion]:
    """Store every version in the caller's transaction: its report entry (`event_received`, or
    `correction` when it supersedes another) and its `evaluation` entry, then the rows."""
    now = utcnow()
    received_at = format_utc(now)
    bodies = []
    for v in versions:
        bodies.append(("event_received" if v.supersedes is None else "correction", {
            "event_id": v.event_id, "reporter": v.reporter, "submitted_by": v.submitted_by,
            "source_event_id": v.payload["source_event_id"], "version": v.version, "supersedes": v.supersedes,
            "received_at": received_at, "payload": v.payload}))
        bodies.append(("evaluation", {"event_id": v.event_id, **v.evaluation.to_dict()}))
    entries = append_entries(session, bodies, now)
    stored = [StoredVersion(
        event={"id": v.event_id, "reporter": v.reporter, "source_event_id": v.payload["source_event_id"],
               "version": v.version, "supersedes": v.supersedes, "payload": v.payload,
               "occurred_at": parse_rfc3339(v.payload["occurred_at"]), "received_at": now,
               "ledger_entry_id": entries[2 * i].id},
        evaluation={"event_id": v.event_id, "policy_id": v.evaluation.policy_id,
                    "policy_sha256": v.evaluation.policy_sha256, "verdict": v.evaluation.verdict,
                    "findings": [f.to_dict() for f in v.evaluation.findings], "computed": v.evaluation.computed,
                    "evaluated_at": now, "ledger_entry_id": entries[2 * i + 1].id},
        entry=entries[2 * i]) for i, v in enumerate(versions)]
    session.execute(insert(Event), [s.event for s in stored])
    session.execute(insert(EvaluationRow), [s.evaluation for s in stored])
    index_versions(session, [(s.event, v.evaluation, v.family) for s, v in zip(stored, versions)])
    return stored
