"""The ledger checks that need no database: leaf hashes, dense indexes, entry types, roots and
checkpoint signatures, over rows fed in leaf order by the database verifier or a bundle reader."""
import hashlib
import json
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

import orjson

from service.core.ledger import note
from service.core.ledger.canonical import ENTRY_TYPES
from service.core.ledger.merkle import EMPTY_ROOT

_NUL = b"\x00"  # never inside JSON text, so an unknown entry type always fails the cheap check
# Each document has a top-level "entry_type" and no nested key of that name, so finding this exact
# text shows the stored type is right without parsing the entry; only a miss is parsed to say more.
_NEEDLES = {t: b'"entry_type":"' + t.encode() + b'"' for t in ENTRY_TYPES}


def parse_json(text: bytes | str):
    """JSON read with orjson, several times faster than json, which matters at a million entries.

    Numbers are IEEE doubles, as in RFC 8785, which canonicalized every entry: orjson reads an
    integer beyond 64 bits as the double it denotes there (the ledger itself cannot hold one
    beyond 2**53). What orjson refuses but json accepts (a lone surrogate escape) goes to json.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class RootBuilder:
    """RFC 9162 root of a growing leaf list in O(log n) memory: one perfect-subtree hash per set bit of size."""

    __slots__ = ("size", "_stack")

    def __init__(self):
        self.size = 0
        self._stack: list[bytes] = []

    @classmethod
    def resume(cls, size: int, stack: list[bytes]) -> "RootBuilder":
        """Carry on from a saved `stack` (a monitor's state): one hash per set bit of size."""
        if len(stack) != bin(size).count("1"):
            raise ValueError(f"a tree of {size} leaves has {bin(size).count('1')} frontier hashes, not {len(stack)}")
        builder = cls()
        builder.size, builder._stack = size, list(stack)
        return builder

    @property
    def stack(self) -> list[bytes]:
        return list(self._stack)

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        stack, size, sha = self._stack, self.size, hashlib.sha256
        pop, push = stack.pop, stack.append
        for node in leaf_hashes:
            bits = size
            while bits & 1:  # each trailing 1 bit is a perfect subtree as large as the new one: merge
                node = sha(b"\x01" + pop() + node).digest()
                bits >>= 1
            push(node)
            size += 1
        self.size = size

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        node = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            node = hashlib.sha256(b"\x01" + left + node).digest()
        return node


class ProblemLog:
    """Prints each problem line as it is found and counts them."""

    def __init__(self, echo: Callable[[str], None]):
        self.echo, self.count = echo, 0

    def __call__(self, line: str) -> None:
        self.count += 1
        self.echo(line)


@dataclass(frozen=True)
class Verification:
    entries: int
    checkpoints: int
    problems: int
    seconds: float
    rows: int = 0  # event, evaluation and policy rows compared with their entries

    @property
    def ok(self) -> bool:
        return self.problems == 0

    def summary(self, what: str) -> str:
        rate = self.entries / self.seconds if self.seconds > 0 else 0.0
        verdict = "OK" if self.ok else f"FAILED with {self.problems} problem(s)"
        rows = f", {self.rows} rows compared" if self.rows else ""
        return (f"{what}: {verdict}: {self.entries} entries, {self.checkpoints} checkpoints{rows} "
                f"in {self.seconds:.2f} s ({rate:,.0f} entries/s)")


def leaf_label(index: int, entry_id: int | None) -> str:
    return f"leaf {index}" if entry_id is None else f"leaf {index} (entry {entry_id})"


def trusted(verifiers: str | Sequence[str]) -> tuple[str, ...]:
    """One verifier key, or several oldest first (a key rotation), as a tuple."""
    return (verifiers,) if isinstance(verifiers, str) else tuple(verifiers)


def check_note(size: int, column_root: bytes | None, text: str,
               verifiers: Sequence[str]) -> tuple[bytes | None, list[str], int | None]:
    """(root to compare the data with, problems, position of the signing key in verifiers) for one
    stored checkpoint.

    The signed root is used when a trusted key's signature verifies; otherwise the stored
    column (if any), so a bad signature and bad data are reported separately.
    """
    failures = []
    for position, verifier in enumerate(verifiers):
        try:
            origin, signed_size, root = note.parse_checkpoint(note.verify_note(text, verifier))
            break
        except note.NoteError as exc:
            failures.append(str(exc))
    else:
        which = "the trusted key" if len(verifiers) == 1 else f"any of the {len(verifiers)} trusted keys"
        return column_root, [f"signature does not verify with {which}: {'; '.join(failures)}"], None
    problems = []
    if origin != verifier.partition("+")[0]:
        problems.append(f"origin {origin!r} is not the key name")
    if signed_size != size:
        problems.append(f"stored tree_size {size} != signed size {signed_size}")
        root = None
    if column_root is not None and column_root != root:
        problems.append("stored root_hash does not match the signed root")
    return root, problems, position


class LeafChecker:
    """Checks leaves fed in index order: hashes, tree nodes, dense indexes and entry types.

    Rows start with (index, entry_id | None, entry_type, canonical | None, leaf_hash, node_hash);
    columns after those are the caller's. Entries whose type is in `wanted` are parsed and
    returned by check() as (row, document) so the caller can compare them with its columns.
    `expected=None` takes the first leaf's index as given: a caller checking one task of a
    larger ledger compares it with where the previous task ended (see gap_line).
    """

    def __init__(self, report: ProblemLog, tree_nodes: bool = False, wanted: Iterable[str] = (),
                 expected: int | None = 0):
        self.report, self.tree_nodes = report, tree_nodes
        self.wanted = frozenset(wanted)
        self.expected = expected
        self.first: tuple[int, int | None] | None = None  # (index, entry_id) of the first leaf seen

    def check(self, rows: Iterable[tuple]) -> tuple[list[bytes], list[tuple[tuple, dict]]]:
        """The hot loop: one SHA-256 and a few comparisons per leaf. Returns (leaf hashes, selected)."""
        sha, needles, wanted, expected, loads = hashlib.sha256, _NEEDLES, self.wanted, self.expected, orjson.loads
        digests, selected = [], []
        keep = selected.append
        for row in rows:
            index, entry_id, entry_type, canonical, stored, node = row[:6]
            if expected is None:
                self.first, expected = (index, entry_id), index
            if canonical is None:
                digest = self._dangling(row)
            else:
                digest = sha(b"\x00" + canonical).digest()
                if digest != stored or node != stored or index != expected:
                    self._leaf_problems(row, digest, expected)
                if entry_type in wanted:
                    # _typed inlined for its common case (an object of the stored type), a fifth
                    # of the loop's time; anything else goes through it and is parsed again.
                    try:
                        document = loads(canonical)
                    except ValueError:
                        document = None
                    if type(document) is dict and document.get("entry_type") == entry_type:
                        keep((row, document))
                    else:
                        self._typed(row, selected)
                elif needles.get(entry_type, _NUL) not in canonical:
                    self._typed(row, selected)
            expected = index + 1
            if digest is not None:
                digests.append(digest)
        self.expected = expected
        return digests, selected

    def _leaf_problems(self, row: tuple, digest: bytes, expected: int) -> None:
        index, entry_id, _, _, stored, node = row[:6]
        label = leaf_label(index, entry_id)
        if index != expected:
            self.report(gap_line(expected, index, entry_id))
        if digest != stored:
            self.report(f"{label}: leaf_hash does not match canonical bytes")
        # Compared with the stored hash, not the recomputed one: when only the bytes changed,
        # the node still agrees with leaf_hash and one line says all there is to say.
        if self.tree_nodes and node is None:
            self.report(f"{label}: level-0 tree node is missing")
        elif self.tree_nodes and node != stored:
            self.report(f"{label}: level-0 tree node does not match the stored leaf_hash")

    def _dangling(self, row: tuple) -> bytes | None:
        """A leaf whose entry is gone; its tree node (if any) stands in so later roots stay comparable."""
        index, entry_id, _, _, _, node = row[:6]
        self.report(f"{leaf_label(index, entry_id)}: ledger entry {entry_id} is missing")
        return node

    def _typed(self, row: tuple, selected: list) -> None:
        """Parse an entry; check its type against the stored one; keep it if the caller wants it."""
        index, entry_id, entry_type, canonical = row[:4]
        try:
            document = parse_json(canonical)
            actual = document.get("entry_type") if isinstance(document, dict) else None
        except ValueError:
            self.report(f"{leaf_label(index, entry_id)}: canonical bytes are not JSON")
            return
        if actual != entry_type:
            self.report(f"{leaf_label(index, entry_id)}: entry_type {entry_type!r} != ledger {actual!r}")
        if actual in self.wanted:
            selected.append((row, document))


def gap_line(expected: int, index: int, entry_id: int | None) -> str:
    """What a leaf at `index` says when leaf `expected` should have come next."""
    label = leaf_label(index, entry_id)
    if index > expected:
        return f"leaf index gap: leaves {expected}..{index - 1} are missing before {label}"
    return f"{label}: out of order, expected leaf {expected}"


class RootTracker:
    """The root of the leaves so far, compared with each stored checkpoint as its size is reached;
    every checkpoint's signature is checked, reached or not.

    Several verifier keys are those of a rotation, oldest first: each checkpoint must be signed by
    one of them, and none by an older key than an earlier checkpoint's (a retired key, possibly
    leaked, must not sign the ledger's future).
    """

    def __init__(self, checkpoints: Iterable[tuple[int, bytes | None, str]], verifiers: str | Sequence[str],
                 report: ProblemLog):
        self._checkpoints: Iterator = iter(checkpoints)
        self.verifiers, self.report = trusted(verifiers), report
        self._newest_key = 0  # position in verifiers of the newest key that has signed so far
        self.builder = RootBuilder()
        self.checkpoints_seen = 0
        self.latest_size = -1
        self._next: tuple[int, bytes | None] | None = None
        self._next_size = -1
        self._advance()
        self._reach()

    def extend(self, digests: list[bytes]) -> None:
        """Add leaves to the root builder, stopping at each checkpoint's size to compare roots."""
        builder, start = self.builder, 0
        while self._next is not None and self._next_size - builder.size <= len(digests) - start:
            cut = start + self._next_size - builder.size
            builder.extend(digests[start:cut])
            start = cut
            self._reach()
        builder.extend(digests[start:] if start else digests)

    def finish(self) -> int:
        """Report checkpoints beyond the data and leaves beyond every checkpoint; returns the leaf count."""
        size = self.builder.size
        while self._next is not None:
            self.report(f"checkpoint at size {self._next[0]}: the ledger has only {size} leaves")
            self._advance()
        if size > max(self.latest_size, 0):
            first = max(self.latest_size, 0)
            self.report(f"leaves {first}..{size - 1} are not covered by any stored checkpoint")
        return size

    def _advance(self) -> None:
        """Take the next checkpoint, checking its signature now: every one is checked, reached or not."""
        self._next, self._next_size = None, -1
        for size, column_root, text in self._checkpoints:
            self.checkpoints_seen += 1
            root, problems, key = check_note(size, column_root, text, self.verifiers)
            if key is not None and key < self._newest_key:
                problems.append(f"signed by the retired key {self._key_name(key)} after checkpoints signed "
                                f"by {self._key_name(self._newest_key)}")
            self._newest_key = max(self._newest_key, key or 0)
            for problem in problems:
                self.report(f"checkpoint at size {size}: {problem}")
            if size <= self.latest_size:
                self.report(f"checkpoint at size {size}: not after the previous one (size {self.latest_size})")
                continue
            self.latest_size = size
            self._next, self._next_size = (size, root), size
            return

    def _key_name(self, position: int) -> str:
        return "+".join(self.verifiers[position].split("+")[:2])

    def _reach(self) -> None:
        while self._next is not None and self._next[0] == self.builder.size:
            size, root = self._next
            if root is not None and root != self.builder.root():
                last = f"leaves 0..{size - 1}" if size else "the empty tree"
                self.report(f"checkpoint at size {size}: root of {last} does not match the signed root")
            self._advance()


class LeafStream:
    """A LeafChecker feeding a RootTracker: the whole check of a ledger read in one pass."""

    def __init__(self, checkpoints: Iterable[tuple[int, bytes | None, str]], verifiers: str | Sequence[str],
                 report: ProblemLog, tree_nodes: bool = False, wanted: Iterable[str] = ()):
        self.roots = RootTracker(checkpoints, verifiers, report)
        self.leaves = LeafChecker(report, tree_nodes, wanted)

    def feed(self, rows: Iterable[tuple]) -> list[tuple[tuple, dict]]:
        digests, selected = self.leaves.check(rows)
        self.roots.extend(digests)
        return selected

    def finish(self) -> int:
        return self.roots.finish()

    @property
    def checkpoints_seen(self) -> int:
        return self.roots.checkpoints_seen
