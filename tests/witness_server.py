"""A C2SP tlog-witness for the tests, as its own process over HTTP: `python -m tests.witness_server`.

It keeps its own state file (the latest checkpoint it cosigned per origin), checks old size,
signature and consistency proof as the specification says, and answers 404/403/400/409/422 or the
cosignature. --behaviour slow sleeps before answering; garbage answers 200 with junk."""
import argparse
import base64
import hashlib
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tests import tlog_reference as ref


class Witness:
    def __init__(self, name: str, key: Ed25519PrivateKey, logs: dict[str, Ed25519PublicKey], state: Path):
        self.name, self.key, self.logs, self.state_path = name, key, logs, state
        self.lock = threading.Lock()  # check-old-size-then-persist must be atomic (tlog-witness)
        self.state = json.loads(state.read_text()) if state.exists() else {}

    def add_checkpoint(self, body: bytes) -> tuple[int, str, str]:
        """(status, content type, body) for one add-checkpoint request."""
        try:
            text = body.decode("utf-8")
            head, checkpoint = text.split("\n\n", 1)
            lines = head.split("\n")
            assert lines[0].startswith("old ")
            old = int(lines[0][4:])
            assert str(old) == lines[0][4:]
            proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
            assert len(proof) <= 63 and all(len(h) == 32 for h in proof)
            note_body, _ = ref.split_note(checkpoint)
            origin, size, root = ref.checkpoint_fields(note_body)
        except (ValueError, AssertionError, UnicodeDecodeError):
            return 400, "text/plain", "malformed request\n"
        log_key = self.logs.get(origin)
        if log_key is None:
            return 404, "text/plain", "unknown origin\n"
        if ref.note_signature_valid(checkpoint, origin, log_key) is not True:
            return 403, "text/plain", "no valid signature by the log\n"
        if old > size:
            return 400, "text/plain", "old size beyond the checkpoint\n"
        with self.lock:
            known = self.state.get(origin)
            known_size = known["size"] if known else 0
            if old != known_size:
                return 409, "text/x.tlog.size", f"{known_size}\n"
            if size == 0 and root != ref.sha256(b""):
                return 422, "text/plain", "size 0 needs the empty root\n"
            if old == 0 and proof:
                return 422, "text/plain", "no proof from size 0\n"
            if old > 0:
                known_root = base64.b64decode(known["root"])
                if old == size:
                    if root != known_root or proof:
                        return 422, "text/plain", "same size, other root\n"
                elif not ref.consistent(old, size, known_root, root, proof):
                    return 422, "text/plain", "inconsistent with the checkpoint I cosigned\n"
            line = ref.cosign(note_body, self.name, self.key, int(time.time()))
            self.state[origin] = {"size": size, "root": base64.b64encode(root).decode(),
                                  "checkpoint": checkpoint + line}
            self._persist()
        return 200, "text/plain; charset=utf-8", line

    def _persist(self) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state))
        os.replace(tmp, self.state_path)

    def checkpoint_for(self, origin_hash: str) -> str | None:
        with self.lock:
            for origin, known in self.state.items():
                if hashlib.sha256(origin.encode()).hexdigest() == origin_hash:
                    return known["checkpoint"]
        return None


def handler(witness: Witness, behaviour: str, delay: float):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, ctype: str, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path != "/add-checkpoint":
                return self._send(404, "text/plain", "no such endpoint\n")
            if behaviour == "slow":
                time.sleep(delay)
            if behaviour == "garbage":
                return self._send(200, "text/plain", "\u2014 not-a-witness AAAA\nbanana\n")
            self._send(*witness.add_checkpoint(body))

        def do_GET(self):  # noqa: N802
            parts = self.path.strip("/").split("/")
            found = witness.checkpoint_for(parts[0]) if len(parts) == 2 and parts[1] == "checkpoint" else None
            if found is None:
                return self._send(404, "text/plain", "never cosigned\n")
            self._send(200, "text/plain; charset=utf-8", found)

        def log_message(self, *args):
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--key-seed", required=True, help="hex of the 32-byte Ed25519 seed")
    parser.add_argument("--log", action="append", required=True, help="origin=hex of the log's public key")
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--behaviour", choices=("honest", "slow", "garbage"), default="honest")
    parser.add_argument("--delay", type=float, default=30.0)
    args = parser.parse_args()
    logs = {}
    for item in args.log:
        origin, _, public = item.rpartition("=")
        logs[origin] = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public))
    witness = Witness(args.name, Ed25519PrivateKey.from_private_bytes(bytes.fromhex(args.key_seed)), logs, args.state)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler(witness, args.behaviour, args.delay))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
