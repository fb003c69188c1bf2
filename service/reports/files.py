"""A report as files: the stored JSON exactly, with its CSV and HTML forms; and reading one back."""
import json
from pathlib import Path

from service.core.ledger.canonical import canonical_bytes
from service.reports.render_csv import render_csv
from service.reports.render_html import render_html
from service.reports.store import revision_status
from service.reports.tables import Report


def write_report_files(out: Path, name: str, document: dict, shown: dict) -> list[Path]:
    """The stored JSON exactly (its SHA-256 is in the ledger), and the CSV and HTML forms of it with
    `shown` (its id and revision standing) added."""
    out.mkdir(parents=True, exist_ok=True)
    page = {**document, **shown}
    files = {f"{name}.json": canonical_bytes(document), f"{name}.csv": render_csv(page).encode(),
             f"{name}.html": render_html(page).encode()}
    for file_name, data in files.items():
        (out / file_name).write_bytes(data)
    return [out / file_name for file_name in files]


def write_period_files(out: Path, revisions: list[Report], label: str) -> list[Path]:
    """Every revision of a period: <label> for revision 1, <label>-r<n> after; the pages of those a
    newer one supersedes are written again, so that they say so at the top."""
    written = []
    for report in revisions:
        name = label if report.revision == 1 else f"{label}-r{report.revision}"
        written += write_report_files(out, name, report.document,
                                      {"id": report.id, **revision_status(report, revisions)})
    return written


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
