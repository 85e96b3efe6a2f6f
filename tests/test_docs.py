"""The README, BENCHMARKS.md and TEACHER_FIDELITY.md point at files that exist, and the README's included tables match figures/."""
import re
import shutil
from pathlib import Path

from rf_nb.reproduce import INCLUDE, sync_readme

ROOT = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "BENCHMARKS.md", "TEACHER_FIDELITY.md")
# a path the docs cite as a result: figures/... or bench/results/..., without placeholders (<preset>, X, *)
CITED = re.compile(r"`((?:figures|bench/results)/[A-Za-z0-9_.\-/]+)`")


def cited_paths(text: str) -> set[str]:
    return {p.rstrip("/.") for p in CITED.findall(text)}


def test_cited_result_files_exist():
    missing = [f"{doc}: {p}" for doc in DOCS for p in sorted(cited_paths((ROOT / doc).read_text(encoding="utf-8")))
               if not (ROOT / p).exists()]
    assert not missing, "cited but not in the repository:\n" + "\n".join(missing)


def test_cited_paths_finds_paths_and_skips_prose():
    text = "see `figures/a.md` and `bench/results/x_2026.json`, not `runs/<preset>/` or figures/b.md"
    assert cited_paths(text) == {"figures/a.md", "bench/results/x_2026.json"}


def test_readme_tables_match_figures(tmp_path):
    "`rf-nb readme` on a copy changes nothing: every included table is the current figures/ file."
    shutil.copytree(ROOT / "figures", tmp_path / "figures")
    readme = tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    included = sync_readme(readme)
    assert len(included) == len(INCLUDE.findall(readme.read_text(encoding="utf-8"))) > 0
    assert readme.read_text(encoding="utf-8") == (ROOT / "README.md").read_text(encoding="utf-8"), \
        "README tables differ from figures/: run `rf-nb readme` and commit"


def test_claims_overview_is_current():
    "figures/claims_overview.md is what `rf-nb readme` would write from the presets' claims files now."
    from rf_nb.reproduce import claims_overview
    assert (ROOT / "figures" / "claims_overview.md").read_text(encoding="utf-8") == claims_overview(ROOT / "figures"), \
        "figures/claims_overview.md is stale: run `rf-nb readme` and commit"
