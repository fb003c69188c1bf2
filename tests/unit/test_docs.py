"""The README is a short front door, the docs stay inside the repository, and every shell block is marked."""
import re

import pytest

from ..walkthrough import ORDER, REPO, MarkingError, blocks, check_marked, documents, walkthrough_blocks

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
