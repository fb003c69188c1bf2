"""A report as files: the stored JSON exactly, with its CSV and HTML forms; and reading one back."""
import json
from pathlib import Path

from service.core.ledger.canonical import canonical_bytes
from service.reports.render_csv import render_csv
from service.reports.render_html import render_html


def write_report_files(out: Path, report_id: int, document: dict, label: str) -> list[Path]:
    """The stored JSON exactly (its SHA-256 is in the ledger), and the CSV and HTML forms of it."""
    out.mkdir(parents=True, exist_ok=True)
    shown = {**document, "id": report_id}
    files = {f"{label}.json": canonical_bytes(document), f"{label}.csv": render_csv(shown).encode(),
             f"{label}.html": render_html(shown).encode()}
    for name, data in files.items():
        (out / name).write_bytes(data)
    return [out / name for name in files]


def read_report_file(path: Path) -> dict:
    """A report document, or the POST /v1/reports answer that holds one under "report"."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read a JSON report from {path}: {error}") from error
    document = document.get("report", document) if isinstance(document, dict) else document
    if not isinstance(document, dict) or document.get("report_type") != "compliance":
        raise ValueError(f"{path} does not hold a compliance report")
    return document
