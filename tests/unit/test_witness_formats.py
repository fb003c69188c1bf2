"""The byte formats of the C2SP texts, checked against the specifications' own examples and rules:
tile paths, entry bundles, cosignature/v1, tlog-policy, tlog-proof."""
import base64
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.core.ledger import cosignature, merkle, note, tiles
from service.core.ledger.canonical import leaf_hash
from service.core.ledger.policy import PolicyError, parse_policy
from service.core.ledger.proof_text import Receipt, ReceiptError, format_receipt, parse_receipt, verify_receipt
from tests import tlog_reference as ref

BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def test_tile_index_paths_as_the_spec_writes_them():
    assert tiles.index_path(1234067) == "x001/x234/067"
    assert tiles.index_path(0) == "000" and tiles.index_path(999) == "999" and tiles.index_path(1000) == "x001/000"
    assert tiles.tile_path(0, 1234067, 12) == "tile/0/x001/x234/067.p/12"
    assert tiles.tile_path(tiles.ENTRIES, 5) == "tile/entries/005"
    assert tiles.parse_index("x001/x234/067.p/12") == (1234067, 12)
    for bad in ("x000/001", "1", "0001", "x1/000", "000.p/0", "000.p/256", "000.p/012", "000/x001"):
        with pytest.raises(tiles.TileError):
            tiles.parse_index(bad)


def test_widths_of_a_tree_of_70000_as_in_the_spec():
    # "273 full level 0 tiles, one partial level 0 tile of width 112, one full level 1 tile, one
    # partial level 1 tile of width 17, and one partial level 2 tile of width 1"
    size = 70_000
    assert [tiles.available_width(0, n, size) for n in (0, 272, 273, 274)] == [256, 256, 112, 0]
    assert [tiles.available_width(1, n, size) for n in (0, 1, 2)] == [256, 17, 0]
    assert tiles.available_width(2, 0, size) == 1 and tiles.available_width(3, 0, size) == 0
    assert tiles.available_width(1, 0, 256) == 1  # "a tree of size 256 ... a partial level 1 tile of width 1"


def test_entry_bundles_are_uint16_length_prefixed():
    bundle = tiles.encode_bundle([b"a", b"", b"x" * 300])
    assert bundle == b"\x00\x01a" + b"\x00\x00" + b"\x01\x2c" + b"x" * 300
    assert tiles.decode_bundle(bundle) == [b"a", b"", b"x" * 300] == ref.bundle_entries(bundle)
    with pytest.raises(tiles.TileError):
        tiles.encode_bundle([b"x" * 65536])
    with pytest.raises(tiles.TileError):
        tiles.decode_bundle(b"\x00\x05ab")


def test_cosignature_v1_signs_header_time_and_body():
    key = Ed25519PrivateKey.generate()
    assert cosignature.signed_message(BODY, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n" + BODY.encode())
    line = cosignature.cosign(BODY, "witness.example.com/w1", key, 1679315147)
    name, blob = line[len("\u2014 "):-1].split(" ")
    raw = base64.b64decode(blob)
    # key ID with signature type 0x04, then the big-endian u64 timestamp, then 64 signature bytes
    assert raw[:4] == ref.key_id(name, key.public_key(), 0x04)
    assert struct.unpack(">Q", raw[4:12])[0] == 1679315147 and len(raw) == 76
    key.public_key().verify(raw[12:], cosignature.signed_message(BODY, 1679315147))
    vkey = cosignature.verifier_key(name, key.public_key())
    assert vkey == ref.vkey(name, key.public_key(), 0x04)
    assert cosignature.verify(BODY, line, vkey).timestamp == 1679315147
    # The reference witness's line verifies here too, and a log key (type 0x01) is a different key ID.
    assert cosignature.verify(BODY, ref.cosign(BODY, name, key, 7), vkey).timestamp == 7
    note_line = note.sign_note(BODY, name, key).split("\n\n")[1]
    assert cosignature.verify(BODY, note_line, vkey) is None  # same name and key, type 0x01: another key ID
    with pytest.raises(note.NoteError):
        cosignature.verify(BODY.replace("20852163", "20852164"), line, vkey)
    with pytest.raises(note.NoteError):
        cosignature.parse_verifier_key(note.verifier_key(name, key.public_key()))


POLICY = """
# the spec's example, with keys
log {log}

witness X1 {x1}
witness X2 {x2}  http://127.0.0.1:1/
witness X3 {x3}
group X-witnesses 2 X1 X2 X3
\twitness Y1 {y1}
witness Y2 {y2}
group Y-witnesses any Y1 Y2
group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
"""


def _keys(names):
    return {n: Ed25519PrivateKey.generate() for n in names}


def test_policy_quorum_of_groups_as_in_the_spec_example():
    wk = _keys(["x1", "x2", "x3", "y1", "y2"])
    log_key = Ed25519PrivateKey.generate()
    text = POLICY.format(log=note.verifier_key("log.example", log_key.public_key()),
                         **{n: cosignature.verifier_key(f"{n}.example", k.public_key()) for n, k in wk.items()})
    policy = parse_policy(text)
    assert policy.witnesses["X2"].url == "http://127.0.0.1:1/" and policy.witnesses["X1"].url is None
    assert policy.satisfied_by({"X1", "X3", "Y2"})
    assert not policy.satisfied_by({"X1", "Y1", "Y2"})
    assert not policy.satisfied_by({"X1", "X2", "X3"})
    assert parse_policy("quorum none\n").satisfied_by(set())


@pytest.mark.parametrize("text, why", [
    ("", "exactly one quorum"),
    ("quorum none\nquorum none\n", "exactly one quorum"),
    ("quorum W\n", "not defined"),
    ("witness none {w}\nquorum none\n", "already defined"),
    ("witness A {w}\ngroup G 2 A\nquorum G\n", "threshold"),
    ("witness A {w}\ngroup G 0 A\nquorum G\n", "threshold"),
    ("witness A {w}\ngroup G any A A\nquorum G\n", "twice"),
    ("witness A {w}\nwitness B {w}\nquorum A\n", "same public key"),
    ("witness A {log}\nquorum A\n", "signature type"),
    ("frobnicate\nquorum none\n", "not a log"),
])
def test_malformed_policies_are_refused(text, why):
    key = Ed25519PrivateKey.generate()
    filled = text.format(w=cosignature.verifier_key("w.example", key.public_key()),
                         log=note.verifier_key("w.example", key.public_key()))
    with pytest.raises(PolicyError, match=why):
        parse_policy(filled)


def _receipt_fixture(witness_count=2, quorum="2"):
    log_key = Ed25519PrivateKey.generate()
    entries = [f"entry {i}".encode() for i in range(7)]
    tree = merkle.MemoryTree([leaf_hash(e) for e in entries])
    body = note.checkpoint_body("log.example/x", tree.size, merkle.tree_root(tree, tree.size))
    signed = note.sign_note(body, "log.example/x", log_key)
    wkeys = [Ed25519PrivateKey.generate() for _ in range(witness_count)]
    lines = [cosignature.cosign(body, f"w{i}.example", k, 1700000000 + i) for i, k in enumerate(wkeys)]
    policy = parse_policy(f"log {note.verifier_key('log.example/x', log_key.public_key())}\n" + "".join(
        f"witness W{i} {cosignature.verifier_key(f'w{i}.example', k.public_key())}\n" for i, k in enumerate(wkeys))
        + f"group all-of-them {quorum} " + " ".join(f"W{i}" for i in range(witness_count)) + "\nquorum all-of-them\n")
    receipt = format_receipt(Receipt(3, merkle.inclusion_proof(tree, 3, tree.size), signed + "".join(lines),
                                     entries[3]))
    return receipt, policy, lines


def test_receipts_follow_tlog_proof_and_verify_offline():
    receipt, policy, _ = _receipt_fixture()
    first_lines = receipt.split("\n")
    assert first_lines[0] == "c2sp.org/tlog-proof@v1"
    assert first_lines[1] == "extra " + base64.b64encode(b"entry 3").decode()
    assert first_lines[2] == "index 3"
    verified = verify_receipt(receipt, policy)
    assert (verified.index, verified.tree_size, verified.entry) == (3, 7, b"entry 3")
    assert verified.cosigned == {"W0": 1700000000, "W1": 1700000001}
    assert format_receipt(parse_receipt(receipt)) == receipt


def test_receipts_that_must_not_verify():
    receipt, policy, lines = _receipt_fixture()
    tampered = {
        "another entry": receipt.replace(base64.b64encode(b"entry 3").decode(), base64.b64encode(b"entry 4").decode()),
        "another index": receipt.replace("index 3", "index 4"),
        "a cosignature missing": receipt.replace(lines[1], ""),
        "no header": receipt.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"),
    }
    for what, text in tampered.items():
        with pytest.raises(ReceiptError):
            verify_receipt(text, policy)
            pytest.fail(what)
    other_log = parse_policy("log " + note.verifier_key("log.example/x", Ed25519PrivateKey.generate().public_key())
                             + "\nquorum none\n")
    with pytest.raises(ReceiptError, match="not signed by a trusted key"):
        verify_receipt(receipt, other_log)
