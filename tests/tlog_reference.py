"""An independent reading of the C2SP specifications for the tests: no service code is imported, so
the witness processes and the tile reader check the service against the texts, not against itself.

Written from signed-note, tlog-checkpoint, tlog-cosignature, tlog-witness and tlog-tiles, and RFC 9162
§2.1 for the hashes and the consistency proof."""
import base64
import hashlib
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

DASH = "\u2014 "


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf(entry: bytes) -> bytes:
    return sha256(b"\x00" + entry)


def node(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def mth(hashes: list[bytes]) -> bytes:
    """RFC 9162 MTH over already-hashed leaves, by the recursive definition (split at the largest
    power of two smaller than n)."""
    if not hashes:
        return sha256(b"")
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return node(mth(hashes[:k]), mth(hashes[k:]))


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, key: Ed25519PublicKey, sig_type: int) -> bytes:
    return sha256(name.encode() + b"\n" + bytes([sig_type]) + raw_public(key))[:4]


def vkey(name: str, key: Ed25519PublicKey, sig_type: int) -> str:
    """signed-note verifier key: name+hex(key id)+base64(type || key). Type 1 notes, 4 cosignatures."""
    material = base64.b64encode(bytes([sig_type]) + raw_public(key)).decode()
    return f"{name}+{key_id(name, key, sig_type).hex()}+{material}"


def split_note(text: str) -> tuple[str, list[tuple[str, bytes]]]:
    """(body, [(key name, base64-decoded key id || signature)])."""
    at = text.rindex("\n\n")
    body, block = text[:at + 1], text[at + 2:]
    sigs = []
    for line in block.split("\n")[:-1]:
        assert line.startswith(DASH), f"not a signature line: {line!r}"
        name, blob = line[len(DASH):].split(" ")
        sigs.append((name, base64.b64decode(blob, validate=True)))
    return body, sigs


def checkpoint_fields(body: str) -> tuple[str, int, bytes]:
    origin, size, root = body.split("\n")[:3]
    return origin, int(size), base64.b64decode(root, validate=True)


def note_signature_valid(text: str, name: str, key: Ed25519PublicKey) -> bool | None:
    """True/False for the line by this Ed25519 note key, None if there is no such line."""
    body, sigs = split_note(text)
    kid = key_id(name, key, 0x01)
    for sig_name, blob in sigs:
        if sig_name == name and blob[:4] == kid:
            try:
                key.verify(blob[4:], body.encode())
                return True
            except InvalidSignature:
                return False
    return None


def cosign(body: str, name: str, key: Ed25519PrivateKey, timestamp: int) -> str:
    message = f"cosignature/v1\ntime {timestamp}\n".encode() + body.encode()
    blob = key_id(name, key.public_key(), 0x04) + struct.pack(">Q", timestamp) + key.sign(message)
    return f"{DASH}{name} {base64.b64encode(blob).decode()}\n"


def consistent(first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2, 0 < first < second."""
    if not 0 < first < second or not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def tile_index(n: int) -> str:
    """tlog-tiles: zero-padded 3-digit path elements, all but the last prefixed with x."""
    text = f"{n:03d}"
    text = "0" * (-len(text) % 3) + text
    groups = [text[i:i + 3] for i in range(0, len(text), 3)]
    return "/".join(["x" + g for g in groups[:-1]] + groups[-1:])


def root_from_tiles(tree_size: int, get) -> bytes:
    """The tree's root from its hash tiles alone. get(path) returns the bytes at <prefix>/<path>.

    The tree splits into one perfect subtree per set bit of its size, largest first, and MTH is their
    right fold. A perfect subtree of 2**k leaves is, with k = 8L + r, the MTH of 2**r consecutive
    hashes of a level-L tile (tlog-tiles: level-L hashes are subtrees of 256**L leaves)."""
    if tree_size == 0:
        return sha256(b"")
    pieces, offset = [], 0
    for k in reversed(range(tree_size.bit_length())):
        if not tree_size >> k & 1:
            continue
        level, r = divmod(k, 8)
        first = offset >> (8 * level)  # index of the subtree's first level-L hash
        tile, at = divmod(first, 256)
        width = min(256, (tree_size >> (8 * level)) - tile * 256)
        suffix = "" if width == 256 else f".p/{width}"
        data = get(f"tile/{level}/{tile_index(tile)}{suffix}")
        assert len(data) == 32 * width, f"tile {level}/{tile} is {len(data)} bytes, not {32 * width}"
        hashes = [data[i:i + 32] for i in range(32 * at, 32 * (at + 2 ** r), 32)]
        pieces.append(mth(hashes))
        offset += 1 << k
    root = pieces[-1]
    for left in reversed(pieces[:-1]):
        root = node(left, root)
    return root


def bundle_entries(data: bytes) -> list[bytes]:
    entries, at = [], 0
    while at < len(data):
        (length,) = struct.unpack(">H", data[at:at + 2])
        entries.append(data[at + 2:at + 2 + length])
        at += 2 + length
    assert at == len(data), "an entry bundle ends inside an entry"
    return entries
