"""Proofs as the API serves them: the signed size and the tree's upper levels kept per process, the rest
of a proof's nodes read in one statement."""
import threading
from collections import OrderedDict

from sqlalchemy import select, tuple_
from sqlalchemy.engine import Engine

from service.core.errors import InvalidInput
from service.core.ledger import merkle
from service.db.driver import DriverConnection
from service.ledger.entries import b64
from service.ledger.reads import require_within
from service.ledger.tables import TreeNode

LATEST_SIZE = "SELECT max(tree_size) FROM checkpoints"
# One text for any number of nodes, so it is prepared once per connection; the arrays go as text, which
# PostgreSQL parses in C (psycopg dumping Python lists cost twice the time of the statement itself).
PG_NODES = ("SELECT t.level, t.index, t.hash FROM unnest(%s::text::int[], %s::text::bigint[]) AS w(level, index) "
            "JOIN tree_nodes t ON t.level = w.level AND t.index = w.index")


# Nodes of 2**8 leaves and up: at 2M leaves, 15,600 of them and 16 of an inclusion proof's 27 reads. Each
# costs about 250 bytes here, so the cache holds at most ~4 MiB a worker whatever the tree's size; beyond
# the limit the least recently used go (the top levels, read by every proof, stay).
NODE_CACHE_MIN_LEVEL = 8
NODE_CACHE_LIMIT = 16_384


class NodeCache:
    """Complete-subtree hashes at level >= min_level, at most `limit` of them, least recently used out first.

    A complete subtree's hash never changes once stored (tree_nodes is append-only, and a node is only
    read for a size a signed checkpoint covers), so a cached node can never be stale.
    """

    def __init__(self, min_level: int = NODE_CACHE_MIN_LEVEL, limit: int = NODE_CACHE_LIMIT):
        self.min_level, self.limit = min_level, limit
        self.nodes: OrderedDict[tuple[int, int], bytes] = OrderedDict()
        self.lock = threading.Lock()  # gthread or a threaded dev server would share one reader

    def split(self, keys) -> tuple[dict[tuple[int, int], bytes], list[tuple[int, int]]]:
        """The cached hashes of `keys`, and the keys not cached."""
        found, missing = {}, []
        with self.lock:
            for key in keys:
                digest = self.nodes.get(key)
                if digest is None:
                    missing.append(key)
                else:
                    found[key] = digest
                    self.nodes.move_to_end(key)
        return found, missing

    def put(self, found: dict[tuple[int, int], bytes]) -> None:
        with self.lock:
            for key, digest in found.items():
                if key[0] >= self.min_level:
                    self.nodes[key] = digest
                    self.nodes.move_to_end(key)
            while len(self.nodes) > self.limit:
                self.nodes.popitem(last=False)


class _Nodes:
    """merkle.SubtreeHashes over the nodes one statement read."""

    def __init__(self, found: dict[tuple[int, int], bytes]):
        self.found = found

    def subtree_hash(self, level: int, index: int) -> bytes:
        try:
            return self.found[level, index]
        except KeyError:
            raise LookupError(f"tree node {(level, index)} is missing") from None


class ProofReader:
    """Inclusion and consistency proofs, one statement each when the size is given (two when it is not).

    One per app (so per database) and per process. It remembers the largest signed tree size it has read:
    checkpoints are append-only, so every size up to it stays signed and a request at or below it needs no
    look at `checkpoints`. A size above it, or no size (the latest), reads the latest again, so a client
    that saw a checkpoint (a 201's receipt, GET /checkpoint) never gets a proof against an older one.
    """

    def __init__(self, engine: Engine, cache: NodeCache | None = None):
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.signed = 0
        self.cache = cache if cache is not None else NodeCache()

    def _latest(self, db: DriverConnection) -> int:
        [(size,)] = db.query(LATEST_SIZE, hot=True)
        self.signed = max(self.signed, size or 0)
        return self.signed

    def _size(self, db: DriverConnection, name: str, given: int | None) -> int:
        if given is None:
            return self._latest(db)
        if given > self.signed:
            require_within(name, given, self._latest(db))
        return given

    def _proof(self, db: DriverConnection, ranges: list[tuple[int, int]], also=()) -> tuple[list[bytes], _Nodes]:
        """The hashes of `ranges` (a proof's shape, from merkle), their nodes and `also` read in one statement."""
        wanted = list(also)
        for start, end in ranges:
            wanted += merkle.range_nodes(start, end)
        nodes = self._nodes(db, wanted)
        return [merkle.range_hash(nodes, start, end) for start, end in ranges], nodes

    def _nodes(self, db: DriverConnection, wanted: list[tuple[int, int]]) -> _Nodes:
        found, missing = self.cache.split(dict.fromkeys(wanted))
        read = self._read(db, missing) if missing else {}
        self.cache.put(read)
        return _Nodes(found | read)

    def _read(self, db: DriverConnection, wanted: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        if self.postgres:
            levels = "{" + ",".join(str(level) for level, _ in wanted) + "}"
            indexes = "{" + ",".join(str(index) for _, index in wanted) + "}"
            rows = db.query(PG_NODES, (levels, indexes), hot=True)
        else:
            rows = db.query(select(TreeNode.level, TreeNode.index, TreeNode.hash)
                            .where(tuple_(TreeNode.level, TreeNode.index).in_(wanted)))
        return {(level, index): bytes(digest) for level, index, digest in rows}

    def inclusion(self, index: int, tree_size: int | None = None) -> dict:
        """{index, tree_size, leaf_hash, proof}; the leaf hash is node (0, index), read with the proof's nodes."""
        with DriverConnection(self.engine, write=False) as db:
            tree_size = self._size(db, "tree_size", tree_size)
            if index >= tree_size:
                raise InvalidInput("index must be below tree_size.", errors={"index": [f"must be < {tree_size}"]})
            proof, nodes = self._proof(db, merkle.inclusion_ranges(index, tree_size), also=[(0, index)])
        return {"index": index, "tree_size": tree_size, "leaf_hash": b64(nodes.subtree_hash(0, index)),
                "proof": [b64(p) for p in proof]}

    def consistency(self, first: int, second: int | None = None) -> dict:
        """{first, second, proof}."""
        with DriverConnection(self.engine, write=False) as db:
            second = self._size(db, "second", second)
            if not 0 < first <= second:
                raise InvalidInput("first must be between 1 and second.",
                                   errors={"first": [f"must be between 1 and {second}"]})
            proof, _ = self._proof(db, merkle.consistency_ranges(first, second))
        return {"first": first, "second": second, "proof": [b64(p) for p in proof]}
