"""The docs point at files that exist, README.md is what nbs/index.ipynb renders to, and the tables they include
match figures/. A dangling path in the README, the docs beside it, ops/, bench/, the archive's documents, a notebook
or a comment of the package fails here."""
import json
import re
import shutil
from pathlib import Path

import pytest

from rf_nb.reproduce import INCLUDE, RESULT_DOCS, render_readme, sync_readme

ROOT = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "RESULTS.md", "BENCHMARKS.md", "CONTRIBUTING.md", "ops/README.md", "bench/README.md",
        "archive/README.md", "archive/TEACHER_FIDELITY.md", "archive/RESULTS_SMALL.md",
        "archive/BENCHMARKS_2026-11-20_to_12-07.md")
TOP = ("nbs", "rf_nb", "tests", "figures", "bench", "ops", "archive", "configs")
# a repository path in backticks, a markdown link or a comment: a top-level folder and what follows, or a top-level
# document (NAME.md); placeholders (<preset>, X, *, {...}, ...) are not paths
PATH = re.compile(r"(?<![\w./-])((?:%s)/[A-Za-z0-9_.\-/]*[A-Za-z0-9_]|[A-Z][A-Z_]+\.md)"
                  r"(?![\w/*<{-]|\.[\w*{<])" % "|".join(TOP))
LINK = re.compile(r"\]\(([^)#\s]*[A-Za-z0-9_/][^)#\s]*)\)")     # not `models[name](...)`


def cited_paths(text: str) -> set[str]:
    "Repository paths a text cites (relative to the repository root)."
    found = {p.rstrip(".") for p in PATH.findall(text)}
    return {p for p in found if not re.search(r"[<>*{}]|\bX\b|\.\.\.", p)}


def _exists(p: str) -> bool:
    return (ROOT / p).exists() or (p.startswith("nbs/") and (ROOT / f"{p}.ipynb").exists())  # nbs/06_teacher


def dangling(text: str, where: Path, links: bool = True) -> list[str]:
    """Cited paths that do not exist: repository paths from the root; with `links`, markdown links from the
    document's folder."""
    missing = [p for p in sorted(cited_paths(text)) if not _exists(p)]
    for link in LINK.findall(text) if links else []:
        if "://" not in link and not (where.parent / link).exists() and not (ROOT / link).exists():
            missing.append(link)
    return missing


def test_cited_paths_finds_paths_and_skips_prose_and_placeholders():
    text = ("see `figures/a.md`, archive/bench/results/x_2026.json and DESIGN.md; not `runs/<preset>/`, "
            "figures/<stage>_<preset>.png, nbs/experiments/*.ipynb or bench/*.py")
    assert cited_paths(text) == {"figures/a.md", "archive/bench/results/x_2026.json", "DESIGN.md"}


# the lent GPU machines' own notes, which the dated runs of the archive cite as their source
ARCHIVE_EXTERNAL = {"KINDS.md", "METHOD.md", "HOPPER.md", "H200.md"}


@pytest.mark.parametrize("doc", DOCS)
def test_no_dangling_path_in_the_docs(doc):
    missing = [p for p in dangling((ROOT / doc).read_text(encoding="utf-8"), ROOT / doc)
               if not (doc.startswith("archive/") and p in ARCHIVE_EXTERNAL)]
    assert not missing, f"{doc} cites paths that do not exist: {missing}"


def _sources() -> list[Path]:
    nbs = sorted((ROOT / "nbs").rglob("*.ipynb"))
    code = sorted((ROOT / "rf_nb").glob("*.py")) + sorted((ROOT / "bench").glob("*.py")) + sorted(
        (ROOT / "ops").glob("*")) + sorted((ROOT / "tests").glob("*.py"))
    return [p for p in nbs + code if "_modidx" not in p.name and p.name != "test_docs.py" and p.is_file()] + [
        ROOT / "settings.ini", ROOT / "Makefile", ROOT / ".ci" / "run"]


def _cited_in(p: Path) -> list[str]:
    "Dangling paths of a source file; a notebook's markdown links too (its code's `f(x)[0](y)` is no link)."
    if p.suffix != ".ipynb":
        return dangling(p.read_text(encoding="utf-8"), p, links=False)
    cells = json.loads(p.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return dangling(code, p, links=False) + dangling(markdown, p)


# paths that tests create in a temporary folder (13_reproduce's README include test, the docs site's pages)
FIXTURES = {"figures/t.md", "figures/none.md", "nbs/00_config.html", "nbs/experiments/ode.html"}


def test_no_dangling_path_in_notebooks_code_and_comments():
    missing = [f"{p.relative_to(ROOT)}: {m}" for p in _sources() for m in _cited_in(p)
               if not m.startswith("runs/") and m not in FIXTURES]
    assert not missing, "dangling paths:\n" + "\n".join(missing)


def test_readme_is_rendered_from_the_index_notebook(tmp_path):
    "README.md is nbs/index.ipynb rendered (`rf-nb readme`), with the tables of figures/ pasted in."
    shutil.copytree(ROOT / "figures", tmp_path / "figures")
    (tmp_path / "README.md").write_text(render_readme(ROOT / "nbs" / "index.ipynb"), encoding="utf-8")
    sync_readme(tmp_path / "README.md")
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == (ROOT / "README.md").read_text(encoding="utf-8"), \
        "README.md differs from nbs/index.ipynb: edit the notebook, run `rf-nb readme` and commit"


def test_readme_is_short_and_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    assert "make reproduce" in text.split("\n## ")[0] and "make test" in text.split("\n## ")[0]


@pytest.mark.parametrize("doc", ["README.md", *RESULT_DOCS])
def test_included_tables_match_figures(tmp_path, doc):
    "`rf-nb readme` on a copy changes nothing: every table between include markers is the current figures/ file."
    shutil.copytree(ROOT / "figures", tmp_path / "figures")
    copy = tmp_path / doc
    copy.write_text((ROOT / doc).read_text(encoding="utf-8"), encoding="utf-8")
    included = sync_readme(copy)
    assert len(included) == len(INCLUDE.findall(copy.read_text(encoding="utf-8"))) > 0
    assert copy.read_text(encoding="utf-8") == (ROOT / doc).read_text(encoding="utf-8"), \
        f"{doc}'s tables differ from figures/: run `rf-nb readme` and commit"


def test_readme_command_fills_every_results_doc(tmp_path):
    "`rf-nb readme` fills the include markers of the README and of each RESULT_DOCS file beside it."
    from rf_nb.reproduce import main
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "t.md").write_text("| new |\n")
    for doc in ("README.md", *RESULT_DOCS):
        (tmp_path / doc).write_text("<!-- include figures/t.md -->\nold\n<!-- end include -->\n")
    assert main(["readme", "--readme", str(tmp_path / "README.md")]) == 0
    for doc in ("README.md", *RESULT_DOCS):
        assert (tmp_path / doc).read_text() == "<!-- include figures/t.md -->\n| new |\n<!-- end include -->\n", doc


def test_claims_overview_is_current():
    "figures/claims_overview.md is what `rf-nb readme` would write from the presets' claims files now."
    from rf_nb.reproduce import claims_overview
    assert (ROOT / "figures" / "claims_overview.md").read_text(encoding="utf-8") == claims_overview(ROOT / "figures"), \
        "figures/claims_overview.md is stale: run `rf-nb readme` and commit"


def test_figures_holds_only_what_the_stages_write():
    "figures/ holds only files a stage (or `rf-nb readme`) writes; dated runs and copies belong in archive/."
    dated = [p.name for p in (ROOT / "figures").iterdir()
             if re.search(r"20\d\d-\d\d-\d\d|\.tgz$|\.jsonl$|_h100|_h200|small-", p.name)]
    assert not dated, f"dated or lease-specific files in figures/: {dated}; move them to archive/figures/"
