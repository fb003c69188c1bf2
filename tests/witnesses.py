"""Test witnesses as separate processes (tests.witness_server) and the tlog-policy files naming them."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests import tlog_reference as ref

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WitnessProcess:
    """One witness: its own key, port, state file and process. `down` ones get a port nobody listens on."""

    def __init__(self, name: str, folder: Path, behaviour: str = "honest", delay: float = 30.0):
        self.name, self.behaviour, self.delay = name, behaviour, delay
        self.key = Ed25519PrivateKey.generate()
        self.port, self.process = free_port(), None
        self.state = folder / f"witness-{name.replace('/', '_')}.json"
        self.url = f"http://127.0.0.1:{self.port}"

    @property
    def vkey(self) -> str:
        return ref.vkey(self.name, self.key.public_key(), 0x04)

    def start(self, origin: str, log_public_key) -> "WitnessProcess":
        if self.behaviour == "down":
            return self
        seed = self.key.private_bytes_raw().hex()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.witness_server", "--port", str(self.port), "--name", self.name,
             "--key-seed", seed, "--log", f"{origin}={ref.raw_public(log_public_key).hex()}",
             "--state", str(self.state), "--behaviour", self.behaviour, "--delay", str(self.delay)],
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                assert self.process.poll() is None, f"witness {self.name} exited"
                time.sleep(0.05)
        raise RuntimeError(f"witness {self.name} did not listen within 15 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def policy_text(log_vkey: str | None, witnesses: list[WitnessProcess], quorum: str, urls: bool = True) -> str:
    """A tlog-policy file: `quorum` is a witness name, 'none', or K, all or any for a group of them all."""
    lines = [f"log {log_vkey}"] if log_vkey else []
    lines += [f"witness {w.name} {w.vkey}" + (f" {w.url}" if urls else "") for w in witnesses]
    if quorum.isdigit() or quorum in ("all", "any"):
        lines.append(f"group witnesses {quorum} {' '.join(w.name for w in witnesses)}")
        quorum = "witnesses"
    lines.append(f"quorum {quorum}")
    return "# test policy\n" + "\n".join(lines) + "\n"
