"""C2SP signed-note and tlog-checkpoint with Ed25519, following golang.org/x/mod/sumdb/note."""
import base64
import binascii
import hashlib
import os
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from service.core import secret_files

ALG_ED25519 = b"\x01"
SIG_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100  # the reference implementation's cap; C2SP requires at least 16
_SIZE_RE = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A note, checkpoint or verifier key is malformed or not validly signed."""


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _valid_name(name):
        raise NoteError(f"invalid key name {name!r}: must be non-empty, without '+' or spaces")


def _check_text(text: str) -> None:
    """C2SP: valid UTF-8, no ASCII control characters other than newline."""
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise NoteError("note contains a control character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates cannot be UTF-8
        raise NoteError("note is not valid UTF-8") from exc


def _b64decode(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError("bad base64") from exc


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, public_key: Ed25519PublicKey, alg: bytes = ALG_ED25519) -> bytes:
    """C2SP: SHA-256(name || 0x0A || signature type || 32-byte public key)[:4]; type 0x01 signs notes."""
    return hashlib.sha256(name.encode() + b"\n" + alg + _raw_public(public_key)).digest()[:4]


def verifier_key(name: str, public_key: Ed25519PublicKey, alg: bytes = ALG_ED25519) -> str:
    """<name>+<8 hex key ID>+<base64(signature type || public key)>."""
    _check_name(name)
    encoded = base64.b64encode(alg + _raw_public(public_key)).decode()
    return f"{name}+{key_id(name, public_key, alg).hex()}+{encoded}"


def parse_verifier_key(value: str, alg: bytes = ALG_ED25519) -> tuple[str, bytes, Ed25519PublicKey]:
    """(name, key ID, public key) from a verifier key string of signature type `alg`; the ID must match."""
    name, _, rest = value.partition("+")
    id_hex, _, key_b64 = rest.partition("+")
    _check_name(name)
    if not re.fullmatch(r"[0-9a-fA-F]{8}", id_hex):
        raise NoteError("verifier key ID must be 8 hex digits")
    raw = _b64decode(key_b64)
    if len(raw) != 33 or raw[:1] != alg:
        raise NoteError(f"verifier key is not an Ed25519 key of signature type 0x{alg.hex()}")
    try:
        public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
    except ValueError as exc:
        raise NoteError("verifier key is not a valid Ed25519 key") from exc
    if key_id(name, public_key, alg) != bytes.fromhex(id_hex):
        raise NoteError("verifier key ID does not match its name and key")
    return name, bytes.fromhex(id_hex), public_key


def checkpoint_body(origin: str, tree_size: int, root_hash: bytes) -> str:
    """tlog-checkpoint note text: origin, decimal size, base64 root, each ending in newline."""
    if not origin or "\n" in origin:
        raise NoteError("origin must be a non-empty single line")
    if not isinstance(tree_size, int) or tree_size < 0 or len(root_hash) != 32:
        raise NoteError("bad tree size or root hash")
    return f"{origin}\n{tree_size}\n{base64.b64encode(root_hash).decode()}\n"


def parse_checkpoint(body: str) -> tuple[str, int, bytes]:
    """(origin, tree size, root hash) from checkpoint text; extension lines are ignored."""
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise NoteError("checkpoint must be at least three non-empty lines, each ending in newline")
    origin, size, root_b64 = lines[:3]
    if not _SIZE_RE.fullmatch(size):
        raise NoteError("tree size must be decimal without leading zeroes")
    root = _b64decode(root_b64)
    # Reject non-canonical encodings so one checkpoint has exactly one text.
    if len(root) != 32 or base64.b64encode(root).decode() != root_b64:
        raise NoteError("root hash must be 32 bytes in canonical base64")
    return origin, int(size), root


def sign_note(body: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """body + blank line + one signature line by name; the signature covers body's UTF-8 bytes."""
    _check_name(name)
    if not body.endswith("\n"):
        raise NoteError("note text must end in a newline")
    _check_text(body)
    signature = private_key.sign(body.encode("utf-8"))
    tag = key_id(name, private_key.public_key())
    return f"{body}\n{SIG_PREFIX}{name} {base64.b64encode(tag + signature).decode()}\n"


def _split_note(note: str) -> tuple[str, list[str]]:
    """(text, signature lines): the text ends at the last blank line, as C2SP says."""
    _check_text(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no signature block")
    text, sigs = note[: split + 1], note[split + 2 :]
    if not sigs.endswith("\n"):
        raise NoteError("signature block must end in a newline")
    lines = sigs[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("too many signatures")
    return text, lines


def _parse_signature_line(line: str) -> tuple[str, bytes, bytes]:
    if not line.startswith(SIG_PREFIX):
        raise NoteError("malformed signature line")
    name, _, b64 = line[len(SIG_PREFIX) :].partition(" ")
    raw = _b64decode(b64) if b64 else b""
    if not _valid_name(name) or len(raw) < 5:
        raise NoteError("malformed signature line")
    return name, raw[:4], raw[4:]


def signature_lines(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """(text, [(key name, key ID, signature)]) of a signed note, every line well-formed."""
    text, lines = _split_note(note)
    return text, [_parse_signature_line(line) for line in lines]


def verify_note(note: str, verifier: str) -> str:
    """The note text if a line by this verifier key verifies; unknown keys' lines are ignored."""
    name, kid, public_key = parse_verifier_key(verifier)
    text, lines = _split_note(note)
    verified = False
    for line in lines:
        sig_name, sig_id, signature = _parse_signature_line(line)
        # A line matching only the name or only the ID is another key: ignore it.
        if sig_name != name or sig_id != kid or verified:
            continue
        try:
            public_key.verify(signature, text.encode("utf-8"))
        except InvalidSignature as exc:
            raise NoteError(f"invalid signature by {name}") from exc
        verified = True
    if not verified:
        raise NoteError(f"no signature by {name}+{kid.hex()}")
    return text


def load_or_create_signing_key(path: str | os.PathLike) -> Ed25519PrivateKey:
    """Load the PKCS#8 PEM Ed25519 key at path, creating it (mode 0600) if absent."""
    pem = secret_files.load_or_create(path, lambda: Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise NoteError(f"{path} does not hold an Ed25519 private key")
    return key
