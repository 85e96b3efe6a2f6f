"""The README and the other docs point at files that exist, and the tables they include match figures/."""
import re
import shutil
from pathlib import Path

import pytest

from rf_nb.reproduce import INCLUDE, RESULT_DOCS, sync_readme

ROOT = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "BENCHMARKS.md", "archive/TEACHER_FIDELITY.md", "archive/RESULTS_SMALL.md")
# a path the docs cite as a result: figures/... or archive/bench/results/..., without placeholders (<preset>, X, *)
CITED = re.compile(r"`((?:figures|bench/results)/[A-Za-z0-9_.\-/]+)`")


def cited_paths(text: str) -> set[str]:
    return {p.rstrip("/.") for p in CITED.findall(text)}


def test_cited_result_files_exist():
    missing = [f"{doc}: {p}" for doc in DOCS for p in sorted(cited_paths((ROOT / doc).read_text(encoding="utf-8")))
               if not (ROOT / p).exists()]
    assert not missing, "cited but not in the repository:\n" + "\n".join(missing)


def test_cited_paths_finds_paths_and_skips_prose():
    text = "see `figures/a.md` and `archive/bench/results/x_2026.json`, not `runs/<preset>/` or figures/b.md"
    assert cited_paths(text) == {"figures/a.md", "archive/bench/results/x_2026.json"}


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
