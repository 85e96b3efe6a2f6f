"""End to end: the README's main command on every stage notebook, into a temp folder; a rerun skips them."""
import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def _rf_nb(*args, env_extra):
    env = os.environ | env_extra
    code = "import sys; from rf_nb.reproduce import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


def test_cli_bad_input_is_one_line(tmp_path):
    out = _rf_nb("reproduce", "--set", "world.height=30", env_extra={"RF_NB_RUNS": str(tmp_path)})
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "world.height=30" in out.stderr


SMOKE = ["trajectories.num_prompts=4", "trajectories.batch_size=4", "train.ode.steps=2", "train.ode.batch_size=2",
         "train.reward.steps=2", "train.reward.batch_size=2", "reward.eval_every=1", "reward.eval_prompts=2",
         "train.dmd.steps=2", "train.dmd.batch_size=2", "train.critic.steps=2", "dmd.generator_every=1",
         "eval.num_prompts=4"]
# one stage per stage notebook, in order, through the results tables (the variants run the same notebooks; the
# trajectory-count ablation because its notebook skips the teacher)
SMOKE_STAGES = "world,teacher,trajectories,ode,ode_traj100,reward,dmd,reward_summary,results"


def test_reproduce_smoke_end_to_end(tmp_path):
    "Every stage notebook at smoke size through `rf-nb reproduce`, to the main table and claims; a rerun skips."
    env = {"RF_NB_RUNS": str(tmp_path / "runs"), "RF_NB_FIGURES": str(tmp_path / "figures")}
    args = ["reproduce", "--preset", "tiny", "--stages", SMOKE_STAGES] + [a for s in SMOKE for a in ("--set", s)]
    first = _rf_nb(*args, env_extra=env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    figs = tmp_path / "figures"
    assert (figs / "world_samples.png").stat().st_size > 1000 and (figs / "world_preview.gif").stat().st_size > 1000
    assert json.loads((tmp_path / "runs" / "tiny" / "main" / "0" / "world" / "metrics.json").read_text())
    assert (tmp_path / "runs" / "tiny" / "notebooks" / "world-seed0.ipynb").exists()     # the executed notebook
    teacher = json.loads((tmp_path / "runs" / "tiny" / "main" / "0" / "teacher" / "metrics.json").read_text())
    assert teacher["heldout"]["ground_truth"]["color_acc"] > 0.9  # the evaluator sees the world
    assert (figs / "teacher_samples_tiny.png").exists()
    table = (figs / "main_table_tiny.md").read_text()
    for row in ("teacher (many steps", "ODE only (stage 1)", "Reward-Forcing (last frame)", "DMD 4-step"):
        assert row in table, table
    assert "ODE only, 100/1400 of the trajectories" in table, table
    abl = json.loads((tmp_path / "runs" / "tiny" / "ablations" / "0" / "ode_traj100" / "metrics.json").read_text())
    assert "teacher_synthbench" not in abl and abl["synthbench"], abl.keys()   # the teacher row is the ODE stage's
    assert table.count("teacher (many steps") == 1, table
    claims = (figs / "claims_tiny.md").read_text()
    assert "| C1 |" in claims and ("replicates" in claims or "does not replicate" in claims), claims
    assert (figs / "strips_tiny.png").stat().st_size > 1000
    second = _rf_nb(*args, env_extra=env)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    for stage in ("world", "teacher", "trajectories", "ode", "reward", "dmd"):
        assert f"[skip] {stage}" in second.stdout, second.stdout
    assert "[run ] results" in second.stdout              # summaries always rebuild from the metrics files
    # one setting changed: the stage runs again from scratch; the old folder (and its checkpoint) is moved, not resumed
    changed = [a if a != "train.dmd.steps=2" else "train.dmd.steps=3" for a in args]
    changed[changed.index(SMOKE_STAGES)] = "dmd"
    third = _rf_nb(*changed, env_extra=env)
    assert third.returncode == 0, third.stdout[-3000:] + third.stderr[-3000:]
    assert "[new ] dmd" in third.stdout and "[run ] dmd" in third.stdout, third.stdout
    dmd = tmp_path / "runs" / "tiny" / "main" / "0" / "dmd"
    for folder, steps in ((dmd, 3), (dmd.with_name("dmd.previous"), 2)):
        train = json.loads((folder / "train" / "metrics.json").read_text())
        assert (train["steps"], train["resumed_from"]) == (steps, None), (folder, train)
    # the frame strips follow the training seed with the most finished students: seed 1 once seed 0's are gone
    for p in (tmp_path / "runs" / "tiny").glob("*/0/*/train/config.json"):
        p.unlink()
    args1 = [a if a != SMOKE_STAGES else "ode,results" for a in args] + ["--seeds", "1,"]
    fourth = _rf_nb(*args1, env_extra=env)
    assert fourth.returncode == 0, fourth.stdout[-3000:] + fourth.stderr[-3000:]
    res = json.loads((tmp_path / "runs" / "tiny" / "summary" / "0" / "results" / "metrics.json").read_text())
    assert res["strip_seed"] == 1 and res["methods"] == ["teacher", "ODE only (stage 1)"], res
    # a reward setting reruns the reward stages only: the ODE stage's hash covers the settings it reads
    # (seed 1: seed 0's students lost their train/config.json above)
    reward_lr = _rf_nb(*[a if a != SMOKE_STAGES else "ode,reward" for a in args], "--set", "train.reward.lr=1e-6",
                       "--seeds", "1,", env_extra=env)
    assert reward_lr.returncode == 0, reward_lr.stdout[-3000:] + reward_lr.stderr[-3000:]
    assert "[skip] ode" in reward_lr.stdout and "[run ] reward" in reward_lr.stdout, reward_lr.stdout
    # a damaged store is repaired by the same command: the finished trajectories stage sees it and runs again
    store = tmp_path / "runs" / "tiny" / "main" / "0" / "trajectories" / "store"
    shard = sorted(p for p in store.rglob("*.safetensors"))[0]
    data = bytearray(shard.read_bytes()); data[-1] ^= 0xFF; shard.write_bytes(bytes(data))
    repaired = _rf_nb(*[a if a != SMOKE_STAGES else "trajectories" for a in args], env_extra=env)
    assert repaired.returncode == 0 and "[run ] trajectories" in repaired.stdout, repaired.stdout[-3000:]
    from rf_nb.config import load_preset, parse_cli_overrides
    from rf_nb.trajectories import expected_store_hash, store_is_complete
    cfg = load_preset("tiny", parse_cli_overrides(SMOKE) | {"paths.runs": str(tmp_path / "runs")})
    assert store_is_complete(store, expected_store_hash(cfg))
    # a stage that fails prints one line (the notebook's own error and where the traceback is), exit status 1
    for p in store.rglob("*.safetensors"):
        p.unlink()
    failed = _rf_nb(*[a if a != SMOKE_STAGES else "ode" for a in args], "--set", "train.ode.steps=3", "--quiet",
                    env_extra=env)
    ours = [l for l in failed.stderr.strip().splitlines() if not l.startswith("[IPKernelApp]")]  # the kernel's own
    assert failed.returncode == 1 and len(ours) == 1 and "Traceback" not in failed.stderr, failed.stderr[-3000:]
    assert ours[0].startswith("rf-nb: stage ode (seed 0) failed: TrajectoryStoreError:"), ours
    assert "full traceback in" in ours[0], ours
