"""Property tests: proofs made from stored subtrees verify, and any one-bit change breaks them."""
import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from service.core.ledger.merkle import (EMPTY_ROOT, MemoryTree, ProofError, append_batch, consistency_proof,
                                        consistency_ranges, inclusion_proof, inclusion_ranges, range_hash, range_nodes,
                                        root_from_leaves, tree_root, verify_consistency, verify_inclusion)

FAST = settings(max_examples=100, deadline=None)


@st.composite
def trees(draw, max_size=300):
    """Leaves derived from a drawn seed: far cheaper than drawing 300 random byte strings."""
    size = draw(st.integers(1, max_size))
    seed = draw(st.binary(min_size=1, max_size=8))
    return [hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(size)]


def replaced(proof: list, k: int, element: bytes) -> list:
    return proof[:k] + [element] + proof[k + 1 :]


def flips(value: bytes):
    """Every copy of value with exactly one bit inverted."""
    for bit in range(len(value) * 8):
        changed = bytearray(value)
        changed[bit // 8] ^= 1 << (bit % 8)
        yield bytes(changed)


def rejects(check, *args) -> bool:
    try:
        check(*args)
    except ProofError:
        return True
    return False


def _mth(leaves):
    """RFC 9162 §2.1.1 MTH, written recursively exactly as the RFC states it."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def test_empty_tree_root():
    assert root_from_leaves([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


@FAST
@given(trees())
def test_iterative_root_matches_the_recursive_definition(leaves):
    assert root_from_leaves(leaves) == _mth(leaves)


@FAST
@given(trees(), st.data())
def test_inclusion_proofs_verify_and_bind_every_bit(leaves, data):
    tree, root = MemoryTree(leaves), root_from_leaves(leaves)
    for i, leaf in enumerate(leaves):
        verify_inclusion(leaf, i, len(leaves), inclusion_proof(tree, i, len(leaves)), root)
    i = data.draw(st.integers(0, len(leaves) - 1), label="index")
    proof = inclusion_proof(tree, i, len(leaves))
    for k, element in enumerate(proof):
        for bad in flips(element):
            assert rejects(verify_inclusion, leaves[i], i, len(leaves), replaced(proof, k, bad), root)
    assert all(rejects(verify_inclusion, leaves[i], i, len(leaves), proof, bad) for bad in flips(root))
    assert all(rejects(verify_inclusion, bad, i, len(leaves), proof, root) for bad in flips(leaves[i]))


@FAST
@given(trees(), st.data())
def test_consistency_proofs_verify_and_bind_every_bit(leaves, data):
    tree, size = MemoryTree(leaves), len(leaves)
    roots = [root_from_leaves(leaves[:n]) for n in range(size + 1)]
    for first in range(1, size + 1):
        verify_consistency(first, size, roots[first], roots[size], consistency_proof(tree, first, size))
    second = data.draw(st.integers(1, size), label="second")
    first = data.draw(st.integers(1, second), label="first")
    proof = consistency_proof(tree, first, second)
    verify_consistency(first, second, roots[first], roots[second], proof)
    old, new = roots[first], roots[second]
    for k, element in enumerate(proof):
        for bad in flips(element):
            assert rejects(verify_consistency, first, second, old, new, replaced(proof, k, bad))
    assert all(rejects(verify_consistency, first, second, bad, new, proof) for bad in flips(old))
    assert all(rejects(verify_consistency, first, second, old, bad, proof) for bad in flips(new))


@FAST
@given(trees(), st.data())
def test_range_hash_is_mth_of_the_slice(leaves, data):
    tree = MemoryTree(leaves)
    end = data.draw(st.integers(0, len(leaves)), label="end")
    start = data.draw(st.integers(0, end), label="start")
    assert range_hash(tree, start, end) == root_from_leaves(leaves[start:end])
    assert tree_root(tree, end) == root_from_leaves(leaves[:end])


@FAST
@given(trees(), st.lists(st.integers(1, 300), max_size=6))
def test_batch_appender_builds_the_same_nodes_as_memory_tree(leaves, cuts):
    stored: dict[tuple[int, int], bytes] = {}
    bounds = sorted({0, len(leaves), *(c for c in cuts if c < len(leaves))})
    for start, end in zip(bounds, bounds[1:]):
        reads = []

        def lookup(level, index):
            reads.append((level, index))
            return stored[(level, index)]  # KeyError if it asks for a node never stored

        new = append_batch(start, leaves[start:end], lookup)
        # Only the old tree's frontier pre-dates the batch: at most one read per level.
        assert len(reads) <= start.bit_length()
        for node in new:
            assert (node.level, node.index) not in stored
            stored[(node.level, node.index)] = node.hash
    assert {(lv, i, h) for (lv, i), h in stored.items()} == MemoryTree(leaves).nodes()


class _CountingSource:
    """Answers any complete-subtree read with a dummy hash and counts the reads."""

    def __init__(self):
        self.reads = 0

    def subtree_hash(self, level, index):
        self.reads += 1
        return hashlib.sha256(f"{level}/{index}".encode()).digest()


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 2**40), st.data())
def test_proofs_need_logarithmic_reads(size, data):
    index = data.draw(st.integers(0, size - 1), label="index")
    first = data.draw(st.integers(1, size), label="first")
    budget = 2 * size.bit_length() + 2
    for make in (lambda s: inclusion_proof(s, index, size), lambda s: consistency_proof(s, first, size),
                 lambda s: tree_root(s, size)):
        source = _CountingSource()
        make(source)
        assert source.reads <= budget


class _RecordingSource(_CountingSource):
    def __init__(self):
        super().__init__()
        self.read: list[tuple[int, int]] = []

    def subtree_hash(self, level, index):
        self.read.append((level, index))
        return super().subtree_hash(level, index)


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 2**40), st.data())
def test_range_nodes_are_what_a_proof_reads(size, data):
    """A proof's nodes are read in one statement from what range_nodes lists: it must be every node
    range_hash then reads, so that the proof computed from that statement's rows is the real one."""
    index = data.draw(st.integers(0, size - 1), label="index")
    first = data.draw(st.integers(1, size), label="first")
    for ranges, make in ((inclusion_ranges(index, size), lambda s: inclusion_proof(s, index, size)),
                         (consistency_ranges(first, size), lambda s: consistency_proof(s, first, size))):
        source = _RecordingSource()
        make(source)
        assert [node for start, end in ranges for node in range_nodes(start, end)] == source.read
