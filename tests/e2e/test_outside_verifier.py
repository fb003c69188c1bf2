"""docs/verify_record.py, an outsider's verifier, against real gunicorn with its embedded sequencer."""
import ast
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.config import Settings
from service.core.ledger import note

from ..helpers import make_event

VERIFIER = Path(__file__).resolve().parents[2] / "docs" / "verify_record.py"
ORIGIN = Settings().ledger_origin  # live_server leaves LEDGER_ORIGIN at its default


def signing_key(path: str) -> Ed25519PrivateKey:
    return serialization.load_pem_private_key(Path(path).read_bytes(), password=None)


def checkpoint_size(base: str) -> int:
    response = requests.get(f"{base}/v1/ledger/checkpoint", timeout=5)
    return int(response.text.split("\n")[1]) if response.status_code == 200 else 0


def idle_size(base: str, timeout: float = 5.0) -> int:
    """The checkpoint size once it has stopped moving: nothing pending, the sequencer between polls."""
    deadline, size = time.monotonic() + timeout, checkpoint_size(base)
    while time.monotonic() < deadline:
        time.sleep(0.3)
        size, previous = checkpoint_size(base), size
        if size == previous and size > 0:
            return size
    pytest.fail(f"the checkpoint kept moving for {timeout} s on an idle server")


def wait_until_covered(base: str, event_id: str, headers: dict, timeout: float = 5.0) -> None:
    """Poll (a reporter's read writes nothing) until every entry of the event has an inclusion proof."""
    deadline = time.monotonic() + timeout
    while True:
        entries = requests.get(f"{base}/v1/events/{event_id}", headers=headers, timeout=5).json()["ledger_entries"]
        if all(e["inclusion_proof"] for e in entries):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"event {event_id} not covered by a checkpoint within {timeout} s")
        time.sleep(0.05)


def stranger_key() -> str:
    """Another Ed25519 key under the log's name, with a "+" inside its base64 so that parsing meets one."""
    while True:
        key = note.verifier_key(ORIGIN, Ed25519PrivateKey.generate().public_key())
        if "+" in key.split("+", 2)[2]:
            return key


def run_verifier(base: str, event_id: str, headers: dict, *options: str) -> subprocess.CompletedProcess:
    api_key = headers["Authorization"].removeprefix("Bearer ")
    return subprocess.run([sys.executable, str(VERIFIER), base, event_id, api_key, *options],
                          capture_output=True, text=True, timeout=60)


def test_verifier_uses_nothing_but_stdlib_and_cryptography():
    tree = ast.parse(VERIFIER.read_text(encoding="utf-8"))
    imports = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names}
    imports |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imports <= {"argparse", "base64", "hashlib", "json", "sys", "urllib", "cryptography"}, imports


def test_docs_show_the_verifier_verbatim():
    ledger_doc = (VERIFIER.parent / "ledger.md").read_text(encoding="utf-8")
    section = ledger_doc.split("## Verifying a record from outside", 1)[1].split("\n## ", 1)[0]
    snippets = [block.split("```", 1)[0] for block in section.split("```python\n")[1:]]
    assert snippets and all(snippet in VERIFIER.read_text(encoding="utf-8") for snippet in snippets)


def test_outside_verifier_accepts_the_record_and_rejects_a_wrong_key_an_altered_checkpoint_and_a_fork(
        live_server, keys, signing_key_path, tmp_path):
    key = signing_key(signing_key_path)
    pinned = note.verifier_key(ORIGIN, key.public_key())
    first = requests.post(f"{live_server}/v1/events", json=make_event("outside-1"), headers=keys.reporter, timeout=10)
    assert first.status_code == 201, first.text
    event_id = first.json()["id"]
    wait_until_covered(live_server, event_id, keys.reporter)
    seen = tmp_path / "seen-checkpoint.txt"
    seen.write_text(requests.get(f"{live_server}/v1/ledger/checkpoint", timeout=5).text, encoding="utf-8")

    # History grows after the saved checkpoint: a second report and a correction of the first.
    second = requests.post(f"{live_server}/v1/events", json=make_event("outside-2"), headers=keys.reporter, timeout=10)
    assert second.status_code == 201, second.text
    corrected = requests.post(f"{live_server}/v1/events/{event_id}/corrections", headers=keys.reporter, timeout=10,
                              json=make_event("outside-1", notes="corrected"))
    assert corrected.status_code == 201, corrected.text
    wait_until_covered(live_server, event_id, keys.reporter)

    ok = run_verifier(live_server, event_id, keys.auditor, "--verifier-key", pinned, "--previous-checkpoint", str(seen))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.count("OK leaf") == 4  # two versions × (report, evaluation)
    assert "extends the one you saved" in ok.stdout

    # What a wrong pinned key, a saved checkpoint altered after signing, and a fork (another history of
    # the same size, signed with the service's own key) must each make the verifier say.
    size = int(seen.read_text().split("\n")[1])
    altered, fork = tmp_path / "altered-checkpoint.txt", tmp_path / "forked-checkpoint.txt"
    altered.write_text(seen.read_text().replace(f"\n{size}\n", f"\n{size - 1}\n", 1), encoding="utf-8")
    fork.write_text(note.sign_note(note.checkpoint_body(ORIGIN, size, b"\x07" * 32), ORIGIN, key), encoding="utf-8")
    for options, reason in [(["--verifier-key", stranger_key()], "no signature by"),
                            (["--verifier-key", pinned, "--previous-checkpoint", str(altered)], "does not verify"),
                            (["--verifier-key", pinned, "--previous-checkpoint", str(fork)], "history was rewritten")]:
        result = run_verifier(live_server, event_id, keys.auditor, *options)
        assert result.returncode == 1 and reason in result.stdout, result.stdout + result.stderr


def test_embedded_sequencer_covers_a_new_entry_within_a_second(live_server, keys):
    lags = []
    for i in range(5):
        before = idle_size(live_server)
        posted = requests.post(f"{live_server}/v1/events", json=make_event(f"lag-{i}"), headers=keys.reporter,
                               timeout=10)
        answered = time.monotonic()
        assert posted.status_code == 201, posted.text
        while checkpoint_size(live_server) < before + 2:  # the report and its evaluation
            assert time.monotonic() - answered < 5, "not covered within 5 s"
            time.sleep(0.01)
        lags.append(time.monotonic() - answered)
    print(f"embedded sequencer lag after POST: {', '.join(f'{lag * 1000:.0f} ms' for lag in lags)}")
    assert max(lags) <= 1.5  # contract §7 says 1 s; the margin keeps a loaded CI machine green
