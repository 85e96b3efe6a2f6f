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
