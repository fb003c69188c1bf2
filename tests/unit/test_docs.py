"""The README is a short front door, the docs stay inside the repository, and every shell block is marked."""
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ..walkthrough import (ORDER, REPO, Block, MarkingError, blocks, check_marked, documents, script,
                           walkthrough_blocks)

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", "")).replace(" ", "-")


def anchors(path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    return {slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def test_the_readme_is_a_short_front_door():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 300
    assert "## Contents" in readme and "make run" in readme and "make test" in readme
    assert "## Layout" not in readme  # the layout is docs/architecture.md's


@pytest.mark.parametrize("document", documents())
def test_links_stay_inside_the_repository_and_resolve(document):
    path = REPO / document
    text = path.read_text(encoding="utf-8")
    assert "../shared" not in text and "SPEC" not in text
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        assert linked.is_relative_to(REPO), f"{document}: {target} leads outside the repository"
        assert linked.exists(), f"{document}: {target} does not exist"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{document}: no heading for #{anchor} in {linked.name}"


@pytest.mark.parametrize("document", documents())
def test_every_shell_block_says_whether_the_walkthrough_runs_it(document):
    for block in blocks(document):
        check_marked(block)
        if block.runs:
            block.expected_statuses  # raises when a status-printing command does not say what it expects


def test_the_walkthrough_follows_the_readmes_table_of_documents():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Documentation", 1)[1]
    listed = [f"docs/{name}" for name in re.findall(r"\(docs/([\w-]+\.md)\)", table)]
    assert [document for document in listed if document in ORDER] == list(ORDER[1:])
    assert walkthrough_blocks()[0].document == "README.md"


def test_an_unmarked_shell_block_is_refused(tmp_path, monkeypatch):
    import tests.walkthrough as walkthrough

    (tmp_path / "README.md").write_text("# x\n\n```sh\necho hi\n```\n", encoding="utf-8")
    monkeypatch.setattr(walkthrough, "REPO", tmp_path)
    with pytest.raises(MarkingError, match="README.md:3"):
        check_marked(walkthrough.blocks("README.md")[0])


class _Statuses(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200 if self.path == "/" else 404)
        self.end_headers()
        self.wfile.write(b"{}\n")

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("text, passes", [
    ("curl -s $BASE/", True),
    ("curl -s $BASE/missing", False),  # an HTTP error fails the walk-through
    ("curl -s -o /dev/null -w '%{http_code}\\n' $BASE/missing   # -> 404", True),  # unless it is the point
    ("curl -s -o /dev/null -w '%{http_code}\\n' $BASE/   # -> 404", False),
    ("echo | curl -s -w '%{http_code}\\n' $BASE/missing  # -> 404\ncurl -s -w '%{http_code}\\n' $BASE/  # -> 200", True),
    ("echo $NEVER_SET", False),
    ("KEY=$(false | tail -1)", False),
])
def test_the_walkthrough_script_fails_on_what_a_reader_would_trip_over(text, passes, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Statuses)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        block = Block("X.md", 1, "sh", text, "walkthrough")
        bash = f"BASE=http://127.0.0.1:{server.server_port}\n" + script([block], tmp_path / "s", tmp_path / "n")
        result = subprocess.run(["bash", "-c", bash], capture_output=True, text=True, timeout=30)
    finally:
        server.shutdown()
        server.server_close()
    assert (result.returncode == 0) == passes, result.stderr
    assert ("=== walk-through complete" in result.stderr) == passes


def test_the_architecture_names_every_module():
    """A newcomer finds each module in docs/architecture.md: a new one must be given its line there."""
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    unnamed = [str(path.relative_to(REPO)) for path in sorted((REPO / "service").rglob("*.py"))
               if path.name != "__init__.py" and f"`{path.name}`" not in text
               and f"`{path.parent.name}/{path.name}`" not in text]
    assert not unnamed, f"not in docs/architecture.md: {unnamed}"
