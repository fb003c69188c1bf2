"""Check one record of a strike-audit service from outside, trusting neither its code nor its database.

Written from the specifications alone (RFC 9162 §2.1.3.2 and §2.1.4.2, C2SP signed-note and
tlog-checkpoint), with only the standard library and `cryptography` (pip install cryptography).
Exits 0 if every check holds. Usage (docs/ledger.md):
    python verify_record.py BASE_URL EVENT_ID AUDITOR_KEY --verifier-key KEY [--previous-checkpoint FILE]
"""
import argparse
import base64
import hashlib
import json
import sys
import urllib.error
import urllib.request

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # the one package beyond the standard library: say so rather than show a traceback
    sys.exit("verify_record.py needs the cryptography package: pip install cryptography")

b64d = base64.b64decode


class Failed(Exception):
    pass


def get(url: str, api_key: str | None = None) -> bytes:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        raise Failed(f"GET {url} answered HTTP {exc.code}") from exc


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_checkpoint(note: str, verifier_key: str) -> tuple[int, bytes]:
    """C2SP signed note: the text up to the last blank line must carry a valid signature by this key."""
    name, key_id, key_b64 = verifier_key.strip().split("+", 2)  # base64 may contain "+" too
    raw = b64d(key_b64)
    if raw[:1] != b"\x01" or hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() != key_id:
        raise Failed("the verifier key's ID does not match its name and key")
    split = note.rindex("\n\n")
    text, signatures = note[:split + 1], note[split + 2:]
    for line in signatures.splitlines():
        signer, _, blob_b64 = line.removeprefix("\u2014 ").partition(" ")
        blob = b64d(blob_b64)
        if line.startswith("\u2014 ") and signer == name and blob[:4].hex() == key_id:
            try:
                Ed25519PublicKey.from_public_bytes(raw[1:]).verify(blob[4:], text.encode())
            except InvalidSignature:
                raise Failed(f"the checkpoint's signature by {name} does not verify: forged or altered") from None
            origin, size, root = text.split("\n")[:3]
            if origin != name:
                raise Failed(f"checkpoint origin {origin!r} is not the key's name {name!r}")
            return int(size), b64d(root)
    raise Failed(f"no signature by {name}+{key_id} on the checkpoint")


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        raise Failed(f"leaf {index} is not below tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise Failed("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn:
        raise Failed("inclusion proof is too short")
    return r


def check_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]) -> None:
    """RFC 9162 §2.1.4.2: the tree of `second` leaves extends the tree of `first` leaves."""
    if first == second:
        if proof or first_root != second_root:
            raise Failed("same tree size, different roots: the service forked its history")
        return
    if first & (first - 1) == 0:
        proof = [first_root, *proof]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            raise Failed("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn or fr != first_root or sr != second_root:
        raise Failed(f"checkpoint {second} does not extend checkpoint {first}: the history was rewritten")


def verify(base: str, event_id: str, api_key: str, verifier_key: str | None, previous: str | None) -> None:
    if verifier_key is None:
        verifier_key = get(f"{base}/v1/ledger/public-key").decode()
        print("WARNING verifier key fetched from the service itself; pin it with --verifier-key")
    event = json.loads(get(f"{base}/v1/events/{event_id}", api_key))
    size, root = verify_checkpoint(get(f"{base}/v1/ledger/checkpoint").decode(), verifier_key)  # after the event
    print(f"OK checkpoint signed: tree size {size}, root {base64.b64encode(root).decode()}")
    if previous:
        with open(previous, encoding="utf-8") as saved:
            old_size, old_root = verify_checkpoint(saved.read(), verifier_key)
        if old_size > size:
            raise Failed(f"the service now shows {size} entries, fewer than the {old_size} you saw")
        if old_size:
            proof = json.loads(get(f"{base}/v1/ledger/proofs/consistency?first={old_size}&second={size}"))["proof"]
            check_consistency(old_size, size, old_root, root, [b64d(p) for p in proof])
        print(f"OK checkpoint {size} extends the one you saved ({old_size})")
    versions = {v["id"]: v for v in event["versions"]}
    for listed in event["ledger_entries"]:
        index = listed["leaf_index"]
        if index is None or index >= size:
            raise Failed(f"entry {listed['entry_id']} is not yet covered by a checkpoint; retry in a second")
        canonical = b64d(json.loads(get(f"{base}/v1/ledger/entries/{index}", api_key))["canonical"])
        leaf, entry = hashlib.sha256(b"\x00" + canonical).digest(), json.loads(canonical)
        if b64d(listed["leaf_hash"]) != leaf or entry["entry_type"] != listed["entry_type"]:
            raise Failed(f"leaf {index}: its bytes do not hash to the leaf hash the event shows")
        shown = versions.get(entry.get("event_id"))
        if shown is None or entry.get("verdict", shown["verdict"]) != shown["verdict"]:
            raise Failed(f"leaf {index}: the ledger entry does not say what the event record shows")
        proof = json.loads(get(f"{base}/v1/ledger/proofs/inclusion?index={index}&tree_size={size}"))["proof"]
        if root_from_inclusion(leaf, index, size, [b64d(p) for p in proof]) != root:
            raise Failed(f"leaf {index}: inclusion proof does not lead to the signed root")
        print(f"OK leaf {index} ({entry['entry_type']}) is in the signed tree")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("base_url")
    parser.add_argument("event_id")
    parser.add_argument("api_key", help="an auditor's key: entries' bytes come from /v1/ledger/entries")
    parser.add_argument("--verifier-key", help="the log's key as obtained out of band: the one thing you trust")
    parser.add_argument("--previous-checkpoint", help="a checkpoint note you saved earlier")
    args = parser.parse_args()
    try:
        verify(args.base_url.rstrip("/"), args.event_id, args.api_key, args.verifier_key, args.previous_checkpoint)
    except Exception as exc:  # anything malformed, refused or forged is a failed verification
        print(f"FAILED {type(exc).__name__}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
