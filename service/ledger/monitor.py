"""A ledger monitor over HTTP only: each round verifies the new checkpoint, its quorum, its consistency
with the last verified one and every new entry, re-hashed from the tiles; alerts when anything fails."""
import base64
import gzip
import json
import logging
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from service.core.ledger import cosignature, merkle, note, tiles
from service.core.ledger.canonical import leaf_hash
from service.core.ledger.checks import RootBuilder
from service.core.ledger.policy import Policy
from service.core.time import format_utc, utcnow

log = logging.getLogger(__name__)
CHECKPOINT = "/v1/ledger/checkpoint"
PREFIX = "/v1/ledger/"


class MonitorProblem(Exception):
    """Something the monitor could not verify: every one is an alert."""


@dataclass
class MonitorState:
    """The last verified checkpoint and the tree's frontier (one hash per set bit of its size), so the
    next round checks only what is new. log_key: the log's verifier key, pinned on first use if no
    policy names one."""

    tree_size: int = 0
    root_hash: str = base64.b64encode(merkle.EMPTY_ROOT).decode()
    checkpoint: str = ""
    frontier: list[str] = field(default_factory=list)
    log_key: str = ""

    @classmethod
    def load(cls, path: Path) -> "MonitorState":
        if not path.exists():
            return cls()
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    def save(self, path: Path) -> None:
        """Atomically: a crash mid-write leaves the previous state, never half of one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".monitor-state-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(self), fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)


@dataclass(frozen=True)
class Round:
    ok: bool
    tree_size: int  # verified size after the round (the stored one when it failed)
    new_entries: int
    problems: list[str]
    checkpoint: str = ""


class Http:
    def __init__(self, base: str, api_key: str | None, timeout: float):
        self.base, self.api_key, self.timeout = base.rstrip("/"), api_key, timeout

    def get(self, path: str, auth: bool = False) -> bytes:
        headers = {"Accept-Encoding": "gzip, identity"}
        if auth and self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.base + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - operator's URL
                data = response.read()
                return gzip.decompress(data) if response.headers.get("Content-Encoding") == "gzip" else data
        except urllib.error.HTTPError as error:
            raise MonitorProblem(f"GET {path}: HTTP {error.code}") from error
        except (OSError, ValueError) as error:
            raise MonitorProblem(f"GET {path}: {type(error).__name__}: {error}") from error


class Monitor:
    def __init__(self, url: str, state_path: Path, policy: Policy, api_key: str | None = None,
                 timeout: float = 10.0):
        self.http, self.state_path, self.policy = Http(url, api_key, timeout), state_path, policy
        self.url = url

    def round(self) -> Round:
        state, signed = MonitorState.load(self.state_path), ""
        try:
            signed = self.http.get(CHECKPOINT).decode("utf-8", "replace")
            size, root = self._verify_checkpoint(signed, state)
            new = self._check_growth(state, size, root, signed)
        except MonitorProblem as problem:
            return Round(False, state.tree_size, 0, [str(problem)], signed)
        state.save(self.state_path)
        return Round(True, size, new, [], signed)

    def _verify_checkpoint(self, signed: str, state: MonitorState) -> tuple[int, bytes]:
        try:
            body, _ = note.signature_lines(signed)
            origin, size, root = note.parse_checkpoint(body)
        except (note.NoteError, UnicodeError) as error:
            raise MonitorProblem(f"the checkpoint is malformed: {error}") from error
        keys = self.policy.log_named(origin) or ([state.log_key] if state.log_key else [])
        if not keys:  # trust on first use, pinned in the state file from now on
            state.log_key = self.http.get(PREFIX + "public-key").decode().strip()
            log.warning("no log key for %s in the policy: trusting %s and pinning it", origin, state.log_key)
            keys = [state.log_key]
        if not any(_signed_by(signed, key) for key in keys):
            raise MonitorProblem(f"the checkpoint of {origin} is not signed by a trusted log key")
        try:
            found = cosignature.cosignatures(signed, self.policy.witness_keys())
        except note.NoteError as error:
            raise MonitorProblem(f"a witness cosignature is invalid: {error}") from error
        if not self.policy.satisfied_by(set(found)):
            raise MonitorProblem(f"the checkpoint at tree size {size} lacks the quorum {self.policy.quorum!r} "
                                 f"(cosigned by: {', '.join(sorted(found)) or 'none'})")
        return size, root

    def _check_growth(self, state: MonitorState, size: int, root: bytes, signed: str) -> int:
        old_size, old_root = state.tree_size, base64.b64decode(state.root_hash)
        if size < old_size:
            raise MonitorProblem(f"the log went back: tree size {size} after verified size {old_size}")
        if size == old_size:
            if root != old_root:
                raise MonitorProblem(f"split view: tree size {size} with root {_b64(root)}, verified {state.root_hash}")
            return 0
        if old_size > 0:
            proof = self._consistency_proof(old_size, size)
            try:
                merkle.verify_consistency(old_size, size, old_root, root, proof)
            except merkle.ProofError as error:
                raise MonitorProblem(f"split view: tree size {size} is not consistent with verified size "
                                     f"{old_size}: {error}") from error
        frontier = RootBuilder.resume(old_size, [base64.b64decode(h) for h in state.frontier])
        self._rehash(frontier, old_size, size)
        if frontier.root() != root:
            raise MonitorProblem(f"the tiles' entries up to {size} hash to {_b64(frontier.root())}, "
                                 f"not the checkpoint's root {_b64(root)}")
        state.tree_size, state.root_hash, state.checkpoint = size, _b64(root), signed
        state.frontier = [_b64(h) for h in frontier.stack]
        return size - old_size

    def _consistency_proof(self, first: int, second: int) -> list[bytes]:
        query = urllib.parse.urlencode({"first": first, "second": second})
        try:
            answer = json.loads(self.http.get(f"{PREFIX}proofs/consistency?{query}"))
            return [base64.b64decode(h, validate=True) for h in answer["proof"]]
        except (ValueError, KeyError, TypeError) as error:
            raise MonitorProblem(f"the consistency proof {first}→{second} is malformed") from error

    def _rehash(self, frontier: RootBuilder, start: int, end: int) -> None:
        """Every entry in [start, end) from its bundle, hashed and compared with the level-0 tile."""
        for n in range(start // tiles.TILE_WIDTH, -(-end // tiles.TILE_WIDTH)):
            width = min(tiles.TILE_WIDTH, end - n * tiles.TILE_WIDTH)
            first = n * tiles.TILE_WIDTH
            try:
                hashes = tiles.split_hashes(self.http.get(PREFIX + tiles.tile_path(0, n, width)))
            except tiles.TileError as error:
                raise MonitorProblem(f"tile 0/{n}: {error}") from error
            if len(hashes) != width:
                raise MonitorProblem(f"tile 0/{n} has {len(hashes)} hashes, not {width}")
            if self.http.api_key:
                try:
                    entries = tiles.decode_bundle(self.http.get(PREFIX + tiles.tile_path(tiles.ENTRIES, n, width),
                                                                auth=True))
                except tiles.TileError as error:
                    raise MonitorProblem(f"entry bundle {n}: {error}") from error
                if len(entries) != width:
                    raise MonitorProblem(f"entry bundle {n} has {len(entries)} entries, not {width}")
                for offset, entry in enumerate(entries):
                    if leaf_hash(entry) != hashes[offset]:
                        raise MonitorProblem(f"entry {first + offset} does not hash to its leaf in tile 0/{n}")
            frontier.extend(hashes[max(0, start - first):])


def _signed_by(signed: str, vkey: str) -> bool:
    try:
        note.verify_note(signed, vkey)
        return True
    except note.NoteError:
        return False


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def alert(monitor: Monitor, outcome: Round) -> dict:
    return {"alert": "ledger monitor", "url": monitor.url, "at": format_utc(utcnow()), "problems": outcome.problems,
            "verified_tree_size": outcome.tree_size, "checkpoint": outcome.checkpoint}


def post_alert(webhook: str, body: dict, timeout: float = 10.0) -> None:
    request = urllib.request.Request(webhook, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout):  # noqa: S310 - operator's webhook
            pass
    except (OSError, ValueError) as error:
        log.error("could not post the alert to %s: %s", webhook, error)


class MonitorMetrics:
    """The monitor's own Prometheus metrics, on a registry of its own."""

    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Gauge

        self.registry = CollectorRegistry()
        self.rounds = Counter("ledger_monitor_rounds_total", "Monitor rounds, by outcome (ok or alert)",
                              ["outcome"], registry=self.registry)
        self.entries = Counter("ledger_monitor_entries_verified_total", "Entries re-hashed and verified",
                               registry=self.registry)
        self.size = Gauge("ledger_monitor_verified_tree_size", "Tree size of the last verified checkpoint",
                          registry=self.registry)
        self.failing = Gauge("ledger_monitor_failing", "1 while the latest round raised an alert",
                             registry=self.registry)
        self.last_ok = Gauge("ledger_monitor_last_success_timestamp_seconds", "When a round last verified",
                             registry=self.registry)

    def observe(self, outcome: Round) -> None:
        self.rounds.labels("ok" if outcome.ok else "alert").inc()
        self.failing.set(0 if outcome.ok else 1)
        self.size.set(outcome.tree_size)
        if outcome.ok:
            self.entries.inc(outcome.new_entries)
            self.last_ok.set_to_current_time()

    def serve(self, port: int, address: str) -> None:
        from prometheus_client import start_http_server

        start_http_server(port, address, registry=self.registry)


def run(monitor: Monitor, interval: float, webhook: str | None, metrics, stop) -> None:
    """Rounds every `interval` seconds until `stop` is set; each failure is logged and posted."""
    while not stop.is_set():
        started = time.monotonic()
        outcome = monitor.round()
        metrics.observe(outcome)
        if outcome.ok:
            log.info("verified tree size %d (%d new entries)", outcome.tree_size, outcome.new_entries)
        else:
            body = alert(monitor, outcome)
            log.error("ALERT %s", json.dumps(body))
            if webhook:
                post_alert(webhook, body)
        stop.wait(max(0.0, interval - (time.monotonic() - started)))
