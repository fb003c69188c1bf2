"""Witnessing with real witness processes over HTTP: cosignatures stored and served, the 409 resend,
receipts that verify offline, ?wait=integrated, readiness and metrics, ledger verify --policy."""
import base64
import threading
import time

import pytest
import requests
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from service import create_app
from service.core.ledger import note
from service.core.ledger.policy import Witness, parse_policy
from service.core.ledger.proof_text import ReceiptError, verify_receipt
from service.ledger import sequencer, witnesses
from service.ledger.tables import WitnessCosignature
from tests import tlog_reference as ref
from tests.witnesses import WitnessProcess, policy_text

from ..conftest import GENEROUS_RATE_LIMITS, Keys
from ..helpers import make_event

ORIGIN = "test.strike-audit.local/ledger"


def _log_key(signing_key_path):
    return note.load_or_create_signing_key(signing_key_path)


@pytest.fixture
def honest(tmp_path, signing_key_path):
    started = [WitnessProcess(f"witness-{i}.test", tmp_path).start(ORIGIN, _log_key(signing_key_path).public_key())
               for i in (1, 2)]
    yield started
    for w in started:
        w.stop()


def _app(database_url, signing_key_path, policy_file, **config):
    return create_app({"TESTING": True, "DATABASE_URL": database_url, "LEDGER_SIGNING_KEY": signing_key_path,
                       "LEDGER_ORIGIN": ORIGIN, "LEDGER_WITNESS_POLICY": str(policy_file), "RECEIPT_WAIT_S": 20,
                       **GENEROUS_RATE_LIMITS, **config})


@pytest.fixture
def witnessed(database_url, signing_key_path, tmp_path, honest):
    """The app with a policy of both honest witnesses (quorum: both), and its sequencer and witnessing
    threads running as `ledger sequence` runs them."""
    log_vkey = note.verifier_key(ORIGIN, _log_key(signing_key_path).public_key())
    policy_file = tmp_path / "policy.txt"
    policy_file.write_text(policy_text(log_vkey, honest, "2"))
    app = _app(database_url, signing_key_path, policy_file)
    stop = threading.Event()
    with app.app_context():
        sessions, signer = app.extensions["db_sessions"], app.extensions["ledger_signer"]
        threads = [threading.Thread(target=sequencer.run, args=(sessions, signer, stop), daemon=True)]
        threads[0].start()
        threads += witnesses.start(sessions, app.extensions["witness_policy"], stop, timeout=5, interval=0.1)
    app.policy_file = policy_file
    yield app
    stop.set()
    for thread in threads:
        thread.join(timeout=40)
    app.extensions["db_engine"].dispose()


def _wait(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.05)
    return result


def test_a_report_waits_for_its_cosigned_receipt_which_verifies_offline(witnessed, honest, tmp_path):
    client, keys = witnessed.test_client(), Keys(witnessed)
    answer = client.post("/v1/events?wait=integrated", json=make_event("receipt-1"), headers=keys.reporter)
    assert answer.status_code == 201
    record = answer.get_json()
    receipt = record["receipt"]
    assert receipt.startswith("c2sp.org/tlog-proof@v1\nextra ")
    policy = parse_policy(witnessed.policy_file.read_text())
    verified = verify_receipt(receipt, policy)
    assert set(verified.cosigned) == {w.name for w in honest}
    assert all(abs(ts - time.time()) < 120 for ts in verified.cosigned.values())
    entry = verified.entry.decode()
    assert f'"event_id":"{record["id"]}"' in entry and '"entry_type":"event_received"' in entry
    # The leaf the receipt proves is the one the record names.
    assert base64.b64encode(ref.leaf(verified.entry)).decode() == record["ledger"]["leaf_hash"]
    # The same receipt, later, from GET; and from the CLI with nothing but the receipt and the policy.
    again = client.get(f"/v1/events/{record['id']}/receipt", headers=keys.reporter)
    assert again.status_code == 200 and again.mimetype == "text/plain"
    path = tmp_path / "report.tlog-proof"
    path.write_text(again.get_data(as_text=True))
    out = witnessed.test_cli_runner().invoke(args=["ledger", "verify-receipt", str(path), "--policy",
                                                   str(witnessed.policy_file)])
    assert out.exit_code == 0, out.output
    assert out.output.startswith(f"OK: entry {verified.index} is in {ORIGIN}")
    # Another reporter cannot see it; a tampered receipt does not verify.
    assert client.get(f"/v1/events/{record['id']}/receipt", headers=keys.other_reporter).status_code == 404
    with pytest.raises(ReceiptError):
        verify_receipt(receipt.replace(f"index {verified.index}", f"index {verified.index + 1}"), policy)


def test_checkpoint_carries_every_cosignature_and_witnesses_agree(witnessed, honest):
    client, keys = witnessed.test_client(), Keys(witnessed)
    client.post("/v1/events/batch?wait=integrated", json={"events": [make_event(f"b-{i}") for i in range(5)]},
                headers=keys.reporter)
    signed = client.get("/v1/ledger/checkpoint").get_data(as_text=True)
    body, sigs = ref.split_note(signed)
    names = [name for name, _ in sigs]
    assert names[0] == ORIGIN and sorted(names[1:]) == sorted(w.name for w in honest)
    for witness in honest:  # the witness's own view (its monitoring endpoint) has the same tree
        origin_hash = ref.sha256(ORIGIN.encode()).hex()
        theirs = requests.get(f"{witness.url}/{origin_hash}/checkpoint", timeout=5).text
        _, size, _ = ref.checkpoint_fields(ref.split_note(theirs)[0])
        assert size >= ref.checkpoint_fields(body)[1]
    ready = client.get("/readyz").get_json()["witnessing"]
    assert ready["quorum"] == "met" and set(ready["witnesses"]) == {w.name for w in honest}
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "audit_ledger_witnessed_tree_size " in metrics
    assert f'audit_witness_cosigned_tree_size{{witness="{honest[0].name}"}}' in metrics


def test_batch_wait_answers_each_stored_item_with_its_receipt(witnessed):
    client, keys = witnessed.test_client(), Keys(witnessed)
    events = [make_event("w-1"), {"bad": True}, make_event("w-2")]
    results = client.post("/v1/events/batch?wait=integrated", json={"events": events},
                          headers=keys.reporter).get_json()["results"]
    assert [r["status"] for r in results] == ["created", "invalid", "created"]
    policy = parse_policy(witnessed.policy_file.read_text())
    for result in (results[0], results[2]):
        assert f'"event_id":"{result["id"]}"' in verify_receipt(result["receipt"], policy).entry.decode()
    assert "receipt" not in results[1]
    assert client.post("/v1/events?wait=soon", json=make_event("w-3"), headers=keys.reporter).status_code == 400


def test_a_stale_old_size_gets_409_and_is_resent_from_the_witness_size(witnessed, tmp_path, signing_key_path):
    client, keys = witnessed.test_client(), Keys(witnessed)
    client.post("/v1/events?wait=integrated", json=make_event("s-1"), headers=keys.reporter)
    third = WitnessProcess("witness-3.test", tmp_path).start(ORIGIN, _log_key(signing_key_path).public_key())
    try:
        # Someone else (another instance of the log, say) brought the witness to the current size first.
        first = client.get("/v1/ledger/checkpoint").get_data(as_text=True)
        body, _ = ref.split_note(first)
        assert requests.post(f"{third.url}/add-checkpoint", data=f"old 0\n\n{first}".encode(), timeout=5).ok
        client.post("/v1/events?wait=integrated", json=make_event("s-2"), headers=keys.reporter)
        with witnessed.app_context():
            submitter = witnesses.Submitter(witnessed.extensions["db_sessions"],
                                            Witness(third.name, third.vkey, third.url), 5)
            outcomes = [submitter.step(), submitter.step()]
        assert outcomes == ["retry", "cosigned"]  # old 0 → 409 with its size → resent with a proof from it
        with witnessed.extensions["db_sessions"]() as session:
            latest = session.scalar(text("SELECT max(tree_size) FROM checkpoints"))
            stored = session.scalars(select(WitnessCosignature.tree_size)
                                     .where(WitnessCosignature.key_name == third.name)).all()
        assert stored == [latest] and latest > ref.checkpoint_fields(body)[1]
        origin_hash = ref.sha256(ORIGIN.encode()).hex()
        theirs = requests.get(f"{third.url}/{origin_hash}/checkpoint", timeout=5).text
        assert ref.checkpoint_fields(ref.split_note(theirs)[0])[1] == latest
    finally:
        third.stop()


def test_cosignatures_are_append_only(witnessed):
    client, keys = witnessed.test_client(), Keys(witnessed)
    client.post("/v1/events?wait=integrated", json=make_event("a-1"), headers=keys.reporter)
    engine = witnessed.extensions["db_engine"]
    for statement in ("UPDATE witness_cosignatures SET line = 'x'", "DELETE FROM witness_cosignatures"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(statement))


def test_ledger_verify_checks_the_quorum_of_the_latest_checkpoint(witnessed, honest, tmp_path):
    client, keys = witnessed.test_client(), Keys(witnessed)
    client.post("/v1/events?wait=integrated", json=make_event("v-1"), headers=keys.reporter)
    runner = witnessed.test_cli_runner()
    _wait(lambda: client.get("/readyz").get_json()["witnessing"]["unwitnessed_seconds"] == 0, what="all witnessed")
    out = runner.invoke(args=["ledger", "verify", "--policy", str(witnessed.policy_file)])
    assert out.exit_code == 0, out.output
    assert "carried by the latest checkpoint" in out.output
    bundle = tmp_path / "bundle"
    assert runner.invoke(args=["ledger", "export", "--out", str(bundle)]).exit_code == 0
    out = runner.invoke(args=["ledger", "verify", "--bundle", str(bundle), "--policy", str(witnessed.policy_file)])
    assert out.exit_code == 0, out.output
    # A policy wanting a witness that never cosigned: both verifications fail and say why.
    stranger = WitnessProcess("stranger.test", tmp_path)
    strict = tmp_path / "strict.txt"
    strict.write_text(policy_text(None, [*honest, stranger], "all"))
    for args in (["ledger", "verify", "--policy", str(strict)],
                 ["ledger", "verify", "--bundle", str(bundle), "--policy", str(strict)]):
        out = runner.invoke(args=args)
        assert out.exit_code == 1 and "lacks the quorum" in out.output, out.output
