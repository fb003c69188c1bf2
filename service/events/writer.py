"""Writing new event versions: for each, both ledger entries, its version row and the query index, with
one statement per table whether there is one version or a batch of a thousand."""
import uuid
from dataclasses import dataclass, field

from sqlalchemy import insert
from sqlalchemy.orm import Session

from service.core.rules.model import Evaluation
from service.core.time import format_utc, parse_rfc3339, utcnow
from service.events.index import index_versions
from service.events.records import version_record
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
    head_id: str | None = None  # the first version's id; None for a first version (its own id)
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(frozen=True)
class StoredVersion:
    event: dict  # the events row as written
    report: dict  # the report entry's body (event_received or correction), as written
    evaluation: dict  # the evaluation entry's body
    entry: object  # the report entry's (id, leaf_hash)

    def record(self) -> dict:
        """Its record as GET shows it; nothing supersedes a version just stored, so no query."""
        return version_record(self.report, self.evaluation, self.entry.id, self.entry.leaf_hash, superseded_by=None)


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
        event={"id": v.event_id, "head_id": v.head_id or v.event_id, "reporter": v.reporter,
               "source_event_id": v.payload["source_event_id"], "version": v.version, "supersedes": v.supersedes,
               "occurred_at": parse_rfc3339(v.payload["occurred_at"]), "received_at": now,
               "ledger_entry_id": entries[2 * i].id, "evaluation_entry_id": entries[2 * i + 1].id},
        report=bodies[2 * i][1], evaluation=bodies[2 * i + 1][1], entry=entries[2 * i]) for i, v in enumerate(versions)]
    session.execute(insert(Event), [s.event for s in stored])
    index_versions(session, [(s.event, v.payload, v.evaluation, v.family) for s, v in zip(stored, versions)])
    return stored
