"""Read-side figures: ledger proofs and the auditor's filtered event pages, under wrk."""
import json
import random
import urllib.parse
import urllib.request
from pathlib import Path

from . import wrk
from .intake import LoadShape
from .servers import Server

# Filters an auditor combines (contract §8); each is also paged with cursors from its first pages.
QUERIES = (
    {"verdict": "violation"},
    {"rule_id": "XB-OUTSIDE-ZONE"},
    {"rule_id": "CIV-TARGET", "occurred_from": "2024-01-01T00:00:00Z"},
    {"bbox": "35.5,49.8,38.3,51.4"},
    {"occurred_from": "2024-06-01T00:00:00Z", "occurred_to": "2024-07-01T00:00:00Z"},
    {"reporter": "ops-sumy"},
    {"verdict": "needs_review", "category": "dual_use"},
    {"severity": "critical", "target_country": "RU"},
    {"family": "ATACMS", "review_status": "open"},
    {"verdict": "violation", "occurred_from": "2024-05-30T00:00:00Z", "occurred_to": "2024-06-19T00:00:00Z",
     "bbox": "34,49,39,53"},
    {"policy_version": "us-2024-11-17-kursk-atacms", "munition": "M39A1-ATACMS"},
    {},
)
PAGES_DEEP = 3  # cursors of pages 2..PAGES_DEEP join the mix


def _get_json(base_url: str, path: str, key: str | None = None):
    request = urllib.request.Request(base_url + path, headers={"Authorization": f"Bearer {key}"} if key else {})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def tree_size(base_url: str) -> int:
    with urllib.request.urlopen(base_url + "/v1/ledger/checkpoint", timeout=30) as response:
        return int(response.read().decode().split("\n")[1])


def proof_paths(folder: Path, base_url: str, count: int = 20_000, seed: int = 6) -> tuple[Path, Path]:
    """Random leaves and sizes up to the current checkpoint: inclusion in it, consistency with it."""
    size, rng = tree_size(base_url), random.Random(seed)
    inclusion, consistency = folder / "inclusion.paths", folder / "consistency.paths"
    inclusion.write_text("".join(f"/v1/ledger/proofs/inclusion?index={rng.randrange(size)}&tree_size={size}\n"
                                 for _ in range(count)))
    consistency.write_text("".join(f"/v1/ledger/proofs/consistency?first={rng.randrange(1, size)}&second={size}\n"
                                   for _ in range(count)))
    return inclusion, consistency


def query_paths(folder: Path, base_url: str, key: str) -> Path:
    """Every filter's first page, and its next pages through real cursors."""
    paths = []
    for filters in QUERIES:
        path = "/v1/events?" + urllib.parse.urlencode(filters) if filters else "/v1/events"
        paths.append(path)
        page = _get_json(base_url, path, key)
        for _ in range(PAGES_DEEP - 1):
            if not page["next_cursor"]:
                break
            separator = "&" if filters else "?"
            paths.append(f"{path}{separator}cursor={page['next_cursor']}")
            page = _get_json(base_url, paths[-1], key)
    target = folder / "query.paths"
    target.write_text("".join(p + "\n" for p in paths))
    return target


def get_paths(server: Server, paths: Path, shape: LoadShape, key: str | None = None) -> wrk.Load:
    return wrk.run(server.base_url, "get_paths.lua", shape.seconds, shape.connections, shape.threads,
                   {"BENCH_PATHS": str(paths), "BENCH_KEY": key or ""})
