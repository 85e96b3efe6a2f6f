"""The multi-GPU benchmark script (issue 10) runs end to end: tiny models of the Wan classes, 2 CPU processes, FSDP.
It is what a session with several GPUs runs in one call; this keeps it from rotting where no GPU is lent."""
import json
import subprocess
import sys

from conftest import ROOT


def test_multi_gpu_bench_dry_two_processes(tmp_path):
    out = tmp_path / "mg.json"
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "multi_gpu.py"), "all", "--dry", "--launch-cpu", "2",
                        "--parallel", "fsdp", "--reps", "1", "--warmup", "0", "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    figs = json.loads(out.read_text())["figures"]
    assert {k: v["status"] for k, v in figs.items()} == {"ode_step": "done", "reward_step": "done", "trajectories": "done"}
    for name in ("ode_step", "reward_step"):
        assert (figs[name]["settings"]["parallel"], figs[name]["settings"]["processes"]) == ("fsdp", 2)
        d = figs[name]["derived"]
        assert d["samples_per_s_total"] == 2 * d["samples_per_s_per_gpu"] > 0
    traj = figs["trajectories"]
    assert traj["derived"]["trajectories"] == 8
    assert sorted((r["rank"], r["trajectories"]) for r in traj["processes"]) == [(0, 4), (1, 4)]


def test_gpu_share_bench_dry(tmp_path):
    """bench/gpu_share.py (issue 9): DMD steps/s of P processes sharing a device, eager and compiled (here
    with the 'eager' backend: Dynamo tracing without inductor's minutes of CPU compiling); whole generator cycles."""
    out = tmp_path / "share.json"
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu_share.py"), "--dry", "--procs", "1", "--mps",
                        "--models", "eager,compiled", "--compile-backend", "eager", "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=600,
                       env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})     # no nvidia-cuda-mps-control here
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    record = json.loads(out.read_text())
    assert record["preset"] == "tiny" and record["mps"].startswith("unavailable")
    eager, compiled = record["runs"]
    assert [(r["procs"], r["ok"], r["mps"], r["compiled"]) for r in (eager, compiled)] == [(1, 1, False, False),
                                                                                           (1, 1, False, True)]
    for run in (eager, compiled):
        (w,) = run["workers"]
        assert w["steps"] % 5 == 0 and w["steps"] > 0 and w["steps_per_s"] == run["total_steps_per_s"] > 0
