"""The runbook index: Markdown files by name, titled by their first heading."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.runbooks import Problem, Runbook, RunbookError, load_runbooks

ROOT = Path(__file__).resolve().parents[2]


def write(folder: Path, name: str, text: str) -> Path:
    """Write a file into `folder` and return its path."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_runbooks_are_named_by_file_stem_and_titled_by_first_heading(tmp_path: Path) -> None:
    """`db-failover.md` is runbook `db-failover`, titled by its `# ` heading."""
    text = "Intro line\n\n# Database failover\n\n## Steps\n# Later heading\n"
    path = write(tmp_path, "db-failover.md", text)
    assert load_runbooks(tmp_path) == {
        "db-failover": Runbook(name="db-failover", title="Database failover", path=path, text=text)
    }


def test_runbook_without_heading_is_titled_by_its_name(tmp_path: Path) -> None:
    """No `# ` heading: the name is the title."""
    write(tmp_path, "cache-flush.md", "## Only a subheading\nFlush it.\n")
    assert load_runbooks(tmp_path)["cache-flush"].title == "cache-flush"


def test_shell_comments_in_code_blocks_are_not_titles(tmp_path: Path) -> None:
    """A `# comment` inside a fenced block is not a heading."""
    write(tmp_path, "restart.md", "```bash\n# restart the pods\nkubectl ...\n```\n# Restart\n")
    assert load_runbooks(tmp_path)["restart"].title == "Restart"


def test_closing_hashes_are_not_part_of_the_title(tmp_path: Path) -> None:
    """`# Title #` is titled `Title`, while `# C# tips` keeps its hash."""
    write(tmp_path, "a.md", "# Closed title ##\n")
    write(tmp_path, "b.md", "# C# tips\n")
    runbooks = load_runbooks(tmp_path)
    assert (runbooks["a"].title, runbooks["b"].title) == ("Closed title", "C# tips")


def test_only_markdown_files_are_runbooks_and_readme_is_skipped(tmp_path: Path) -> None:
    """Other files, subfolders and the folder's README are not runbooks."""
    write(tmp_path, "notes.txt", "# Not a runbook\n")
    write(tmp_path, "README.md", "# About these runbooks\n")
    (tmp_path / "drafts.md").mkdir()
    write(tmp_path, "b.md", "# B\n")
    write(tmp_path, "a.md", "# A\n")
    assert list(load_runbooks(tmp_path)) == ["a", "b"]


def test_missing_folder_has_no_runbooks(tmp_path: Path) -> None:
    """A runbooks folder that does not exist is an empty index, not an error."""
    assert load_runbooks(tmp_path / "missing") == {}


def test_runbook_that_is_not_utf8_is_refused_with_its_path(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are refused, naming the file."""
    path = tmp_path / "bad.md"
    path.write_bytes(b"# Bad\n\xff")
    with pytest.raises(RunbookError) as caught:
        load_runbooks(tmp_path)
    assert caught.value.problems == [
        Problem(path, None, "is not UTF-8 text: save the runbook as UTF-8")
    ]
    assert str(caught.value) == f"{path}: is not UTF-8 text: save the runbook as UTF-8"


def test_repository_runbook_for_the_example_service_exists() -> None:
    """The example service's runbook ships with the repository."""
    runbook = load_runbooks(ROOT / "runbooks")["model-quality-regression"]
    assert runbook.title == "Model quality regression"
    assert "/incident rollback" in runbook.text
