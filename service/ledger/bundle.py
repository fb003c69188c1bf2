"""Export bundles: the ledger as files (entries, checkpoints, verifier key) and their verification
with no database."""
import base64
import binascii
import json
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from service.core.ledger import note
from service.core.ledger.checks import LeafStream, ProblemLog, Verification, trusted

ENTRIES, CHECKPOINTS, PUBLIC_KEY = "entries.ndjson", "checkpoints.ndjson", "public-key.txt"
BATCH = 5000


def write_bundle(out: Path, entries: Iterable[tuple[int, str, bytes, bytes]],
                 checkpoints: Iterable[tuple[int, str]], verifier: str) -> tuple[int, int]:
    """Write entries (index, entry_type, leaf_hash, canonical), checkpoints (size, note) and the key."""
    out.mkdir(parents=True, exist_ok=True)
    b64 = base64.b64encode
    with open(out / ENTRIES, "w", encoding="utf-8") as fh:
        count = 0
        for index, entry_type, leaf_hash, canonical in entries:
            fh.write(f'{{"index":{index},"entry_type":{json.dumps(entry_type)},'
                     f'"leaf_hash":"{b64(leaf_hash).decode()}","canonical":"{b64(canonical).decode()}"}}\n')
            count += 1
    with open(out / CHECKPOINTS, "w", encoding="utf-8") as fh:
        signed = 0
        for size, text in checkpoints:
            fh.write(json.dumps({"tree_size": size, "note": text}) + "\n")
            signed += 1
    (out / PUBLIC_KEY).write_text(verifier + "\n", encoding="utf-8")
    return count, signed


def _ndjson(path: Path, report: ProblemLog) -> Iterator[tuple[int, dict]]:
    """(line number, object) per line; unreadable lines are reported and skipped."""
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            try:
                item = json.loads(line)
            except ValueError:
                report(f"{path.name} line {number}: not valid JSON")
                continue
            if not isinstance(item, dict):
                report(f"{path.name} line {number}: not a JSON object")
                continue
            yield number, item


def _entry_rows(path: Path, report: ProblemLog) -> Iterator[tuple]:
    b64d = base64.b64decode
    for number, item in _ndjson(path, report):
        index, entry_type = item.get("index"), item.get("entry_type")
        try:
            if not isinstance(index, int) or isinstance(index, bool) or not isinstance(entry_type, str):
                raise ValueError("needs an integer index and a string entry_type")
            leaf_hash, canonical = b64d(item["leaf_hash"], validate=True), b64d(item["canonical"], validate=True)
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            report(f"{path.name} line {number}: malformed entry ({exc})")
            continue
        # The bundle has no tree nodes: the leaf hash stands in for them.
        yield index, None, entry_type, canonical, leaf_hash, leaf_hash


def _checkpoint_rows(path: Path, report: ProblemLog) -> Iterator[tuple[int, None, str]]:
    for number, item in _ndjson(path, report):
        size, text = item.get("tree_size"), item.get("note")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0 or not isinstance(text, str):
            report(f"{path.name} line {number}: needs an integer tree_size and a note string")
            continue
        yield size, None, text


def _batches(rows: Iterator[tuple], size: int = BATCH) -> Iterator[list[tuple]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def trusted_keys(directory: Path, public_keys: Sequence[str], echo: Callable[[str], None]) -> tuple[str, ...]:
    """The keys checkpoints must be signed with, oldest first; says which are trusted and why."""
    if public_keys:
        echo(f"Trusting the verifier key(s) given with --public-key: {', '.join(public_keys)}")
        return tuple(public_keys)
    keys = tuple(line.strip() for line in (directory / PUBLIC_KEY).read_text(encoding="utf-8").splitlines()
                 if line.strip())
    echo(f"Trusting the bundle's own {PUBLIC_KEY} (pass --public-key to check against a key "
         f"obtained independently): {', '.join(keys)}")
    return keys


def verify_bundle(directory: Path, verifiers: str | Sequence[str], echo: Callable[[str], None]) -> Verification:
    """Verify an export bundle with no database: leaf hashes, dense indexes, signatures and roots."""
    report, started, verifiers = ProblemLog(echo), time.perf_counter(), trusted(verifiers)
    for verifier in verifiers or ("",):
        try:
            note.parse_verifier_key(verifier)
        except note.NoteError as exc:
            report(f"the trusted verifier key is malformed: {exc}")
    if report.count:
        return Verification(0, 0, report.count, time.perf_counter() - started)
    missing = [name for name in (ENTRIES, CHECKPOINTS) if not (directory / name).is_file()]
    for name in missing:
        report(f"the bundle has no {name}")
    if missing:
        return Verification(0, 0, report.count, time.perf_counter() - started)
    stream = LeafStream(_checkpoint_rows(directory / CHECKPOINTS, report), verifiers, report)
    for batch in _batches(_entry_rows(directory / ENTRIES, report)):
        stream.feed(batch)
    entries = stream.finish()
    return Verification(entries, stream.checkpoints_seen, report.count, time.perf_counter() - started)
