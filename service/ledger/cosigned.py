"""Checkpoints with their witnesses' cosignatures: which one is published, and how far witnessing lags."""
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.core.ledger import cosignature
from service.core.ledger.policy import Policy, parse_policy
from service.ledger.tables import Checkpoint, WitnessCosignature
from service.ledger.tree import latest_checkpoint

_PAGE = 500  # cosignature rows read at a time while looking for the newest checkpoint with a quorum


def load_policy(path: str | None) -> Policy:
    """The witness policy (tlog-policy file) at path; without one, no witness is asked (quorum none)."""
    return parse_policy(Path(path).read_text(encoding="utf-8")) if path else Policy()


@dataclass
class CosignedCheckpoint:
    checkpoint: Checkpoint
    lines: list[str] = field(default_factory=list)  # cosignature lines, each ending in a newline
    witnesses: set[str] = field(default_factory=set)  # policy names of the witnesses that cosigned

    @property
    def note(self) -> str:
        """The log's signed note with every cosignature line under the log's own signature."""
        return self.checkpoint.note + "".join(self.lines)


def witness_labels(policy: Policy) -> dict[tuple[str, bytes], str]:
    """(key name, key ID) of each policy witness -> its policy name."""
    labels = {}
    for name, witness in policy.witnesses.items():
        key_name, kid, _ = cosignature.parse_verifier_key(witness.vkey)
        labels[key_name, kid] = name
    return labels


def with_cosignatures(session: Session, policy: Policy, checkpoint: Checkpoint) -> CosignedCheckpoint:
    labels = witness_labels(policy)
    rows = session.execute(select(WitnessCosignature.key_name, WitnessCosignature.key_id, WitnessCosignature.line)
                           .where(WitnessCosignature.tree_size == checkpoint.tree_size)
                           .order_by(WitnessCosignature.key_name, WitnessCosignature.id)).all()
    cosigned = CosignedCheckpoint(checkpoint)
    for key_name, kid, line in rows:
        name = labels.get((key_name, bytes(kid)))
        if name is not None and name not in cosigned.witnesses:  # one line per witness of the policy
            cosigned.witnesses.add(name)
            cosigned.lines.append(line)
    return cosigned


def published_checkpoint(session: Session, policy: Policy, min_size: int = 0) -> CosignedCheckpoint | None:
    """The newest checkpoint (of at least min_size leaves) that carries the policy's quorum, with its
    cosignatures: what /v1/ledger/checkpoint publishes, as Tessera publishes only what its policy covers.
    Without witnesses in the policy that is simply the newest signed checkpoint."""
    if not policy.needs_witnesses:
        latest = latest_checkpoint(session)
        return CosignedCheckpoint(latest) if latest is not None and latest.tree_size >= min_size else None
    labels, below = witness_labels(policy), None
    while True:
        query = (select(WitnessCosignature.tree_size, WitnessCosignature.key_name, WitnessCosignature.key_id)
                 .where(WitnessCosignature.tree_size >= min_size)
                 .order_by(WitnessCosignature.tree_size.desc()).limit(_PAGE))
        if below is not None:
            query = query.where(WitnessCosignature.tree_size < below)
        rows = session.execute(query).all()
        if not rows:
            return None
        by_size: dict[int, set[str]] = {}
        for size, key_name, kid in rows:
            if (name := labels.get((key_name, bytes(kid)))) is not None:
                by_size.setdefault(size, set()).add(name)
        # The last size of a full page may be cut off: it is looked at again with the next page.
        complete = [s for s in by_size if len(rows) < _PAGE or s != rows[-1].tree_size]
        for size in sorted(complete, reverse=True):
            if policy.satisfied_by(by_size[size]):
                return with_cosignatures(session, policy, session.get(Checkpoint, size))
        if len(rows) < _PAGE:
            return None
        # Start the next page at the cut-off size; a page of one size only (never with unique keys per
        # size and a page far larger than any witness list) moves past it rather than loop.
        below = rows[-1].tree_size + (1 if len({r.tree_size for r in rows}) > 1 else 0)


@dataclass(frozen=True)
class WitnessingStatus:
    """How far the published (quorum-carrying) checkpoint trails the newest signed one."""

    tree_size: int
    witnessed_tree_size: int | None
    unwitnessed_seconds: float  # age of the oldest checkpoint signed after the witnessed one; 0 if none
    cosigned_sizes: dict[str, int]  # policy witness name -> largest size it cosigned

    def view(self, max_lag_s: float) -> dict:
        met = self.unwitnessed_seconds <= max_lag_s
        return {"quorum": "met" if met else "missing", "tree_size": self.tree_size,
                "witnessed_tree_size": self.witnessed_tree_size,
                "unwitnessed_seconds": round(self.unwitnessed_seconds, 3), "witnesses": self.cosigned_sizes}


def witnessing_status(session: Session, policy: Policy, now: datetime) -> WitnessingStatus:
    latest = latest_checkpoint(session)
    size = latest.tree_size if latest else 0
    published = published_checkpoint(session, policy) if latest else None
    witnessed = published.checkpoint.tree_size if published else None
    oldest_unwitnessed = session.scalar(select(func.min(Checkpoint.signed_at))
                                        .where(Checkpoint.tree_size > (witnessed if witnessed is not None else -1)))
    labels = witness_labels(policy)
    sizes = {}
    for key_name, kid, largest in session.execute(
            select(WitnessCosignature.key_name, WitnessCosignature.key_id, func.max(WitnessCosignature.tree_size))
            .group_by(WitnessCosignature.key_name, WitnessCosignature.key_id)):
        if (name := labels.get((key_name, bytes(kid)))) is not None:
            sizes[name] = largest
    lag = max(0.0, (now - oldest_unwitnessed).total_seconds()) if oldest_unwitnessed else 0.0
    return WitnessingStatus(size, witnessed, lag, sizes)
