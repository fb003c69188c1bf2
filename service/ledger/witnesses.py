"""Asking witnesses to cosign: tlog-witness add-checkpoint, one thread per witness, apart from the sequencer."""
import base64
import logging
import re
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from service.core.ledger import cosignature, note
from service.core.ledger.policy import Policy, Witness
from service.core.time import utcnow
from service.ledger.tables import WitnessCosignature
from service.ledger.tree import StoredTree, latest_checkpoint

log = logging.getLogger(__name__)
MAX_RESPONSE_BYTES = 64 << 10  # a few signature lines; anything longer is not a witness answering
_SIZE_BODY = re.compile(r"(0|[1-9][0-9]*)\n")


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer at all (refused, timed out, reset)
    body: bytes
    problem: str = ""


def add_checkpoint_body(old_size: int, proof: list[bytes], signed_checkpoint: str) -> bytes:
    """tlog-witness request: 'old <size>', one base64 proof hash a line, an empty line, the checkpoint."""
    lines = [f"old {old_size}"] + [base64.b64encode(h).decode() for h in proof]
    return ("\n".join(lines) + "\n\n" + signed_checkpoint).encode("utf-8")


def post(url: str, body: bytes, timeout: float) -> Answer:
    request = urllib.request.Request(url.rstrip("/") + "/add-checkpoint", data=body, method="POST",
                                     headers={"Content-Type": "text/plain; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - configured URL
            return Answer(response.status, response.read(MAX_RESPONSE_BYTES))
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read(MAX_RESPONSE_BYTES))
    except (OSError, ValueError) as error:  # refused, unreachable, timed out, reset, bad URL
        return Answer(None, b"", f"{type(error).__name__}: {error}")


class Submitter:
    """Keeps one witness up to date with the newest checkpoint; its failures never reach the sequencer."""

    def __init__(self, sessions: sessionmaker, witness: Witness, timeout: float):
        self.sessions, self.witness, self.timeout = sessions, witness, timeout
        self.key_name, self.key_id, _ = cosignature.parse_verifier_key(witness.vkey)
        self.known_size: int | None = None  # the witness's latest cosigned size, as far as we know

    def step(self) -> str:
        """One attempt to get the newest checkpoint cosigned: 'current', 'cosigned', 'retry' (after a
        409 the witness's size is known and the request is sent again at once) or 'failed'."""
        with self.sessions() as session:
            latest = latest_checkpoint(session)
            if latest is None or self._has_cosigned(session, latest.tree_size):
                return "current"
            if self.known_size is None:
                self.known_size = session.scalar(select(func.max(WitnessCosignature.tree_size)).where(
                    WitnessCosignature.key_name == self.key_name, WitnessCosignature.key_id == self.key_id)) or 0
            old = self.known_size
            if old > latest.tree_size:
                old = 0  # beyond what this database holds: the witness's 409 says where it is
            proof = StoredTree(session).consistency_proof(old, latest.tree_size) if 0 < old < latest.tree_size else []
            size, signed = latest.tree_size, latest.note
        answer = post(self.witness.url, add_checkpoint_body(old, proof, signed), self.timeout)
        return self._settle(answer, size, signed)

    def _has_cosigned(self, session, size: int) -> bool:
        return session.scalar(select(exists().where(WitnessCosignature.tree_size == size,
                                                    WitnessCosignature.key_name == self.key_name,
                                                    WitnessCosignature.key_id == self.key_id)))

    def _settle(self, answer: Answer, size: int, signed: str) -> str:
        name = self.witness.name
        if answer.status == 200:
            cosig = self._cosignature(signed, answer.body)
            if cosig is None:
                return "failed"
            self._store(size, cosig)
            self.known_size = size
            return "cosigned"
        if answer.status == 409:
            text = answer.body.decode("utf-8", "replace")
            if not _SIZE_BODY.fullmatch(text):
                log.warning("witness %s answered 409 without a tree size: %r", name, text[:80])
                return "failed"
            theirs = int(text)
            if theirs > size:
                # It cosigned a larger tree of this origin than this log has signed: a restored or forked
                # database, or another log under the same key. Nothing this log can prove will satisfy it.
                log.error("witness %s has cosigned tree size %d, beyond this log's newest %d: split view or "
                          "rollback?", name, theirs, size)
                self.known_size = theirs
                return "failed"
            self.known_size = theirs
            return "retry"
        if answer.status is None:
            log.warning("witness %s unreachable: %s", name, answer.problem)
        else:
            log.warning("witness %s refused tree size %d: HTTP %d %r", name, size, answer.status,
                        answer.body[:200].decode("utf-8", "replace"))
        return "failed"

    def _cosignature(self, signed: str, body: bytes) -> cosignature.Cosignature | None:
        text, _ = note.signature_lines(signed)
        try:
            lines = body.decode("utf-8").splitlines(keepends=True)
            for line in lines:
                if not line.endswith("\n"):
                    raise note.NoteError("a signature line must end in a newline")
                found = cosignature.verify(text, line, self.witness.vkey)
                if found is not None and found.timestamp > 0:
                    return found
            raise note.NoteError("no cosignature by its key with a timestamp")
        except (UnicodeDecodeError, note.NoteError) as error:
            log.warning("witness %s answered 200 without a valid cosignature: %s", self.witness.name, error)
            return None

    def _store(self, size: int, cosig: cosignature.Cosignature) -> None:
        try:
            with self.sessions() as session, session.begin():
                session.add(WitnessCosignature(tree_size=size, key_name=cosig.name, key_id=cosig.key_id,
                                               timestamp=cosig.timestamp, line=cosig.line, received_at=utcnow()))
        except IntegrityError:
            pass  # another witnessing process stored this witness's cosignature of this size first

    def run(self, stop: threading.Event, interval: float, max_backoff: float = 30.0) -> None:
        failures = 0
        while not stop.is_set():
            try:
                outcome = self.step()
                if outcome == "retry":
                    outcome = self.step()  # resent once from the witness's own size
            except Exception:  # the database may be down: the sequencer logs that too; try again later
                log.exception("witnessing %s failed", self.witness.name)
                outcome = "failed"
            failures = failures + 1 if outcome in ("failed", "retry") else 0
            stop.wait(min(interval * 2 ** failures, max_backoff) if failures else interval)


def start(sessions: sessionmaker, policy: Policy, stop: threading.Event, timeout: float,
          interval: float) -> list[threading.Thread]:
    """One daemon thread per witness with a URL: a slow witness holds up only its own thread."""
    threads = []
    for witness in policy.witnesses.values():
        if not witness.url:
            log.warning("witness %s has no URL in the policy: it is never asked to cosign", witness.name)
            continue
        submitter = Submitter(sessions, witness, timeout)
        thread = threading.Thread(target=submitter.run, args=(stop, interval), name=f"witness-{witness.name}",
                                  daemon=True)
        thread.start()
        threads.append(thread)
    return threads

