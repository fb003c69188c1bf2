"""The console's in-browser proof code (static/proof.js) in Chromium, against what the service's Python
checks accept and refuse: every RFC 9162 inclusion vector, verifier keys, and signed checkpoints."""
import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.core.ledger import note
from service.core.ledger.canonical import canonical_bytes, leaf_hash

REPO = Path(__file__).resolve().parents[2]
PROOF_JS = REPO / "service" / "web" / "console" / "static" / "proof.js"
VECTORS = REPO / "tests" / "fixtures" / "rfc9162-vectors" / "inclusion"
# A loopback origin is a secure context, so WebCrypto is there; the page and script are served by
# Playwright's router from the files, with no server and no network at all.
ORIGIN = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def proof(browser):
    context = browser.new_context()
    page = context.new_page()
    page.route(f"{ORIGIN}/**", lambda route: route.fulfill(
        status=200, body=PROOF_JS.read_text() if route.request.url.endswith(".js") else "<!DOCTYPE html><p>test</p>",
        content_type="text/javascript" if route.request.url.endswith(".js") else "text/html"))
    page.goto(f"{ORIGIN}/page.html")
    assert page.evaluate("isSecureContext")

    def run(body: str, arg=None):
        return page.evaluate(f"async (arg) => {{ const proof = await import('{ORIGIN}/proof.js'); {body} }}", arg)

    yield run
    context.close()


def test_every_inclusion_vector(proof):
    cases = [json.loads(path.read_text()) for path in sorted(VECTORS.rglob("*.json"))]
    assert len(cases) > 50
    results = proof("""
        const bytes = (b64) => { try { return proof.fromBase64(b64 || ""); } catch { return new Uint8Array(3); } };
        return Promise.all(arg.map((c) => proof.verifyInclusion(c.leafIdx, c.treeSize, bytes(c.leafHash),
                                                                (c.proof || []).map(bytes), bytes(c.root))));
    """, cases)
    assert [ok for ok in results] == [not case["wantErr"] for case in cases]


def test_leaf_hashes_are_the_services(proof):
    entries = [canonical_bytes({"entry_type": "access", "n": n, "text": "é ✓ \u2028"}) for n in range(5)]
    hashes = proof("return Promise.all(arg.map(async (b) => proof.toBase64(await proof.leafHash(proof.fromBase64(b)))));",
                   [base64.b64encode(e).decode() for e in entries])
    assert hashes == [base64.b64encode(leaf_hash(e)).decode() for e in entries]


def test_verifier_keys_and_checkpoints(proof):
    keys = [Ed25519PrivateKey.generate() for _ in range(40)]
    verifiers = [note.verifier_key("log.example/ledger", key.public_key()) for key in keys]
    assert any("+" in v.split("+", 2)[2] for v in verifiers), "no key had a '+' in its base64: draw again"
    names = proof("return Promise.all(arg.map(async (v) => (await proof.parseVerifierKey(v)).name));", verifiers)
    assert names == ["log.example/ledger"] * len(keys)

    root = bytes(range(32))
    signed = note.sign_note(note.checkpoint_body("log.example/ledger", 42, root), "log.example/ledger", keys[0])
    check = """
        try {
            const key = await proof.parseVerifierKey(arg.key);
            const c = await proof.verifyCheckpoint(arg.note, key);
            return [c.origin, c.treeSize, proof.toBase64(c.root)];
        } catch (error) { return error instanceof proof.Refusal ? "refused: " + error.message : "crashed: " + error; }
    """
    assert proof(check, {"key": verifiers[0], "note": signed}) == ["log.example/ledger", 42,
                                                                   base64.b64encode(root).decode()]
    refusals = {
        "another key": {"key": verifiers[1], "note": signed},
        "a changed size": {"key": verifiers[0], "note": signed.replace("\n42\n", "\n43\n")},
        "no signature": {"key": verifiers[0], "note": signed.split("\n\n")[0] + "\n\n"},
        "a wrong key id": {"key": verifiers[0].replace(verifiers[0].split("+")[1], "00000000"), "note": signed},
        "another origin": {"key": note.verifier_key("other.example", keys[0].public_key()), "note": signed},
    }
    for what, arg in refusals.items():
        assert proof(check, arg).startswith("refused: "), what
