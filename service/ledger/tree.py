"""The Merkle tree as stored: complete-subtree hashes in tree_nodes, read a handful of rows per proof."""
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from service.core.ledger import merkle
from service.ledger.tables import Checkpoint, TreeNode

_DUMMY = b"\x00" * merkle.HASH_SIZE


class _Recorder:
    """Answers with dummy hashes and remembers what was asked: proof shapes do not depend on hashes."""

    def __init__(self):
        self.wanted: list[tuple[int, int]] = []

    def subtree_hash(self, level: int, index: int) -> bytes:
        self.wanted.append((level, index))
        return _DUMMY


class StoredTree:
    """merkle.SubtreeHashes over tree_nodes; `prefetched` turns O(log n) lookups into one query."""

    def __init__(self, session: Session):
        self.session = session
        self.cache: dict[tuple[int, int], bytes] = {}

    def subtree_hash(self, level: int, index: int) -> bytes:
        key = (level, index)
        if key not in self.cache:
            found = self.session.scalar(select(TreeNode.hash).where(TreeNode.level == level, TreeNode.index == index))
            if found is None:
                raise LookupError(f"tree node {key} is missing")
            self.cache[key] = found
        return self.cache[key]

    def prefetch(self, compute) -> None:
        """Run `compute(source)` once dry to learn which nodes it reads, then load them together."""
        recorder = _Recorder()
        compute(recorder)
        wanted = [key for key in dict.fromkeys(recorder.wanted) if key not in self.cache]
        if wanted:
            rows = self.session.execute(select(TreeNode.level, TreeNode.index, TreeNode.hash)
                                        .where(tuple_(TreeNode.level, TreeNode.index).in_(wanted)))
            self.cache.update({(level, index): digest for level, index, digest in rows})

    def inclusion_proof(self, index: int, tree_size: int) -> list[bytes]:
        self.prefetch(lambda source: merkle.inclusion_proof(source, index, tree_size))
        return merkle.inclusion_proof(self, index, tree_size)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        self.prefetch(lambda source: merkle.consistency_proof(source, first, second))
        return merkle.consistency_proof(self, first, second)

    def root(self, tree_size: int) -> bytes:
        self.prefetch(lambda source: merkle.tree_root(source, tree_size))
        return merkle.tree_root(self, tree_size)


def latest_checkpoint(session: Session) -> Checkpoint | None:
    return session.scalars(select(Checkpoint).order_by(Checkpoint.tree_size.desc()).limit(1)).first()
