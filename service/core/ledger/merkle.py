"""RFC 9162 Merkle tree hashing, proof generation over stored subtrees, and proof verification."""
import hashlib
import hmac
from typing import Callable, Iterable, NamedTuple, Protocol, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof did not verify, or its inputs were malformed."""


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes, one level at a time (no recursion, O(n) hashes)."""
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    sha = hashlib.sha256
    while len(level) > 1:
        pairs = range(0, len(level) - 1, 2)
        paired = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in pairs]
        # An unpaired last node is promoted unchanged: this matches MTH's
        # "largest power of two smaller than n" split exactly.
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class SubtreeHashes(Protocol):
    """A source of complete (perfect, aligned) subtree hashes, e.g. a database table."""

    def subtree_hash(self, level: int, index: int) -> bytes:
        """Hash of the 2**level leaves starting at leaf index * 2**level."""
        ...


def range_hash(source: SubtreeHashes, start: int, end: int) -> bytes:
    """MTH(leaves[start:end]) assembled from complete-subtree reads.

    When start is a multiple of the largest power of two >= end - start (true of
    every range the proofs below ask for) this costs O(log n) reads; any other
    range is still correct, only more expensive.
    """
    if not 0 <= start <= end:
        raise ValueError(f"bad range [{start}, {end})")
    n = end - start
    if n == 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and start % n == 0:
        return source.subtree_hash(n.bit_length() - 1, start // n)
    k = _split(n)
    return node_hash(range_hash(source, start, start + k), range_hash(source, start + k, end))


def tree_root(source: SubtreeHashes, tree_size: int) -> bytes:
    """MTH of the first tree_size leaves."""
    return range_hash(source, 0, tree_size)


def range_nodes(start: int, end: int) -> list[tuple[int, int]]:
    """The (level, index) of the complete subtrees `range_hash(source, start, end)` reads, in its order."""
    nodes, pending = [], [(start, end)]
    while pending:
        start, end = pending.pop()
        n = end - start
        if n == 0:
            continue
        if n & (n - 1) == 0 and start % n == 0:
            nodes.append((n.bit_length() - 1, start // n))
        else:
            k = _split(n)
            pending += [(start + k, end), (start, start + k)]  # the left half is read first
    return nodes


def inclusion_ranges(index: int, tree_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes are RFC 9162 §2.1.3.1 PATH(index, D[tree_size]), in the proof's order
    (walked top-down, then reversed)."""
    if not 0 <= index < tree_size:
        raise ValueError(f"index {index} not in tree of size {tree_size}")
    ranges, start, end = [], 0, tree_size
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            ranges.append((mid, end))
            end = mid
        else:
            ranges.append((start, mid))
            start = mid
    ranges.reverse()
    return ranges


def inclusion_proof(source: SubtreeHashes, index: int, tree_size: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(index, D[tree_size])."""
    return [range_hash(source, start, end) for start, end in inclusion_ranges(index, tree_size)]


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes are RFC 9162 §2.1.4.1 PROOF(first, D[second]), in the proof's order."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from size {first} to {second}")
    ranges, start, end, whole_first = [], 0, second, True
    while end != first:
        mid = start + _split(end - start)
        if first <= mid:
            ranges.append((mid, end))
            end = mid
        else:
            ranges.append((start, mid))
            start, whole_first = mid, False
    # SUBPROOF(m, D[m], false) = {MTH(D[m])}; with b still true the verifier
    # already holds that hash as the old root.
    if not whole_first:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def consistency_proof(source: SubtreeHashes, first: int, second: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1 PROOF(first, D[second]) = SUBPROOF(first, D[second], true)."""
    return [range_hash(source, start, end) for start, end in consistency_ranges(first, second)]


class MemoryTree:
    """Every complete subtree hash of a list of leaves, kept in memory."""

    def __init__(self, leaf_hashes: Iterable[bytes]):
        self.levels: list[list[bytes]] = [list(leaf_hashes)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            # Only complete pairs: an odd tail is not a perfect subtree yet.
            self.levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def subtree_hash(self, level: int, index: int) -> bytes:
        if level < 0 or index < 0 or level >= len(self.levels) or index >= len(self.levels[level]):
            raise KeyError((level, index))
        return self.levels[level][index]

    def nodes(self) -> set[tuple[int, int, bytes]]:
        """Every stored (level, index, hash), for comparing with an appender's output."""
        return {(lv, i, h) for lv, row in enumerate(self.levels) for i, h in enumerate(row)}


class Node(NamedTuple):
    """A complete-subtree row: hash of 2**level leaves starting at index * 2**level."""

    level: int
    index: int
    hash: bytes


Lookup = Callable[[int, int], bytes]


def complete_subtree_nodes(leaf_index: int, leaf_hash: bytes, lookup: Lookup) -> list[Node]:
    """The nodes that become complete when leaf leaf_index is appended, level 0 first.

    Node (k, j) completes when 2**k divides leaf_index + 1, with j = (leaf_index + 1) / 2**k - 1.
    Its right child is the node made one step earlier; its left child (k-1, 2j)
    was already complete, so lookup(k-1, 2j) is called for it: one read per level.
    """
    made = [Node(0, leaf_index, leaf_hash)]
    level, count = 0, leaf_index + 1
    while count % 2 == 0:
        count //= 2
        right = made[-1]
        left = lookup(level, right.index - 1)
        level += 1
        made.append(Node(level, count - 1, node_hash(left, right.hash)))
    return made


def append_batch(first_index: int, leaf_hashes: Iterable[bytes], lookup: Lookup) -> list[Node]:
    """Nodes to insert when appending a batch of leaves starting at first_index, in one pass.

    A left sibling is always the newest node on its level, so only that one per
    level is kept; older ones (at most one per level of the pre-batch tree)
    reach lookup.
    """
    newest: dict[int, Node] = {}

    def batch_lookup(level: int, index: int) -> bytes:
        node = newest.get(level)
        return node.hash if node is not None and node.index == index else lookup(level, index)

    out: list[Node] = []
    for offset, leaf in enumerate(leaf_hashes):
        for node in complete_subtree_nodes(first_index + offset, leaf, batch_lookup):
            newest[node.level] = node
            out.append(node)
    return out


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, (bytes, bytearray)) or len(value) != HASH_SIZE:
        raise ProofError(f"{what} is not a {HASH_SIZE}-byte hash")


def _check_size(value: int, what: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProofError(f"{what} must be a non-negative integer")


def _equal(a: bytes, b: bytes) -> bool:
    if not isinstance(a, (bytes, bytearray)) or not isinstance(b, (bytes, bytearray)):
        raise ProofError("hashes must be bytes")
    return hmac.compare_digest(bytes(a), bytes(b))


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2, step by step; raises ProofError unless the proof holds."""
    _check_size(index, "index")
    _check_size(tree_size, "tree size")
    _check_hash(leaf_hash, "leaf hash")
    _check_hash(root, "root")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof[{i}]")
    if index >= tree_size:
        raise ProofError(f"index {index} >= tree size {tree_size}")
    fn, sn, r = index, tree_size - 1, bytes(leaf_hash)
    for p in proof:
        if sn == 0:
            raise ProofError("proof is longer than the path")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("proof is shorter than the path")
    if not _equal(r, root):
        raise ProofError("computed root does not match")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2, step by step; raises ProofError unless the proof holds."""
    _check_size(first, "first size")
    _check_size(second, "second size")
    if first > second:
        raise ProofError(f"first size {first} > second size {second}")
    if first == 0:
        # RFC 9162 requires 0 < first: every tree extends the empty one, so a
        # "proof" from size 0 proves nothing and is refused (as the vectors do).
        raise ProofError("consistency with the empty tree is meaningless")
    if first == second:
        # Nothing is hashed: the claim is only that both roots are the same.
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if not _equal(first_root, second_root):
            raise ProofError("equal sizes but different roots")
        return
    _check_hash(first_root, "first root")
    _check_hash(second_root, "second root")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof[{i}]")
    _run_consistency(first, second, first_root, second_root, list(proof))


def _run_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: list[bytes]
) -> None:
    if not path:
        raise ProofError("empty consistency proof")
    if first & (first - 1) == 0:
        path.insert(0, bytes(first_root))
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("proof is longer than the path")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("proof is shorter than the path")
    if not _equal(fr, first_root):
        raise ProofError("first root does not match")
    if not _equal(sr, second_root):
        raise ProofError("second root does not match")
