"""What must hold in the database after traffic, crashes and outages: the checks every resilience test ends with."""
import json
from collections import Counter

from sqlalchemy import func, select

from service.config import Settings
from service.events.tables import Event
from service.ledger.signer import Signer
from service.ledger.tables import LedgerEntry

from ..ledger_checks import assert_one_signed_history, wait_until_integrated
from .conftest import flask_cli
from .traffic import Traffic


def assert_stored_as_acknowledged(sessions, traffic: Traffic) -> dict:
    """Once every cut-off request was sent again: each (reporter, source_event_id) is stored exactly once,
    with the id and body that were acknowledged, with one evaluation and both ledger entries, and nothing
    else is stored. Returns the number of entries of each type."""
    assert not traffic.unexpected, traffic.unexpected[:10]
    assert not traffic.failed, "resend the failed requests first"
    assert max(traffic.created.values()) == 1  # no report was created twice
    with sessions() as session:
        repeated = session.execute(select(Event.reporter, Event.source_event_id, func.count())
                                   .group_by(Event.reporter, Event.source_event_id)
                                   .having(func.count() > 1)).all()
        stored = {(reporter, source): (event_id, json.loads(report)["payload"])
                  for reporter, source, event_id, report in session.execute(
                      select(Event.reporter, Event.source_event_id, Event.id, LedgerEntry.canonical)
                      .join(LedgerEntry, LedgerEntry.id == Event.ledger_entry_id))}
        evaluations = Counter(json.loads(canonical)["event_id"] for canonical in session.scalars(
            select(LedgerEntry.canonical).where(LedgerEntry.entry_type == "evaluation")))
        entries = dict(session.execute(select(LedgerEntry.entry_type, func.count()).group_by(LedgerEntry.entry_type)).all())
    assert repeated == []
    assert stored.keys() == traffic.acknowledged.keys()
    assert stored == traffic.acknowledged
    assert evaluations == {event_id: 1 for event_id, _ in stored.values()}
    assert entries["event_received"] == entries["evaluation"] == len(stored)
    return entries


def assert_ledger_sound(app, database_url: str, signing_key_path: str) -> list:
    """After the sequencer has integrated everything: one dense, signed, consistent history, and
    `flask ledger verify`, run as an operator would, finds nothing. Returns the checkpoints."""
    sessions = app.extensions["db_sessions"]
    wait_until_integrated(sessions)
    verify = flask_cli(database_url, "ledger", "verify", extra_env={"LEDGER_SIGNING_KEY": signing_key_path})
    assert verify.returncode == 0, verify.stdout[-3000:] + verify.stderr[-3000:]
    # The processes take their origin from the environment, as the app fixture does not.
    signer = Signer(Settings.from_env().ledger_origin, key_path=signing_key_path)
    with sessions() as session:
        return assert_one_signed_history(session, signer.verifier_key)
