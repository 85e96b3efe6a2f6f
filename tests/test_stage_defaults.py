"""A stage notebook run by papermill at its defaults writes nothing into tracked files: its figures go under
runs/<preset>/figures, and only `rf-nb reproduce` writes figures/."""
import os
import subprocess
import sys

from conftest import ROOT


def _tracked_changes() -> set[str]:
    "Changed tracked files where a stage could write: figures/, the notebooks, the package."
    out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "figures", "nbs", "rf_nb"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.splitlines())


def test_world_stage_at_its_defaults_leaves_tracked_files_alone(tmp_path):
    before = {p: (ROOT / "figures" / p).stat().st_mtime_ns for p in os.listdir(ROOT / "figures")}
    changes = _tracked_changes()
    env = {k: v for k, v in os.environ.items() if k != "RF_NB_FIGURES"} | {"RF_NB_RUNS": str(tmp_path / "runs")}
    out = subprocess.run([sys.executable, "-m", "papermill", "--no-progress-bar", "nbs/experiments/world.ipynb",
                          str(tmp_path / "world.ipynb"), "-p", "n_eval", "8", "--cwd", "nbs/experiments"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    after = {p: (ROOT / "figures" / p).stat().st_mtime_ns for p in os.listdir(ROOT / "figures")}
    assert after == before, "the world stage wrote into figures/ at its defaults"
    assert _tracked_changes() == changes
    assert (tmp_path / "runs" / "tiny" / "figures" / "world_samples.png").is_file()      # where it wrote instead
