"""C2SP signed-note / tlog-checkpoint signing and verification with Ed25519."""
import base64
import hashlib
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.core.ledger.note import (NoteError, checkpoint_body, load_or_create_signing_key, parse_checkpoint,
                                      parse_verifier_key, sign_note, verifier_key, verify_note)

NAME = "audit.example/ledger"
ROOT = hashlib.sha256(b"root").digest()


@pytest.fixture(scope="module")
def key():
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def note(key):
    return sign_note(checkpoint_body(NAME, 42, ROOT), NAME, key)


def _raw(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_signed_checkpoint_verifies_and_parses(key, note):
    body = verify_note(note, verifier_key(NAME, key.public_key()))
    assert body == f"{NAME}\n42\n{base64.b64encode(ROOT).decode()}\n"
    assert parse_checkpoint(body) == (NAME, 42, ROOT)


def test_note_layout(key, note):
    body, sig_line = note.split("\n\n")
    assert sig_line.startswith(f"\u2014 {NAME} ") and sig_line.endswith("\n")
    raw = base64.b64decode(sig_line.split(" ")[2])
    assert len(raw) == 4 + 64
    key.public_key().verify(raw[4:], (body + "\n").encode())


def test_key_id_matches_the_spec_formula(key):
    # C2SP signed-note: key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]
    expected = hashlib.sha256(NAME.encode() + b"\x0a" + b"\x01" + _raw(key.public_key())).digest()[:4]
    vkey = verifier_key(NAME, key.public_key())
    name, id_hex, key_b64 = vkey.split("+", 2)
    assert (name, id_hex) == (NAME, expected.hex())
    assert base64.b64decode(key_b64) == b"\x01" + _raw(key.public_key())
    signature_b64 = sign_note("x\n", NAME, key).rsplit(" ", 1)[1]
    assert base64.b64decode(signature_b64)[:4] == expected


def test_verifier_key_round_trips(key):
    vkey = verifier_key(NAME, key.public_key())
    name, kid, public_key = parse_verifier_key(vkey)
    assert name == NAME and len(kid) == 4 and verifier_key(name, public_key) == vkey


@pytest.mark.parametrize("bad", ["", "a b", "a+b", "tab\there", "nbsp\u00a0x"])
def test_invalid_key_names_are_refused(key, bad):
    with pytest.raises(NoteError):
        verifier_key(bad, key.public_key())
    with pytest.raises(NoteError):
        sign_note("x\n", bad, key)


def test_verifier_key_with_wrong_id_is_refused(key):
    name, id_hex, rest = verifier_key(NAME, key.public_key()).split("+", 2)
    wrong = f"{(int(id_hex, 16) ^ 1):08x}"
    with pytest.raises(NoteError):
        parse_verifier_key(f"{name}+{wrong}+{rest}")


def _flip_char(text: str, i: int) -> str:
    return text[:i] + ("A" if text[i] != "A" else "B") + text[i + 1 :]


def test_any_changed_body_byte_fails(key, note):
    vkey = verifier_key(NAME, key.public_key())
    body_len = note.index("\n\n")
    for i in range(body_len):
        if note[i] == "\n":
            continue
        with pytest.raises(NoteError):
            verify_note(_flip_char(note, i), vkey)


def test_changed_signature_fails(key, note):
    vkey = verifier_key(NAME, key.public_key())
    body, sig_line = note.split("\n\n")
    prefix, b64 = sig_line.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64))
    for i in range(4, len(raw)):  # bytes 0-3 are the key ID; changing them makes it an unknown key
        changed = raw.copy()
        changed[i] ^= 0x01
        with pytest.raises(NoteError):
            verify_note(f"{body}\n\n{prefix} {base64.b64encode(bytes(changed)).decode()}\n", vkey)


def test_wrong_key_name_fails(key, note):
    with pytest.raises(NoteError):
        verify_note(note, verifier_key("other.example/log", key.public_key()))
    renamed = note.replace(f"\u2014 {NAME} ", "\u2014 other.example/log ")
    with pytest.raises(NoteError):
        verify_note(renamed, verifier_key(NAME, key.public_key()))


def test_wrong_key_fails(note):
    with pytest.raises(NoteError):
        verify_note(note, verifier_key(NAME, Ed25519PrivateKey.generate().public_key()))


def test_same_name_and_id_but_bad_signature_is_rejected_outright(key):
    """A known key's failed signature rejects the note even if another line verifies."""
    body = checkpoint_body(NAME, 1, ROOT)
    good = sign_note(body, NAME, key).split("\n\n")[1]
    prefix, b64 = good.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 1
    bad = f"{prefix} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(NoteError):
        verify_note(f"{body}\n{bad}{good}", verifier_key(NAME, key.public_key()))


def test_unknown_signers_are_ignored(key, note):
    other = Ed25519PrivateKey.generate()
    body = checkpoint_body(NAME, 42, ROOT)
    foreign = sign_note(body, "witness.example/w1", other).split("\n\n")[1]
    # Same name as ours but another key (so another key ID): also just ignored.
    impostor = sign_note(body, NAME, other).split("\n\n")[1]
    assert verify_note(note + foreign + impostor, verifier_key(NAME, key.public_key())) == body
    with pytest.raises(NoteError):  # unknown signers alone never make a note valid
        verify_note(f"{body}\n{foreign}{impostor}", verifier_key(NAME, key.public_key()))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda n: n.replace("\n\n", "\n"),  # no blank line
        lambda n: n[:-1],  # no final newline
        lambda n: n.replace("\u2014 ", "-- "),  # not an em dash
        lambda n: n.replace("\n\n", "\n\x07\n"),  # control character
        lambda n: n + "garbage\n",  # trailing line that is not a signature
    ],
    ids=["no-blank-line", "no-final-newline", "ascii-dash", "control-char", "trailing-garbage"],
)
def test_malformed_notes_fail(key, note, mangle):
    with pytest.raises(NoteError):
        verify_note(mangle(note), verifier_key(NAME, key.public_key()))


@pytest.mark.parametrize(
    "body",
    [
        "origin\n42\n",  # too few lines
        f"origin\n042\n{base64.b64encode(ROOT).decode()}\n",  # leading zero
        f"origin\n-1\n{base64.b64encode(ROOT).decode()}\n",
        f"origin\n1\n{base64.b64encode(ROOT[:31]).decode()}\n",  # short hash
        f"origin\n1\n{base64.b64encode(ROOT).decode()}",  # no final newline
        f"origin\n1\n\n{base64.b64encode(ROOT).decode()}\n",  # empty line
    ],
)
def test_bad_checkpoints_fail_to_parse(body):
    with pytest.raises(NoteError):
        parse_checkpoint(body)


def test_checkpoint_extension_lines_are_ignored():
    body = checkpoint_body(NAME, 0, ROOT) + "extension\n"
    assert parse_checkpoint(body) == (NAME, 0, ROOT)


def test_signing_key_file_is_created_0600_and_reused(tmp_path):
    path = tmp_path / "keys" / "ledger.pem"
    first = load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    second = load_or_create_signing_key(path)
    assert _raw(first.public_key()) == _raw(second.public_key())
    assert [p.name for p in path.parent.iterdir()] == ["ledger.pem"]  # no temp file left behind
