"""The shell blocks of the README and docs/, and the one bash script that runs the walk-through's in order.

A shell block is marked on the line before its fence: `<!-- walkthrough -->` (a reader runs it, in
order, in the same shell) or `<!-- not run: why -->` (illustrative: it starts servers, runs the suite,
takes minutes). An unmarked shell block is an error, so no block is skipped silently.
"""
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The order a new reader follows: the README, then the documents its table lists, top to bottom.
ORDER = ("README.md", "docs/api.md", "docs/judging.md", "docs/policies.md", "docs/reports.md", "docs/ledger.md",
         "docs/threat-model.md", "docs/operations.md", "docs/resilience.md", "docs/performance.md")
SHELLS = {"sh", "bash", "shell", "console"}
RUN, NOT_RUN = re.compile(r"<!-- walkthrough -->"), re.compile(r"<!-- not run: (\S.*?) -->")
# A line that looks like a command a reader would type, in a fence that does not say it is shell.
COMMAND = re.compile(r"\s*(\$ |\.venv/|curl |make |flask |python |pip |docker |[A-Z_]+=\S* )")
STATUS_EXPECTED = re.compile(r"# -> (\d{3})\s*$")  # what a command printing %{http_code} says it gets


class MarkingError(ValueError):
    """A block the walk-through cannot classify or check."""


@dataclass(frozen=True)
class Block:
    document: str  # path relative to the repository
    line: int  # of the opening fence, 1-based
    language: str
    text: str
    marker: str | None  # "walkthrough", "not run: …" or None

    @property
    def where(self) -> str:
        return f"{self.document}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.marker == "walkthrough"

    @property
    def expected_statuses(self) -> list[str]:
        """The `# -> NNN` of each command that prints its HTTP status, in order."""
        printing = self.text.count("%{http_code}")
        statuses = [m[1] for line in self.text.splitlines() if (m := STATUS_EXPECTED.search(line))]
        if printing != len(statuses):
            raise MarkingError(f"{self.where}: {printing} command(s) print %{{http_code}} but {len(statuses)} "
                               "say which status they expect with a trailing '# -> NNN'")
        return statuses


def documents() -> list[str]:
    return ["README.md", *sorted(f"docs/{p.name}" for p in (REPO / "docs").glob("*.md"))]


def blocks(document: str) -> list[Block]:
    lines = (REPO / document).read_text(encoding="utf-8").splitlines()
    found, start, language = [], None, ""
    for number, line in enumerate(lines, 1):
        if not line.startswith("```"):
            continue
        if start is None:
            start, language = number, line[3:].strip()
            continue
        before = lines[start - 2].strip() if start >= 2 else ""
        marker = "walkthrough" if RUN.fullmatch(before) else (
            f"not run: {m[1]}" if (m := NOT_RUN.fullmatch(before)) else None)
        found.append(Block(document, start, language, "\n".join(lines[start:number - 1]), marker))
        start = None
    if start is not None:
        raise MarkingError(f"{document}:{start}: a fence that is never closed")
    return found


def check_marked(block: Block) -> None:
    if not block.language and any(COMMAND.match(line) for line in block.text.splitlines()):
        raise MarkingError(f"{block.where}: commands in a fence without a language: tag it sh and mark it")
    if block.language in SHELLS and block.marker is None:
        raise MarkingError(f"{block.where}: a shell block needs '<!-- walkthrough -->' or "
                           "'<!-- not run: why -->' on the line before its fence")
    if block.marker is not None and block.language not in SHELLS:
        raise MarkingError(f"{block.where}: only shell blocks are run or skipped; this one is {block.language}")


def walkthrough_blocks() -> list[Block]:
    """Every block the walk-through runs, in reading order; every shell block anywhere checked."""
    ordered = []
    for document in documents():
        for block in blocks(document):
            check_marked(block)
            if block.runs and document not in ORDER:
                raise MarkingError(f"{block.where}: walk-through block in a document outside ORDER")
    for document in ORDER:
        ordered += [block for block in blocks(document) if block.runs]
    return ordered


# Every curl fails on an HTTP error (--fail-with-body, so the problem is shown), except a command that
# prints its own status: that one must print the status its '# -> NNN' comment says. The expected
# statuses are read from a file, not a shell array, because a curl in a pipeline runs in a subshell.
PRELUDE = r"""set -Eeuo pipefail
trap 'echo "walk-through: a command failed (exit $?) in the block at $BLOCK" >&2' ERR
curl() {
  if [[ " $* " == *"%{http_code}"* ]]; then
    local taken expected out
    taken=$(($(cat "$STATUS_COUNT") + 1)); echo "$taken" > "$STATUS_COUNT"
    expected=$(sed -n "${taken}p" "$STATUS_FILE")
    out=$(command curl --max-time 30 "$@")
    printf '%s\n' "$out"
    if [[ "${out##*$'\n'}" != "$expected" ]]; then
      echo "walk-through: expected HTTP $expected, got ${out##*$'\n'}" >&2
      return 1
    fi
  else
    command curl --fail-with-body --show-error --max-time 30 "$@"
  fi
}
"""


def script(walkthrough: list[Block], status_file: Path, status_count: Path) -> str:
    """One bash script: the prelude, then each block as written, each announced on stderr."""
    statuses = [status for block in walkthrough for status in block.expected_statuses]
    status_file.write_text("".join(f"{s}\n" for s in statuses), encoding="utf-8")
    status_count.write_text("0\n", encoding="utf-8")
    parts = [f"STATUS_FILE={status_file}\nSTATUS_COUNT={status_count}\n{PRELUDE}"]
    for block in walkthrough:
        parts.append(f"BLOCK={block.where}\necho \"=== $BLOCK $SECONDS\" >&2\n{block.text}\n")
    parts.append('echo "=== walk-through complete" >&2\n')
    return "\n".join(parts)
