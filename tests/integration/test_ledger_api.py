"""contract §7 over HTTP: the sequencer's tree, signed checkpoints, entries and proofs that verify."""
import base64
import hashlib
import json

import pytest
from sqlalchemy import select

from service.core.ledger import merkle, note
from service.ledger import sequencer
from service.ledger.proofs import NodeCache, ProofReader
from service.ledger.tables import Checkpoint, Leaf, TreeNode

from ..helpers import make_event

b64d = base64.b64decode


def integrate(app) -> int:
    return sequencer.integrate_all(app.extensions["db_sessions"], app.extensions["ledger_signer"])


def checkpoint_of(client) -> tuple[int, bytes]:
    text = client.get("/v1/ledger/checkpoint").get_data(as_text=True)
    verifier = client.get("/v1/ledger/public-key").get_data(as_text=True).strip()
    _, size, root = note.parse_checkpoint(note.verify_note(text, verifier))
    return size, root


@pytest.fixture
def filled(client, keys, app):
    for i in range(5):
        client.post("/v1/events", json=make_event(f"l-{i}"), headers=keys.reporter)
    integrate(app)
    return app


def test_sequencer_gives_dense_indexes_and_signs_checkpoints(filled, client):
    with filled.extensions["db_sessions"]() as session:
        indexes = session.scalars(select(Leaf.leaf_index).order_by(Leaf.leaf_index)).all()
        sizes = session.scalars(select(Checkpoint.tree_size).order_by(Checkpoint.tree_size)).all()
    assert indexes == list(range(4 + 10))  # 4 bundled policies, 5 × (event_received, evaluation)
    assert sizes[-1] == 14
    response = client.get("/v1/ledger/checkpoint")
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).split("\n")
    assert lines[0] == "test.strike-audit.local/ledger" and lines[1] == "14" and lines[3] == ""
    assert lines[4].startswith("— test.strike-audit.local/ledger ")
    assert checkpoint_of(client)[0] == 14
    assert integrate(filled) == 0  # nothing pending: no new checkpoint


def test_public_key_is_a_signed_note_verifier_key(client):
    name, key_id, _ = note.parse_verifier_key(client.get("/v1/ledger/public-key").get_data(as_text=True).strip())
    assert name == "test.strike-audit.local/ledger" and len(key_id) == 4


def test_entries_carry_canonical_bytes_and_leaf_hashes(filled, client, keys):
    body = client.get("/v1/ledger/entries?start=0&end=14", headers=keys.auditor).get_json()
    assert [e["index"] for e in body["entries"]] == list(range(14))
    leaves = []
    for item in body["entries"]:
        canonical = b64d(item["canonical"])
        assert json.loads(canonical) == item["entry"] and item["entry"]["entry_type"] == item["entry_type"]
        assert b64d(item["leaf_hash"]) == hashlib.sha256(b"\x00" + canonical).digest()
        leaves.append(b64d(item["leaf_hash"]))
    assert merkle.root_from_leaves(leaves) == checkpoint_of(client)[1]
    one = client.get("/v1/ledger/entries/3", headers=keys.admin).get_json()
    assert one == body["entries"][3]


def test_inclusion_and_consistency_proofs_verify(filled, client, keys):
    size, root = checkpoint_of(client)
    for index in range(size):
        proof = client.get(f"/v1/ledger/proofs/inclusion?index={index}&tree_size={size}").get_json()
        merkle.verify_inclusion(b64d(proof["leaf_hash"]), index, size, [b64d(p) for p in proof["proof"]], root)
    old_root = merkle.root_from_leaves([b64d(e["leaf_hash"]) for e in client.get(
        "/v1/ledger/entries?start=0&end=6", headers=keys.auditor).get_json()["entries"]])
    proof = client.get(f"/v1/ledger/proofs/consistency?first=6&second={size}").get_json()
    assert (proof["first"], proof["second"]) == (6, size)
    merkle.verify_consistency(6, size, old_root, root, [b64d(p) for p in proof["proof"]])


def test_a_proof_after_new_entries_uses_the_new_checkpoint(filled, client, keys):
    """The worker remembers the signed size; a newer checkpoint is still seen by the next request."""
    size, old_root = checkpoint_of(client)
    assert client.get(f"/v1/ledger/proofs/inclusion?index=0&tree_size={size}").status_code == 200
    assert client.get(f"/v1/ledger/proofs/inclusion?index=0&tree_size={size + 2}").status_code == 400
    assert client.post("/v1/events", json=make_event("later"), headers=keys.reporter).status_code == 201
    integrate(filled)
    new_size, new_root = checkpoint_of(client)
    assert new_size == size + 2
    for query in (f"index={size + 1}", f"index={size + 1}&tree_size={new_size}"):
        proof = client.get(f"/v1/ledger/proofs/inclusion?{query}").get_json()
        assert proof["tree_size"] == new_size
        merkle.verify_inclusion(b64d(proof["leaf_hash"]), size + 1, new_size, [b64d(p) for p in proof["proof"]],
                                new_root)
    for query in (f"first={size}", f"first={size}&second={new_size}"):
        proof = client.get(f"/v1/ledger/proofs/consistency?{query}").get_json()
        assert proof["second"] == new_size
        merkle.verify_consistency(size, new_size, old_root, new_root, [b64d(p) for p in proof["proof"]])
    assert client.get(f"/v1/ledger/proofs/consistency?first=1&second={new_size + 1}").status_code == 400


def test_cached_nodes_are_the_stored_ones_and_stay_bounded(filled, client):
    """Every level cached (the app's reader caches only levels of 256 leaves and up, beyond this tree):
    proofs answered from the cache verify, every cached hash is the stored one, and the limit holds."""
    reader = ProofReader(filled.extensions["db_engine"], NodeCache(min_level=0, limit=6))
    size, root = checkpoint_of(client)
    roots = {n: merkle.root_from_leaves([b64d(reader.inclusion(i, n)["leaf_hash"]) for i in range(n)])
             for n in range(1, size + 1)}
    for _ in range(2):  # the second pass finds what the first left in the cache
        for index in range(size):
            proof = reader.inclusion(index, size)
            merkle.verify_inclusion(b64d(proof["leaf_hash"]), index, size, [b64d(p) for p in proof["proof"]], root)
        for first in range(1, size + 1):
            proof = [b64d(p) for p in reader.consistency(first, size)["proof"]]
            merkle.verify_consistency(first, size, roots[first], root, proof)
        assert len(reader.cache.nodes) == 6
    with filled.extensions["db_sessions"]() as session:
        stored = {(level, index): digest for level, index, digest in session.execute(
            select(TreeNode.level, TreeNode.index, TreeNode.hash))}
    assert all(stored[key] == digest for key, digest in reader.cache.nodes.items())


@pytest.mark.parametrize("route", ["inclusion?index=3", "consistency?first=3"])
def test_a_proof_for_a_given_size_may_be_kept(filled, client, route):
    size, _ = checkpoint_of(client)
    given = client.get(f"/v1/ledger/proofs/{route}&{'tree_size' if 'index' in route else 'second'}={size}")
    assert given.status_code == 200 and given.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    again = client.get(given.request.full_path, headers={"If-None-Match": given.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    latest = client.get(f"/v1/ledger/proofs/{route}")
    assert latest.get_json() == given.get_json() and latest.headers["Cache-Control"] == "no-cache"
    assert latest.headers["ETag"] == given.headers["ETag"]


@pytest.mark.parametrize("query", [
    "/v1/ledger/proofs/inclusion?index=14&tree_size=14",
    "/v1/ledger/proofs/inclusion?index=0&tree_size=15",
    "/v1/ledger/proofs/inclusion?index=-1",
    "/v1/ledger/proofs/inclusion?index=abc",
    "/v1/ledger/proofs/inclusion",
    "/v1/ledger/proofs/consistency?first=0&second=5",
    "/v1/ledger/proofs/consistency?first=6&second=5",
    "/v1/ledger/proofs/consistency?first=1&second=15",
])
def test_out_of_range_proof_requests_are_400(filled, client, query):
    response = client.get(query)
    assert response.status_code == 400, response.get_json()
    assert response.mimetype == "application/problem+json" and response.get_json()["errors"]


def test_entry_ranges_are_bounded(filled, client, keys):
    assert client.get("/v1/ledger/entries?start=0&end=15", headers=keys.auditor).status_code == 400
    assert client.get("/v1/ledger/entries?start=5&end=4", headers=keys.auditor).status_code == 400
    assert client.get("/v1/ledger/entries?start=0&end=1001", headers=keys.auditor).status_code == 400
    assert client.get("/v1/ledger/entries/14", headers=keys.auditor).status_code == 404
    assert client.get("/v1/ledger/entries", headers=keys.reporter).status_code == 403
    assert client.get("/v1/ledger/entries").status_code == 401


def test_event_view_gives_leaf_indexes_and_inclusion_proofs(client, keys, app):
    created = client.post("/v1/events", json=make_event(), headers=keys.reporter).get_json()
    before = client.get(f"/v1/events/{created['id']}", headers=keys.reporter).get_json()
    assert [p["leaf_index"] for p in before["ledger_entries"]] == [None, None]
    integrate(app)
    detail = client.get(f"/v1/events/{created['id']}", headers=keys.reporter).get_json()
    root = b64d(detail["checkpoint"]["root_hash"])
    assert [p["entry_type"] for p in detail["ledger_entries"]] == ["event_received", "evaluation"]
    for position in detail["ledger_entries"]:
        proof = position["inclusion_proof"]
        merkle.verify_inclusion(b64d(position["leaf_hash"]), position["leaf_index"], proof["tree_size"],
                                [b64d(p) for p in proof["proof"]], root)
    assert detail["ledger_entries"][0]["leaf_hash"] == created["ledger"]["leaf_hash"]


def test_checkpoint_before_any_signing_is_503(client):
    response = client.get("/v1/ledger/checkpoint")
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
