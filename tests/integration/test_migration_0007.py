"""Migration 0007 moves stored data: rows that restated the ledger become rows derived from it.

A database at revision 0006 is filled as the service then wrote it (versions with payloads, evaluation
rows, heads, rules, a correction and a review with its comment); after `alembic upgrade head` the
ledger verifies, every row agrees with its entries and the API shows the same records; the downgrade
rebuilds the old rows from the entries.
"""
import uuid

import pytest
import sqlalchemy as sa
from alembic import command

from service import create_app
from service.core.ledger.canonical import canonical_bytes, leaf_hash
from service.core.time import format_utc, parse_rfc3339, utcnow
from service.db import UTCDateTime, make_engine
from service.events.index import highest_severity
from service.events.intake import judge_with
from service.keys.store import create_key
from service.ledger import sequencer
from service.ledger.verify import verify_database
from service.policies.store import RuleSet, munition_catalog, stored_policies

from ..dbs import alembic_config
from ..helpers import make_event


INSTANTS = {"occurred_at", "received_at", "created_at", "evaluated_at"}


def _table(name: str, *columns: str, json: tuple = ()) -> sa.TableClause:
    """The old table as its rows were written: instants in UTC as UTCDateTime stores them, JSON as JSON."""
    return sa.table(name, *(sa.column(c, UTCDateTime()) if c in INSTANTS else sa.column(c) for c in columns),
                    *(sa.column(c, sa.JSON) for c in json))


ENTRIES = _table("ledger_entries", "id", "entry_type", "canonical", "leaf_hash", "created_at")
PENDING = _table("ledger_pending", "entry_id")
EVENTS = _table("events", "id", "reporter", "source_event_id", "version", "supersedes", "occurred_at", "received_at",
                "ledger_entry_id", json=("payload",))
EVALUATIONS = _table("evaluations", "event_id", "policy_id", "policy_sha256", "verdict", "evaluated_at",
                     "ledger_entry_id", json=("findings", "computed"))
RULES = _table("event_rules", "event_id", "rule_id")
HEADS = _table("event_heads", "id", "event_id", "reporter", "source_event_id", "version", "occurred_at",
               "received_at", "verdict", "severity", "munition", "family", "category", "target_country",
               "policy_version", "review_status", "target_lat", "target_lon")
REVIEWS = _table("reviews", "event_id", "head_id", "status", "comment", "reviewer", "created_at", "ledger_entry_id")


class OldWriter:
    """What revision 0006's service wrote for a version and a review, statement by statement."""

    def __init__(self, conn):
        self.conn = conn
        with sa.orm.Session(bind=conn) as session:
            self.rules = RuleSet(stored_policies(session), munition_catalog(session))

    def entry(self, entry_type: str, body: dict, now) -> int:
        data = canonical_bytes({"entry_type": entry_type, "recorded_at": format_utc(now), **body})
        entry_id = self.conn.execute(sa.insert(ENTRIES).values(entry_type=entry_type, canonical=data,
                                                               leaf_hash=leaf_hash(data), created_at=now)
                                     .returning(ENTRIES.c.id)).scalar_one()
        self.conn.execute(sa.insert(PENDING).values(entry_id=entry_id))
        return entry_id

    def version(self, payload: dict, version: int = 1, supersedes: str | None = None, head: str | None = None) -> str:
        now, event_id, judged = utcnow(), str(uuid.uuid4()), judge_with(self.rules, payload)
        kind = "event_received" if supersedes is None else "correction"
        report = self.entry(kind, {"event_id": event_id, "reporter": "ops-a", "submitted_by": "ops-a",
                                   "source_event_id": payload["source_event_id"], "version": version,
                                   "supersedes": supersedes, "received_at": format_utc(now), "payload": payload}, now)
        evaluation = judged.evaluation
        judged_entry = self.entry("evaluation", {"event_id": event_id, **evaluation.to_dict()}, now)
        self.conn.execute(sa.insert(EVENTS).values(
            id=event_id, reporter="ops-a", source_event_id=payload["source_event_id"], version=version,
            supersedes=supersedes, payload=payload, occurred_at=parse_rfc3339(payload["occurred_at"]),
            received_at=now, ledger_entry_id=report))
        self.conn.execute(sa.insert(EVALUATIONS).values(
            event_id=event_id, policy_id=evaluation.policy_id, policy_sha256=evaluation.policy_sha256,
            verdict=evaluation.verdict, findings=[f.to_dict() for f in evaluation.findings],
            computed=evaluation.computed, evaluated_at=now, ledger_entry_id=judged_entry))
        for rule in sorted({f.rule_id for f in evaluation.findings}):
            self.conn.execute(sa.insert(RULES).values(event_id=event_id, rule_id=rule))
        fields = dict(event_id=event_id, reporter="ops-a", source_event_id=payload["source_event_id"], version=version,
                      occurred_at=parse_rfc3339(payload["occurred_at"]), received_at=now, verdict=evaluation.verdict,
                      severity=highest_severity(evaluation), munition=payload["weapon"]["munition"],
                      family=judged.family, category=payload["target"]["category"],
                      target_country=evaluation.computed["country"], policy_version=evaluation.policy_id,
                      target_lat=payload["target"]["lat"], target_lon=payload["target"]["lon"])
        if head is None:
            self.conn.execute(sa.insert(HEADS).values(id=event_id, review_status="open", **fields))
        else:
            self.conn.execute(sa.update(HEADS).where(HEADS.c.id == head).values(**fields))
        return event_id

    def review(self, event_id: str, head: str, status: str, comment: str) -> None:
        now = utcnow()
        entry = self.entry("review", {"event_id": event_id, "head_id": head, "status": status, "comment": comment,
                                      "reviewer": "auditor-1"}, now)
        self.conn.execute(sa.insert(REVIEWS).values(event_id=event_id, head_id=head, status=status, comment=comment,
                                                    reviewer="auditor-1", created_at=now, ledger_entry_id=entry))
        self.conn.execute(sa.update(HEADS).where(HEADS.c.id == head).values(review_status=status))


@pytest.fixture
def old_database(db_factory):
    url = db_factory.create(empty=True)
    yield url
    db_factory.drop(url)


def _reports() -> list[dict]:
    return [make_event("m-compliant"), make_event("m-civilian", **{"target.category": "residential"}),
            make_event("m-sea", **{"target.lat": 43.5, "target.lon": 34.0, "occurred_at": "2024-06-02T05:14:00+02:00"}),
            make_event("m-fixed", **{"weapon.munition": "M39-ATACMS"})]


def test_upgrade_moves_the_data_and_the_downgrade_brings_it_back(old_database, signing_key_path):
    config = alembic_config(old_database)
    command.upgrade(config, "0006")
    engine = make_engine(old_database)
    with engine.begin() as conn:
        from service.policies.store import load_bundled
        with sa.orm.Session(bind=conn) as session:
            load_bundled(session)
            session.flush()
        writer = OldWriter(conn)
        ids = {report["source_event_id"]: writer.version(report) for report in _reports()}
        corrected = make_event("m-fixed", **{"weapon.munition": "M31A1-GMLRS"})
        ids["m-fixed v2"] = writer.version(corrected, version=2, supersedes=ids["m-fixed"], head=ids["m-fixed"])
        writer.review(ids["m-civilian"], ids["m-civilian"], "confirmed_violation", "seen on the imagery")
        old_payloads = dict(conn.execute(sa.select(EVENTS.c.id, EVENTS.c.payload)).all())
    engine.dispose()

    command.upgrade(config, "head")
    app = create_app({"TESTING": True, "DATABASE_URL": old_database, "LEDGER_SIGNING_KEY": signing_key_path})
    try:
        sequencer.integrate_all(app.extensions["db_sessions"], app.extensions["ledger_signer"])
        lines = []
        outcome = verify_database(app.extensions["db_engine"], app.extensions["ledger_signer"].verifier_key,
                                  lines.append)
        assert lines == [] and outcome.ok and outcome.rows == 2 * 5 + 4 + 1  # 5 versions, 4 policies, 1 review
        with app.app_context(), app.extensions["db_sessions"]() as session, session.begin():
            auditor = {"Authorization": f"Bearer {create_key(session, 'auditor-1', 'auditor')}"}
        client = app.test_client()
        listed = {item["source_event_id"]: item for item in client.get("/v1/events", headers=auditor).get_json()["items"]}
        assert set(listed) == {"m-compliant", "m-civilian", "m-sea", "m-fixed"}
        assert listed["m-civilian"]["review_status"] == "confirmed_violation"
        assert listed["m-fixed"]["id"] == ids["m-fixed v2"] and listed["m-fixed"]["weapon"]["munition"] == "M31A1-GMLRS"
        assert listed["m-sea"]["occurred_at"] == "2024-06-02T03:14:00Z"
        for source_id, item in listed.items():
            assert {k: v for k, v in item.items() if k in old_payloads[item["id"]]} == {
                **old_payloads[item["id"]], "occurred_at": item["occurred_at"]}
        detail = client.get(f"/v1/events/{ids['m-fixed']}", headers=auditor).get_json()
        assert [v["id"] for v in detail["versions"]] == [ids["m-fixed"], ids["m-fixed v2"]]
        assert detail["superseded_by"] == ids["m-fixed v2"]
        civilian = client.get(f"/v1/events/{ids['m-civilian']}", headers=auditor).get_json()
        assert [(r["status"], r["comment"]) for r in civilian["reviews"]] == [("confirmed_violation",
                                                                              "seen on the imagery")]
    finally:
        app.extensions["db_engine"].dispose()

    command.downgrade(config, "0006")
    engine = make_engine(old_database)
    with engine.connect() as conn:
        assert dict(conn.execute(sa.select(EVENTS.c.id, EVENTS.c.payload)).all()) == old_payloads
        assert conn.execute(sa.select(REVIEWS.c.comment)).scalars().all() == ["seen on the imagery"]
        verdicts = dict(conn.execute(sa.select(EVALUATIONS.c.event_id, EVALUATIONS.c.verdict)).all())
        assert verdicts[ids["m-civilian"]] == "violation" and len(verdicts) == 5
    engine.dispose()
    command.upgrade(config, "head")
