"""`ledger verify` and `ledger export`: a clean ledger passes; tampering behind the triggers' back is named."""
import base64
import json
from datetime import datetime, timezone
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from service.core.ledger import merkle, note
from service.core.ledger.checks import ProblemLog, RootBuilder, parse_json
from service.events.tables import Event, EventHead
from service.ledger import sequencer
from service.ledger.tables import Checkpoint, Leaf, LedgerEntry, PendingEntry
from service.ledger.verify import LAYOUT, compare_rows, default_jobs, first_difference, snapshot, verify_database
from service.policies.tables import PolicyVersion

from ..helpers import make_event, tamper
from ..ledger_load import load

REPO = Path(__file__).resolve().parents[2]


def integrate(app) -> int:
    return sequencer.integrate_all(app.extensions["db_sessions"], app.extensions["ledger_signer"])


def verify(runner, *args):
    return runner.invoke(args=["ledger", "verify", *args])


@pytest.fixture
def ledger(app, client, keys):
    """Three events, one corrected, integrated; then one more event left pending (which is fine)."""
    ids = [client.post("/v1/events", json=make_event(f"v-{i}"), headers=keys.reporter).get_json()["id"]
           for i in range(3)]
    corrected = make_event("v-0", **{"target.category": "residential"})
    assert client.post(f"/v1/events/{ids[0]}/corrections", json=corrected, headers=keys.reporter).status_code == 201
    integrate(app)
    client.post("/v1/events", json=make_event("v-pending"), headers=keys.reporter)
    return ids


class Facts:
    """Where things sit in the test's ledger, read straight from the tables."""

    def __init__(self, app, event_id: str):
        with app.extensions["db_sessions"]() as session:
            self.event = session.get(Event, event_id)
            self.head = session.get(EventHead, self.event.head_id)
            self.evaluation = json.loads(session.get(LedgerEntry, self.event.evaluation_entry_id).canonical)
            self.evaluation_entry = self.event.evaluation_entry_id
            self.entry = session.get(LedgerEntry, self.event.ledger_entry_id)
            self.latest = session.scalar(select(Checkpoint).order_by(Checkpoint.tree_size.desc()).limit(1))
            self.policy = session.scalars(select(PolicyVersion).order_by(PolicyVersion.id)).first()
            leaves = dict(session.execute(select(Leaf.entry_id, Leaf.leaf_index)).all())
            self.pending_entry = session.scalar(select(PendingEntry.entry_id))  # the ledger fixture's last event
            self.corrected_head = session.scalar(select(EventHead.id).where(EventHead.version == 2))
        self.event_leaf = leaves[self.event.ledger_entry_id]
        self.evaluation_leaf = leaves[self.evaluation_entry]
        self.policy_leaf = leaves[self.policy.ledger_entry_id]


def test_verify_passes_on_a_fresh_ledger_with_events_and_corrections(ledger, runner):
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "ledger verify: OK: 12 entries" in result.output  # 4 policies + 4 × (report, evaluation)
    assert "12 rows compared" in result.output and "entries/s" in result.output


def test_verify_passes_before_anything_is_integrated(app, runner):
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "OK: 0 entries, 0 checkpoints" in result.output


def _flip_notes(app, facts: Facts) -> dict:
    changed = facts.entry.canonical.replace(b'"free text"', b'"free texT"')
    assert changed != facts.entry.canonical
    return {"canonical": changed, "id": facts.entry.id}


def _bump_version(app, facts: Facts) -> dict:
    changed = facts.entry.canonical.replace(b'"version":1', b'"version":2')
    assert changed != facts.entry.canonical
    return {"canonical": changed, "id": facts.entry.id}


def _other_verdict(facts: Facts) -> str:
    return "compliant" if facts.evaluation["verdict"] != "compliant" else "violation"


# (name, table, SQL, params from facts, foreign keys off, expected lines from facts)
TAMPERING = [
    ("entry bytes", "ledger_entries", "UPDATE ledger_entries SET canonical = :canonical WHERE id = :id",
     _flip_notes, False,
     lambda f: [f"leaf {f.event_leaf} (entry {f.entry.id}): leaf_hash does not match canonical bytes"]),
    ("entry bytes a row derives from", "ledger_entries",
     "UPDATE ledger_entries SET canonical = :canonical WHERE id = :id", _bump_version, False,
     lambda f: [f"leaf {f.event_leaf} (entry {f.entry.id}): leaf_hash does not match canonical bytes",
                f"leaf {f.event_leaf} (entry {f.entry.id}): event row {f.event.id} version 1 != ledger 2",
                f"leaf {f.event_leaf} (entry {f.entry.id}): event head row {f.head.id} version 1 != ledger 2"]),
    ("head verdict", "event_heads", "UPDATE event_heads SET verdict = :verdict WHERE id = :id",
     lambda app, f: {"verdict": _other_verdict(f), "id": f.head.id}, False,
     lambda f: [f"leaf {f.evaluation_leaf} (entry {f.evaluation_entry}): event head row {f.head.id} verdict "
                f"{_other_verdict(f)!r} != ledger {f.evaluation['verdict']!r}"]),
    ("head occurred_at", "event_heads", "UPDATE event_heads SET occurred_at = received_at WHERE id = :id",
     lambda app, f: {"id": f.head.id}, False,
     lambda f: [f"leaf {f.event_leaf} (entry {f.entry.id}): event head row {f.head.id} occurred_at "]),
    ("head family", "event_heads", "UPDATE event_heads SET family = 'ATACMS' WHERE id = :id",
     lambda app, f: {"id": f.head.id}, False,
     lambda f: [f"event head {f.head.id}: family 'ATACMS' is not the catalog's for 'M31A1-GMLRS'"]),
    ("head review status", "event_heads", "UPDATE event_heads SET review_status = 'dismissed' WHERE id = :id",
     lambda app, f: {"id": f.head.id}, False,
     lambda f: [f"event head {f.head.id}: review status 'dismissed' is not its latest review's"]),
    ("head on an older version", "event_heads",
     "UPDATE event_heads SET event_id = (SELECT id FROM events WHERE head_id = event_heads.id AND version = 1) "
     "WHERE version = 2", lambda app, f: {}, False,
     lambda f: [f"event head {f.corrected_head}: event {f.corrected_head} is not the latest version"]),
    ("event row deleted", "events", "DELETE FROM events WHERE id = :id",
     lambda app, f: {"id": f.event.id}, True,
     lambda f: [f"leaf {f.event_leaf} (entry {f.entry.id}): event row {f.event.id} is missing",
                f"leaf {f.evaluation_leaf} (entry {f.evaluation_entry}): event row for the evaluation of "
                f"{f.event.id} is missing",
                f"event head {f.head.id}: event {f.event.id} is not the latest version"]),
    ("head deleted", "event_heads", "DELETE FROM event_heads WHERE id = :id",
     lambda app, f: {"id": f.head.id}, False,
     lambda f: [f"event {f.head.id} has versions but no event head"]),
    ("checkpoint root", "checkpoints", "UPDATE checkpoints SET root_hash = :root WHERE tree_size = :size",
     lambda app, f: {"root": b"\x07" * 32, "size": f.latest.tree_size}, False,
     lambda f: [f"checkpoint at size {f.latest.tree_size}: stored root_hash does not match the signed root"]),
    ("checkpoint note", "checkpoints", "UPDATE checkpoints SET note = :note WHERE tree_size = :size",
     lambda app, f: {"note": f.latest.note.replace(f"\n{f.latest.tree_size}\n", f"\n{f.latest.tree_size + 1}\n"),
                     "size": f.latest.tree_size}, False,
     lambda f: [f"checkpoint at size {f.latest.tree_size}: signature does not verify with the trusted key"]),
    ("leaf deleted", "ledger_leaves", "DELETE FROM ledger_leaves WHERE leaf_index = :index",
     lambda app, f: {"index": f.event_leaf}, False,
     lambda f: [f"leaf index gap: leaves {f.event_leaf}..{f.event_leaf} are missing",
                f"entry {f.entry.id} ({f.entry.entry_type}) is neither a leaf nor pending"]),
    # Leaves are read by count, not by index span: a leaf at 10**12 is one more leaf to read.
    ("leaf index moved far", "ledger_leaves", "UPDATE ledger_leaves SET leaf_index = :far WHERE leaf_index = :index",
     lambda app, f: {"far": 10**12, "index": f.event_leaf}, False,
     lambda f: [f"leaf index gap: leaves {f.event_leaf}..{f.event_leaf} are missing",
                f"are missing before leaf {10**12} (entry {f.entry.id})"]),
    # Far from its neighbours in entry-id order: the piece holding this leaf must read that far.
    ("leaf repointed", "ledger_leaves", "UPDATE ledger_leaves SET entry_id = :entry WHERE leaf_index = :index",
     lambda app, f: {"entry": f.pending_entry, "index": f.event_leaf}, False,
     lambda f: [f"leaf {f.event_leaf} (entry {f.pending_entry}): level-0 tree node does not match the stored "
                "leaf_hash",
                f"entry {f.entry.id} ({f.entry.entry_type}) is neither a leaf nor pending"]),
    ("entry deleted", "ledger_entries", "DELETE FROM ledger_entries WHERE id = :id",
     lambda app, f: {"id": f.policy.ledger_entry_id}, True,
     lambda f: [f"leaf {f.policy_leaf} (entry {f.policy.ledger_entry_id}): ledger entry "
                f"{f.policy.ledger_entry_id} is missing",
                f"policy version row {f.policy.id}: its ledger entry {f.policy.ledger_entry_id} is missing"]),
    ("tree node", "tree_nodes", 'UPDATE tree_nodes SET hash = :hash WHERE level = 0 AND "index" = :index',
     lambda app, f: {"hash": b"\x09" * 32, "index": f.event_leaf}, False,
     lambda f: [f"leaf {f.event_leaf} (entry {f.entry.id}): level-0 tree node does not match the stored leaf_hash"]),
    ("entry type column", "ledger_entries", "UPDATE ledger_entries SET entry_type = 'access' WHERE id = :id",
     lambda app, f: {"id": f.evaluation_entry}, False,
     lambda f: [f"leaf {f.evaluation_leaf} (entry {f.evaluation_entry}): "
                "entry_type 'access' != ledger 'evaluation'"]),
]


@pytest.mark.parametrize("name, table, sql, params, foreign_keys, expected", TAMPERING,
                         ids=[case[0] for case in TAMPERING])
def test_verify_names_each_tampered_leaf(ledger, app, runner, name, table, sql, params, foreign_keys, expected):
    facts = Facts(app, ledger[1])
    assert verify(runner).exit_code == 0
    tamper(app, table, sql, params(app, facts), foreign_keys)
    result = verify(runner)
    assert result.exit_code == 1, result.output
    for line in expected(facts):
        assert line in result.output, result.output
    assert "ledger verify: FAILED with" in result.output


def _problems(app, **options) -> list[str]:
    lines: list[str] = []
    outcome = verify_database(app.extensions["db_engine"], app.extensions["ledger_signer"].verifier_key,
                              lines.append, **options)
    assert outcome.problems == len(lines)
    return lines


@pytest.mark.parametrize("name, table, sql, params, foreign_keys, expected", TAMPERING,
                         ids=[case[0] for case in TAMPERING])
def test_pieces_and_workers_find_what_one_read_finds(ledger, app, name, table, sql, params, foreign_keys, expected):
    """Reads of 2 leaves, one starting at the tampered leaf, and on PostgreSQL tasks of 3 reads over 2
    worker processes: every problem of reading the ledger at once and no other (a gap across a boundary
    is still one line)."""
    facts = Facts(app, ledger[1])
    assert facts.event_leaf % 2 == 0
    tamper(app, table, sql, params(app, facts), foreign_keys)
    at_once = _problems(app)
    assert at_once and all(any(line in found for found in at_once) for line in expected(facts))
    assert sorted(_problems(app, leaves_per_read=2)) == sorted(at_once)
    if app.extensions["db_engine"].dialect.name == "postgresql":
        assert sorted(_problems(app, jobs=2, leaves_per_task=facts.event_leaf, leaves_per_read=2)) == sorted(at_once)


def test_verify_of_a_larger_ledger_in_pieces_and_ranges(app, runner):
    """Many pieces (and on PostgreSQL, tasks over workers), checkpoints falling inside them, and
    the same totals as one read; the command itself on a ledger of one task."""
    load(app.extensions["db_sessions"], app.extensions["ledger_signer"], entries=6_000, events=300)
    lines: list[str] = []
    engine, key = app.extensions["db_engine"], app.extensions["ledger_signer"].verifier_key
    ways = [{"leaves_per_read": 10_000}, {"leaves_per_read": 251}]
    if engine.dialect.name == "postgresql":
        ways.append({"jobs": 2, "leaves_per_task": 997, "leaves_per_read": 251})
    outcomes = [verify_database(engine, key, lines.append, **way) for way in ways]
    assert lines == [] and all(outcome.ok for outcome in outcomes)
    assert {(outcome.entries, outcome.checkpoints, outcome.rows) for outcome in outcomes} == {(6604, 2, 604)}
    result = verify(runner, "--jobs", "2")
    assert result.exit_code == 0 and "OK: 6604 entries, 2 checkpoints, 604 rows compared" in result.output


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux's")
def test_default_jobs_follow_the_cpus_this_process_may_use(tmp_path):
    script = ("import os, pathlib; from service.ledger.verify import default_jobs; no = pathlib.Path('/nonexistent'); "
              "before = default_jobs(no); os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
              "print(before, default_jobs(no))")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.split() == [str(min(len(os.sched_getaffinity(0)), 8)), "1"]
    quota = tmp_path / "cpu.max"
    for written, expected in (("max 100000", min(len(os.sched_getaffinity(0)), 8)), ("50000 100000", 1),
                              ("150000 100000", min(len(os.sched_getaffinity(0)), 2)), ("garbage", None)):
        quota.write_text(written + "\n")
        assert default_jobs(quota) == (expected or default_jobs(tmp_path / "absent"))


def test_jobs_run_in_one_process_on_sqlite_only(ledger, app, runner):
    result = verify(runner, "--jobs", "4")
    sqlite = app.extensions["db_engine"].dialect.name == "sqlite"
    assert result.exit_code == 0 and ("SQLite: checking in one process" in result.output) == sqlite


def test_changed_bytes_also_break_every_later_checkpoint(ledger, app, runner):
    facts = Facts(app, ledger[1])
    tamper(app, "ledger_entries", "UPDATE ledger_entries SET canonical = :canonical WHERE id = :id",
           _flip_notes(app, facts))
    output = verify(runner).output
    assert f"checkpoint at size {facts.latest.tree_size}: root of leaves 0..{facts.latest.tree_size - 1} " \
           "does not match the signed root" in output


def test_a_different_trusted_key_fails_every_checkpoint(ledger, runner):
    other = note.verifier_key("test.strike-audit.local/ledger", Ed25519PrivateKey.generate().public_key())
    result = verify(runner, "--public-key", other)
    assert result.exit_code == 1 and "signature does not verify with the trusted key" in result.output


def _sign_next_with(app, client, keys, signer: sequencer.Signer, source_id: str) -> None:
    client.post("/v1/events", json=make_event(source_id), headers=keys.reporter)
    sequencer.integrate_all(app.extensions["db_sessions"], signer)


def test_a_rotated_key_is_trusted_after_the_old_one_and_never_before_it(ledger, app, client, keys, runner,
                                                                        tmp_path):
    """docs/ledger.md's rotation: a new key under a new name signs from some size on; verify takes both keys,
    oldest first, and names a checkpoint the retired key signs after the new one has taken over."""
    old = app.extensions["ledger_signer"]
    new = sequencer.Signer("test.strike-audit.local/ledger-2", Ed25519PrivateKey.generate())
    _sign_next_with(app, client, keys, new, "rotated-1")
    alone = verify(runner)
    assert alone.exit_code == 1 and alone.output.count("signature does not verify with the trusted key") == 1
    both = verify(runner, "--public-key", old.verifier_key, "--public-key", new.verifier_key)
    assert both.exit_code == 0, both.output
    assert runner.invoke(args=["ledger", "export", "--out", str(tmp_path)]).exit_code == 0
    (tmp_path / "public-key.txt").write_text(f"{old.verifier_key}\n{new.verifier_key}\n")  # a bundle's own keys
    offline = verify(runner, "--bundle", str(tmp_path))
    assert offline.exit_code == 0 and "public-key.txt (pass --public-key" in offline.output, offline.output
    backwards = verify(runner, "--public-key", new.verifier_key, "--public-key", old.verifier_key)
    assert backwards.exit_code == 1 and "signed by the retired key test.strike-audit.local/ledger-2+" in \
        backwards.output
    _sign_next_with(app, client, keys, old, "rotated-2")  # the retired key signs again
    with app.extensions["db_sessions"]() as session:
        size = session.scalar(select(Checkpoint.tree_size).order_by(Checkpoint.tree_size.desc()).limit(1))
    late = verify(runner, "--public-key", old.verifier_key, "--public-key", new.verifier_key)
    assert late.exit_code == 1, late.output
    assert f"checkpoint at size {size}: signed by the retired key test.strike-audit.local/ledger+" in late.output
    third = note.verifier_key("test.strike-audit.local/ledger-3", Ed25519PrivateKey.generate().public_key())
    neither = verify(runner, "--public-key", third, "--public-key", new.verifier_key)
    assert "signature does not verify with any of the 2 trusted keys: no signature by" in neither.output


def test_many_batches_and_checkpoints(app, runner):
    """Thousands of entries integrated in sequencer batches: several fetches, several checkpoints."""
    load(app.extensions["db_sessions"], app.extensions["ledger_signer"], entries=11_000, events=300)
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "OK: 11604 entries, 3 checkpoints, 604 rows compared" in result.output
    tamper(app, "ledger_entries", "UPDATE ledger_entries SET leaf_hash = :hash WHERE id = "
           "(SELECT entry_id FROM ledger_leaves WHERE leaf_index = 10001)", {"hash": b"\x01" * 32})
    result = verify(runner)
    assert result.exit_code == 1
    assert "leaf 10001 (entry " in result.output and "leaf_hash does not match canonical bytes" in result.output


def test_verification_snapshot_does_not_block_writers(ledger, app, client, keys):
    """On SQLite the app's transactions take the write lock at BEGIN; the verifier's must not."""
    with snapshot(app.extensions["db_engine"]) as conn:
        conn.execute(select(Leaf.leaf_index).limit(1)).all()
        response = client.post("/v1/events", json=make_event("during-verify"), headers=keys.reporter)
        assert response.status_code == 201


# --- export and offline verification -------------------------------------------------------------


@pytest.fixture
def exported(ledger, runner, tmp_path):
    out = tmp_path / "bundle"
    result = runner.invoke(args=["ledger", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Exported 12 entries and" in result.output
    return out


def test_export_writes_entries_checkpoints_and_key(exported, client):
    lines = [json.loads(line) for line in (exported / "entries.ndjson").read_text().splitlines()]
    assert [line["index"] for line in lines] == list(range(12))
    leaves = [base64.b64decode(line["leaf_hash"]) for line in lines]
    checkpoints = [json.loads(line) for line in (exported / "checkpoints.ndjson").read_text().splitlines()]
    assert checkpoints[-1]["tree_size"] == 12 and checkpoints[-1]["note"] == client.get("/v1/ledger/checkpoint").text
    assert merkle.root_from_leaves(leaves) == note.parse_checkpoint(checkpoints[-1]["note"].split("\n\n")[0] + "\n")[2]
    assert (exported / "public-key.txt").read_text() == client.get("/v1/ledger/public-key").text


def test_bundle_round_trips(exported, runner, client):
    result = verify(runner, "--bundle", str(exported))
    assert result.exit_code == 0, result.output
    assert "Trusting the bundle's own public-key.txt" in result.output and "OK: 12 entries" in result.output
    key = client.get("/v1/ledger/public-key").text.strip()
    result = verify(runner, "--bundle", str(exported), "--public-key", key)
    assert result.exit_code == 0 and "given with --public-key" in result.output


def _rewrite_line(path: Path, index: int, change) -> None:
    lines = path.read_text().splitlines()
    lines[index] = change(lines[index])
    path.write_text("".join(line + "\n" for line in lines))


def _flip_canonical(line: str) -> str:
    item = json.loads(line)
    item["canonical"] = base64.b64encode(base64.b64decode(item["canonical"]).replace(b"}", b" }", 1)).decode()
    return json.dumps(item)


def test_tampered_bundle_line_is_named(exported, runner):
    _rewrite_line(exported / "entries.ndjson", 7, _flip_canonical)
    result = verify(runner, "--bundle", str(exported))
    assert result.exit_code == 1
    assert "leaf 7: leaf_hash does not match canonical bytes" in result.output
    assert "checkpoint at size 12: root of leaves 0..11 does not match the signed root" in result.output


def test_bundle_with_a_missing_line_names_the_gap(exported, runner):
    _rewrite_line(exported / "entries.ndjson", 5, lambda line: "")
    result = verify(runner, "--bundle", str(exported))
    assert result.exit_code == 1
    assert "entries.ndjson line 6: not valid JSON" in result.output
    assert "leaf index gap: leaves 5..5 are missing before leaf 6" in result.output


def test_bundle_against_a_wrong_public_key_fails(exported, runner):
    other = note.verifier_key("test.strike-audit.local/ledger", Ed25519PrivateKey.generate().public_key())
    result = verify(runner, "--bundle", str(exported), "--public-key", other)
    assert result.exit_code == 1
    assert "given with --public-key" in result.output
    assert "signature does not verify with the trusted key" in result.output


def _offline_verify(bundle: Path, tmp_path: Path, *args) -> subprocess.CompletedProcess:
    """The real command in a process whose DATABASE_URL cannot be opened: it must never try."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(DATABASE_URL="sqlite:////nonexistent/dir/x.db", LEDGER_SIGNING_KEY=str(tmp_path / "unused.key"))
    return subprocess.run([sys.executable, "-m", "flask", "--app", "service", "ledger", "verify",
                           "--bundle", str(bundle), *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)


def test_bundle_verification_needs_no_database(exported, tmp_path, client):
    key = client.get("/v1/ledger/public-key").text.strip()
    done = _offline_verify(exported, tmp_path, "--public-key", key)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ledger verify: OK: 12 entries" in done.stdout
    assert not (tmp_path / "unused.key").exists()  # an auditor's machine gets no private key
    _rewrite_line(exported / "entries.ndjson", 3, _flip_canonical)
    done = _offline_verify(exported, tmp_path, "--public-key", key)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "leaf 3: leaf_hash does not match canonical bytes" in done.stdout


# --- the pure pieces -----------------------------------------------------------------------------


def test_incremental_root_matches_the_reference_at_every_size():
    leaves = [bytes([i]) * 32 for i in range(130)]
    builder = RootBuilder()
    for size in range(len(leaves) + 1):
        assert builder.root() == merkle.root_from_leaves(leaves[:size]), size
        if size < len(leaves):
            builder.extend([leaves[size]])


def test_row_values_compare_as_json_does():
    assert first_difference({"a": [1, 2.0]}, {"a": [1.0, 2]}, "x") is None
    assert first_difference(True, 1, "x") == ("x", True, 1)
    assert first_difference({"a": {"b": [1, 2]}, "c": 3}, {"a": {"b": [1, 3]}, "c": 3}, "x") == ("x.a.b[1]", 2, 3)
    assert first_difference({"a": [1]}, {"a": [1, 2]}, "x") == ("x.a length", 1, 2)
    assert first_difference({"b": 1}, {}, "x")[0] == "x.b"


def test_entries_parse_as_rfc8785_numbers_and_where_orjson_refuses_as_json_does():
    for data in (b'{"a":[1,2.5,"\xc3\xa9",-9007199254740991]}', b'"\\ud800"'):
        assert parse_json(data) == json.loads(data)
    # Beyond 64 bits an integer is the double it denotes in RFC 8785's number model.
    assert parse_json(b"123456789012345678901234567890") == float(123456789012345678901234567890)


def _event_leaf(document: dict, **row_values) -> tuple:
    """A leaf-query row for an event entry: six leaf columns, then LAYOUT's columns with the event row's
    filled as the entry says (no head: a version need not be the latest)."""
    [(kind, offset, _), _head] = LAYOUT.by_type["event_received"]
    row = [7, 70, "event_received", b"{}", b"h", b"h"] + [None] * len(LAYOUT.columns)
    row[offset] = document["event_id"]
    for i, field in enumerate(kind.fields):
        value = document
        for key in field.path:
            value = value[key]
        row[offset + 1 + i] = row_values.get(field.column, value)
    return tuple(row)


def test_rows_are_compared_with_their_entry_column_by_column():
    document = {"entry_type": "event_received", "event_id": "e-1", "reporter": "ops", "source_event_id": "s-1",
                "version": 1, "supersedes": None, "received_at": "2024-06-02T05:00:00.5Z",
                "payload": {"occurred_at": "2024-06-02T05:14:00+02:00", "target": {"lat": 50.0, "lon": 36}}}
    lines = []
    compare_rows([(_event_leaf(document), document)], ProblemLog(lines.append))
    stored = datetime(2024, 6, 2, 3, 14, tzinfo=timezone.utc)  # what the row keeps: the same instant, in UTC
    compare_rows([(_event_leaf(document, occurred_at=stored), document)], ProblemLog(lines.append))
    assert lines == []
    compare_rows([(_event_leaf(document, occurred_at=stored.replace(minute=15)), document),
                  (_event_leaf(document), {**document, "version": True})], ProblemLog(lines.append))
    assert lines == ["leaf 7 (entry 70): event row e-1 occurred_at '2024-06-02T03:15:00Z' != ledger "
                     "'2024-06-02T03:14:00Z'",
                     "leaf 7 (entry 70): event row e-1 version 1 != ledger True"]
