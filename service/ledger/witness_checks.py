"""`ledger verify --policy`: the latest checkpoint must carry the policy's quorum, every stored
cosignature must verify; export bundles carry their cosignatures in cosignatures.ndjson."""
import json
from pathlib import Path
from typing import Callable

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from service.core.ledger import cosignature, note
from service.core.ledger.policy import Policy
from service.ledger.bundle import CHECKPOINTS
from service.ledger.tables import Checkpoint, WitnessCosignature
from service.ledger.tree import latest_checkpoint

COSIGNATURES = "cosignatures.ndjson"


def quorum_problems(checkpoint_note: str, lines: list[str], policy: Policy) -> list[str]:
    """What keeps this checkpoint, with these cosignature lines, from meeting the policy."""
    signed = checkpoint_note + "".join(lines)
    try:
        _, size, _ = note.parse_checkpoint(note.signature_lines(signed)[0])
        found = cosignature.cosignatures(signed, policy.witness_keys())
    except note.NoteError as error:
        return [f"a cosignature is invalid: {error}"]
    if policy.satisfied_by(set(found)):
        return []
    return [f"the latest checkpoint (tree size {size}) lacks the quorum {policy.quorum!r}: cosigned by "
            f"{', '.join(sorted(found)) or 'no witness of the policy'}"]


def check_database(engine: Engine, policy: Policy, echo: Callable[[str], None]) -> int:
    with Session(engine) as session:
        latest = latest_checkpoint(session)
        if latest is None:
            echo("no checkpoint is signed yet: nothing carries a quorum")
            return 1
        problems = _stored_cosignatures(session, policy)
        lines = session.scalars(select(WitnessCosignature.line).where(WitnessCosignature.tree_size == latest.tree_size)
                                .order_by(WitnessCosignature.id)).all()
        problems += quorum_problems(latest.note, list(lines), policy)
    for problem in problems:
        echo(problem)
    return len(problems)


def _stored_cosignatures(session: Session, policy: Policy) -> list[str]:
    """Each stored line of a policy witness must verify on its own checkpoint (a row changed behind
    the triggers' back would show here)."""
    keys, problems = policy.witness_keys(), []
    rows = session.execute(select(WitnessCosignature.tree_size, WitnessCosignature.line, Checkpoint.note)
                           .join(Checkpoint, Checkpoint.tree_size == WitnessCosignature.tree_size))
    for size, line, checkpoint_note in rows:
        text, _ = note.signature_lines(checkpoint_note)
        for vkey in keys.values():
            try:
                cosignature.verify(text, line, vkey)
            except note.NoteError as error:
                problems.append(f"stored cosignature on tree size {size}: {error}")
    return problems


def write_cosignatures(engine: Engine, out: Path) -> int:
    with Session(engine) as session, open(out / COSIGNATURES, "w", encoding="utf-8") as fh:
        count = 0
        for size, line in session.execute(select(WitnessCosignature.tree_size, WitnessCosignature.line)
                                          .order_by(WitnessCosignature.tree_size, WitnessCosignature.id)):
            fh.write(json.dumps({"tree_size": size, "line": line}) + "\n")
            count += 1
    return count


def check_bundle(directory: Path, policy: Policy, echo: Callable[[str], None]) -> int:
    try:
        latest = None
        with open(directory / CHECKPOINTS, encoding="utf-8") as fh:
            for raw in fh:
                item = json.loads(raw)
                if latest is None or item["tree_size"] > latest["tree_size"]:
                    latest = item
        lines = []
        if (directory / COSIGNATURES).exists():
            with open(directory / COSIGNATURES, encoding="utf-8") as fh:
                lines = [item["line"] for item in map(json.loads, fh) if item["tree_size"] == latest["tree_size"]]
    except (OSError, ValueError, KeyError, TypeError) as error:
        echo(f"cannot read the bundle's checkpoints and cosignatures: {error}")
        return 1
    if latest is None:
        echo("the bundle has no checkpoint: nothing carries a quorum")
        return 1
    problems = quorum_problems(latest["note"], lines, policy)
    for problem in problems:
        echo(problem)
    return len(problems)
