"""C2SP tlog-proof: a receipt that an entry is in a cosigned checkpoint, verifiable offline."""
import base64
import binascii
import re
from dataclasses import dataclass

from service.core.ledger import cosignature, merkle, note
from service.core.ledger.canonical import leaf_hash
from service.core.ledger.policy import Policy

HEADER = "c2sp.org/tlog-proof@v1"
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class ReceiptError(ValueError):
    """A receipt that is malformed or does not verify against the policy."""


@dataclass(frozen=True)
class Receipt:
    index: int
    proof: list[bytes]
    checkpoint: str  # the signed checkpoint verbatim, log signature and cosignatures
    extra: bytes | None = None  # here: the entry's canonical bytes, so the leaf hash can be recomputed


@dataclass(frozen=True)
class VerifiedReceipt:
    origin: str
    index: int
    tree_size: int
    entry: bytes | None
    cosigned: dict[str, int]  # policy witness name -> cosignature timestamp (POSIX seconds)


def format_receipt(receipt: Receipt) -> str:
    lines = [HEADER]
    if receipt.extra is not None:
        lines.append(f"extra {base64.b64encode(receipt.extra).decode()}")
    lines.append(f"index {receipt.index}")
    lines += [base64.b64encode(h).decode() for h in receipt.proof]
    return "\n".join(lines) + "\n\n" + receipt.checkpoint


def parse_receipt(text: str) -> Receipt:
    head, sep, checkpoint = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or lines[0] != HEADER:
        raise ReceiptError(f"a receipt starts with {HEADER!r} and has an empty line before its checkpoint")
    lines, extra = lines[1:], None
    if lines and lines[0].startswith("extra "):
        extra, lines = _b64(lines[0][len("extra "):], "extra data"), lines[1:]
    if not lines or not lines[0].startswith("index ") or not _DECIMAL.fullmatch(lines[0][len("index "):]):
        raise ReceiptError("the index line must be 'index <decimal>'")
    proof = [_b64(line, "proof hash") for line in lines[1:]]
    if any(len(h) != merkle.HASH_SIZE for h in proof):
        raise ReceiptError("every proof line must be one base64 SHA-256 hash")
    return Receipt(int(lines[0][len("index "):]), proof, checkpoint, extra)


def verify_receipt(text: str, policy: Policy, entry_leaf_hash: bytes | None = None) -> VerifiedReceipt:
    """The tlog-proof steps: leaf hash (given, or of the extra entry bytes), a trusted log's signature,
    the policy's quorum of cosignatures, and the inclusion proof into the checkpoint's root."""
    receipt = parse_receipt(text)
    if entry_leaf_hash is None:
        if receipt.extra is None:
            raise ReceiptError("the receipt carries no entry; give its leaf hash")
        entry_leaf_hash = leaf_hash(receipt.extra)
    try:
        body, _ = note.signature_lines(receipt.checkpoint)
        origin, size, root = note.parse_checkpoint(body)
    except note.NoteError as exc:
        raise ReceiptError(f"the checkpoint is malformed: {exc}") from exc
    _check_log_signature(receipt.checkpoint, origin, policy)
    cosigned = _check_quorum(receipt.checkpoint, policy)
    try:
        merkle.verify_inclusion(entry_leaf_hash, receipt.index, size, receipt.proof, root)
    except merkle.ProofError as exc:
        raise ReceiptError(f"the inclusion proof does not verify: {exc}") from exc
    return VerifiedReceipt(origin, receipt.index, size, receipt.extra, cosigned)


def _check_log_signature(checkpoint: str, origin: str, policy: Policy) -> None:
    keys = policy.log_named(origin)
    if not keys:
        raise ReceiptError(f"the policy trusts no log named {origin!r}")
    for vkey in keys:
        try:
            note.verify_note(checkpoint, vkey)
            return
        except note.NoteError:
            continue
    raise ReceiptError(f"the checkpoint is not signed by a trusted key of {origin}")


def _check_quorum(checkpoint: str, policy: Policy) -> dict[str, int]:
    try:
        found = cosignature.cosignatures(checkpoint, policy.witness_keys())
    except note.NoteError as exc:
        raise ReceiptError(f"a cosignature is invalid: {exc}") from exc
    if not policy.satisfied_by(set(found)):
        have = ", ".join(sorted(found)) or "none"
        raise ReceiptError(f"the checkpoint lacks the policy's quorum {policy.quorum!r} (cosigned by: {have})")
    return {name: cosig.timestamp for name, cosig in found.items()}


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ReceiptError(f"{what} is not base64") from exc
