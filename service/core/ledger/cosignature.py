"""C2SP tlog-cosignature/v1 with Ed25519: a witness's timestamped signature on a checkpoint."""
import base64
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.core.ledger import note

# signed-note's signature type for timestamped Ed25519 checkpoint cosignatures (tlog-cosignature).
ALG_COSIGNATURE_V1 = b"\x04"
MAX_TIMESTAMP = 2**63 - 1
_HEADER = "cosignature/v1\n"


@dataclass(frozen=True)
class Cosignature:
    """One verified cosignature line: by whom (the key's name), when, and the line itself."""

    name: str
    key_id: bytes
    timestamp: int
    line: str  # "— <name> <base64>\n", exactly as it goes under a checkpoint


def verifier_key(name: str, public_key) -> str:
    """The witness's vkey: <name>+<key ID>+base64(0x04 || public key)."""
    return note.verifier_key(name, public_key, ALG_COSIGNATURE_V1)


def parse_verifier_key(value: str):
    """(name, key ID, public key) of a cosigner vkey; the key ID is computed with type 0x04."""
    return note.parse_verifier_key(value, ALG_COSIGNATURE_V1)


def signed_message(body: str, timestamp: int) -> bytes:
    """What the witness signs: 'cosignature/v1', 'time <t>', then the checkpoint's whole note text."""
    _check_timestamp(timestamp)
    if not body.endswith("\n"):
        raise note.NoteError("checkpoint text must end in a newline")
    return f"{_HEADER}time {timestamp}\n{body}".encode("utf-8")


def cosign(body: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """The signature line a witness answers add-checkpoint with: key ID || u64 timestamp || signature."""
    kid = note.key_id(name, private_key.public_key(), ALG_COSIGNATURE_V1)
    signature = private_key.sign(signed_message(body, timestamp))
    blob = kid + struct.pack(">Q", timestamp) + signature
    return f"{note.SIG_PREFIX}{name} {base64.b64encode(blob).decode()}\n"


def verify(body: str, line: str, vkey: str) -> Cosignature | None:
    """The cosignature in `line` if it is by `vkey`; None for another key's line. A line naming this
    key (name and ID) whose signature fails raises, as signed-note says such a note is malformed."""
    name, kid, public_key = parse_verifier_key(vkey)
    sig_name, sig_id, raw = _parse_line(line)
    if sig_name != name or sig_id != kid:
        return None
    if len(raw) != 8 + 64:
        raise note.NoteError(f"cosignature by {name} is not a timestamped Ed25519 signature")
    timestamp = struct.unpack(">Q", raw[:8])[0]
    try:
        public_key.verify(raw[8:], signed_message(body, timestamp))
    except InvalidSignature as exc:
        raise note.NoteError(f"invalid cosignature by {name}") from exc
    return Cosignature(name, kid, timestamp, line if line.endswith("\n") else line + "\n")


def cosignatures(signed: str, vkeys: dict[str, str]) -> dict[str, Cosignature]:
    """Valid cosignatures on a signed checkpoint, keyed by the name `vkeys` gives each trusted key.
    Lines of unknown keys are ignored; a bad line of a trusted key raises NoteError."""
    text, lines = note.signature_lines(signed)
    found = {}
    for sig_name, sig_id, raw in lines:
        line = f"{note.SIG_PREFIX}{sig_name} {base64.b64encode(sig_id + raw).decode()}\n"
        for label, vkey in vkeys.items():
            if label not in found and (cosig := verify(text, line, vkey)) is not None:
                found[label] = cosig
    return found


def _parse_line(line: str) -> tuple[str, bytes, bytes]:
    line = line.rstrip("\n")
    if not line.startswith(note.SIG_PREFIX) or "\n" in line:
        raise note.NoteError("malformed cosignature line")
    name, _, b64 = line[len(note.SIG_PREFIX):].partition(" ")
    raw = note._b64decode(b64) if b64 else b""  # noqa: SLF001 - the one base64 rule of signed notes
    if not name or len(raw) < 5:
        raise note.NoteError("malformed cosignature line")
    return name, raw[:4], raw[4:]


def _check_timestamp(timestamp: int) -> None:
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise note.NoteError("cosignature timestamp must be between 0 and 2**63 - 1")
