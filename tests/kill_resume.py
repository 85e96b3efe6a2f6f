"""Kill-at-any-instant driver (issue 36): run a short stage many times, SIGKILL each run at a different moment, rerun
the same command, and compare the result bitwise with an uninterrupted run.

Two jobs, both CPU-only and seconds long:
  train  the one trainer (rf_nb.train) on the toy MLP with dropout, noise from torch/NumPy/Python RNGs, grad_accum 2,
         warmup, EMA; a checkpoint every 3 steps, a log line every step; compared: final model/EMA weights, the last
         checkpoint's tensors (weights, EMA, AdamW, RNG states), metrics.json and log.jsonl without wall-clock fields
  traj   the trajectories stage (rf_nb.trajectories.trajectories_stage) with the shipped tiny teacher, 2-step solve,
         6 prompts in shards of 2; compared: every stored trajectory by prompt index, the manifests' prompts and
         seeds, metrics.json without timings; and the store must pass verify_store

A kill point is either named (`RF_NB_KILL_AT=point:N`, see rf_nb.config.kill_point: the process SIGKILLs itself the
N-th time it passes `point`) or random (the driver SIGKILLs the run after a random delay). `--mode fork` (CI) forks
every run from one process that has only imported the library, so a run costs no import time; `--mode spawn` starts
each run as a new Python process (`python tests/kill_resume.py run JOB OUT`), the plain "rerun the same command".

    python tests/kill_resume.py check                      # the fixed CI set (what tests/test_kill_resume.py runs)
    python tests/kill_resume.py check --all --random 30 --seed 1  # every named point + 30 random instants per job
    python tests/kill_resume.py check --mode spawn          # every run a new process
    RF_NB_KILL_RANDOM=30 python -m pytest -q tests/test_kill_resume.py   # the random test, by hand
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

KILLED = -signal.SIGKILL

# named kill points per job: (first run's RF_NB_KILL_AT, optional second run's, ...); the last run is never killed
TRAIN_POINTS = [("train_step:2",),                # mid-step, before any checkpoint: a fresh start
                ("train_step:5",),                # mid-step after the step-3 checkpoint
                ("log_append:4",),                # half a log line written (a torn last line)
                ("checkpoint_write:2",),          # a half-written checkpoint folder
                ("checkpoint_commit:2",),         # the folder committed, `latest` not moved yet
                ("atomic_rename:9",),             # a checkpoint's JSON temp file written, not renamed
                ("checkpoint_write:4",),          # the last checkpoint half-written
                ("atomic_rename:26",),            # the final model/EMA/config/metrics files half done
                ("checkpoint_write:2", "log_append:2")]  # killed again while resuming
TRAJ_POINTS = [("trajectory_batch:2",),           # mid-shard, one shard stored
               ("shard_write:1",),                # a shard on disk, not yet in the manifest
               ("atomic_rename:4",),              # the 2nd manifest's temp file written, not renamed
               ("atomic_rename:7",),              # the stage's metrics.json temp file written, not renamed
               ("shard_write:2", "trajectory_batch:1")]  # killed again while resuming
TRAJ_POINTS_MORE = [("trajectory_batch:1",),      # mid-shard, nothing stored yet (--all: by hand, slow tests)
                    ("shard_write:3",),           # the last shard on disk, not in the manifest
                    ("atomic_rename:1",),         # the first shard's temp file written, not renamed
                    ("atomic_rename:6",)]         # the last manifest's temp file written, not renamed
# what differs between sessions by nature: wall-clock, and which session did how much of the work
WALL_CLOCK = {"seconds", "samples_per_s", "session_seconds", "resumed_from", "per_second", "sampling"}


# ---------------------------------------------------------------------------------------------------------- jobs
def job_train(out: Path) -> None:
    import numpy as np
    import torch
    from rf_nb.config import TrainConfig
    from rf_nb.train import ToyRegression, toy_mlp, train

    def objective(batch, models, step):
        x = batch["x"] + 0.05 * torch.randn_like(batch["x"]) + 0.01 * float(np.random.randn()) + 0.01 * random.random()
        return torch.nn.functional.mse_loss(models["net"](x), batch["y"]), {"x_std": float(x.std())}

    cfg = TrainConfig(steps=12, batch_size=4, grad_accum=2, lr=1e-2, betas=(0.0, 0.999), warmup_steps=3,
                      ema_decay=0.9, ema_start=2, ckpt_every=3, log_every=1)
    train({"net": toy_mlp(seed=0, dropout=0.1)}, ["net"], objective, ToyRegression(128), cfg, out, seed=3,
          disable_progress=True, cpu=True)


TRAJ_CFG = {"flow.teacher_steps": 2, "flow.keep_indices": [0, 1, -1], "device": "cpu", "trajectories.batch_size": 2,
            "trajectories.shard_size": 2}
TRAJ_N = 6                                                # 3 shards of 2, one solve batch each


def job_traj(out: Path) -> None:
    from rf_nb.config import load_preset
    from rf_nb.trajectories import trajectories_stage
    trajectories_stage(load_preset("tiny", TRAJ_CFG), out, n=TRAJ_N, progress=False)


JOBS = {"train": job_train, "traj": job_traj}


# ---------------------------------------------------------------------------------------------------- results
def _strip(d):
    if isinstance(d, dict):
        return {k: _strip(v) for k, v in d.items() if k not in WALL_CLOCK}
    if isinstance(d, list):
        return [_strip(v) for v in d]
    return d


def result_train(out: Path) -> dict:
    from safetensors.torch import load_file
    from rf_nb.config import read_jsonl
    from rf_nb.train import latest_checkpoint
    ck = latest_checkpoint(out)
    tensors = {f"{f.name}:{k}": v for f in sorted(out.glob("[!.]*.safetensors")) for k, v in load_file(str(f)).items()}
    tensors |= {f"ckpt/{f.name}:{k}": v for f in sorted(ck.glob("*.safetensors")) for k, v in load_file(str(f)).items()}
    return {"tensors": tensors, "checkpoint": ck.name,
            "metrics": _strip(json.loads((out / "metrics.json").read_text())),
            "log": _strip(read_jsonl(out / "log.jsonl"))}


def result_traj(out: Path) -> dict:
    from rf_nb.config import load_preset
    from rf_nb.trajectories import expected_store_hash, verify_store
    store = verify_store(out / "store", expected_store_hash(load_preset("tiny", TRAJ_CFG)), TRAJ_N)  # whole, intact
    items = store.by_index()
    return {"tensors": {f"states:{i}": it["states"] for i, it in items.items()}
            | {f"sigmas:{i}": it["sigmas"] for i, it in items.items()},
            "prompts": [(e["index"], e["prompt"], e["seed"]) for e in store.entries],
            "metrics": _strip(json.loads((out / "metrics.json").read_text()))}


RESULTS = {"train": result_train, "traj": result_traj}


def digest(job: str, out: Path) -> dict:
    "The result of `job` in `out` as JSON: each tensor as dtype, shape and sha256 of its bytes (bitwise identity)."
    import hashlib
    import torch
    res = RESULTS[job](out)
    res["tensors"] = {k: [str(t.dtype), list(t.shape), hashlib.sha256(
        t.contiguous().view(-1).view(torch.uint8).numpy().tobytes()).hexdigest()] for k, t in res["tensors"].items()}
    return json.loads(json.dumps(res))


def differences(a: dict, b: dict) -> list[str]:
    "What differs between two digests."
    out = []
    if sorted(a["tensors"]) != sorted(b["tensors"]):
        out.append(f"tensor names differ: {sorted(set(a['tensors']) ^ set(b['tensors']))[:4]}")
    out += [f"tensor {k}" for k in sorted(set(a["tensors"]) & set(b["tensors"])) if a["tensors"][k] != b["tensors"][k]]
    out += [f"{k}" for k in a if k != "tensors" and a[k] != b.get(k)]
    return out


# ------------------------------------------------------------------------------------------------------ runs
def _fork(fn, kill_at: str | None = None, delay: float | None = None, timeout: float = 300) -> int:
    """Run `fn()` in a forked child (with `RF_NB_KILL_AT=kill_at`); its return code. The parent never computes with
    torch (an OpenMP pool started before a fork deadlocks the child), so results come back as files."""
    pid = os.fork()
    if pid == 0:                                          # the child: fn, then exit without cleanup handlers
        code = 0
        try:
            os.environ.pop("RF_NB_KILL_AT", None)
            if kill_at:
                os.environ["RF_NB_KILL_AT"] = kill_at
            warnings.simplefilter("ignore")
            fn()
        except BaseException:
            import traceback
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            os._exit(code)
    return _wait(pid, delay, timeout)


def _run_fork(job: str, out: Path, kill_at: str | None, delay: float | None, timeout: float) -> int:
    return _fork(lambda: JOBS[job](out), kill_at, delay, timeout)


def result(job: str, out: Path) -> dict:
    "The digest of `job`'s result in `out`, computed in a child process (see `_fork`)."
    path = out.with_name(out.name + ".digest.json")
    rc = _fork(lambda: path.write_text(json.dumps(digest(job, out))))
    if rc != 0:
        raise RuntimeError(f"reading the result of {out} failed (rc {rc}; the traceback is above)")
    return json.loads(path.read_text())


def _wait(pid: int, delay: float | None, timeout: float) -> int:
    t0 = time.monotonic()
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        elapsed = time.monotonic() - t0
        if (delay is not None and elapsed >= delay) or elapsed > timeout:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return KILLED if elapsed <= timeout else 124
        time.sleep(0.005)


def _run_spawn(job: str, out: Path, kill_at: str | None, delay: float | None, timeout: float) -> int:
    env = {k: v for k, v in os.environ.items() if k != "RF_NB_KILL_AT"} | ({"RF_NB_KILL_AT": kill_at} if kill_at else {})
    env["PYTHONWARNINGS"] = "ignore"
    p = subprocess.Popen([sys.executable, __file__, "run", job, str(out)], env=env)
    return _wait(p.pid, delay, timeout)


def run(job: str, out: Path, kill_at: str | None = None, delay: float | None = None, mode: str = "fork",
        timeout: float = 300) -> int:
    "One run of `job` into `out`; its return code (-9: killed)."
    return (_run_fork if mode == "fork" else _run_spawn)(job, out, kill_at, delay, timeout)


def named_points(job: str, more: bool = False) -> list[tuple[str, ...]]:
    "The named kill cases of `job`: the CI set, or with `more` every one."
    return TRAIN_POINTS if job == "train" else TRAJ_POINTS + (TRAJ_POINTS_MORE if more else [])


def check(jobs=("train", "traj"), n_random: int = 0, seed: int = 0, mode: str = "fork", more: bool = False,
          only: str | None = None, log=print) -> dict:
    """Every named kill point of `jobs` (`only`: the cases whose first point is `only`; `more`: the extra ones too;
    plus `n_random` random instants per job): killed runs, one clean rerun, the result compared bitwise with an
    uninterrupted run. Returns {'covered': {job: kills that happened}, 'failures': [...], 'seconds': ...}."""
    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="rf_nb_kill_"))
    summary = {"covered": {}, "failures": [], "seconds": {}, "mode": mode}
    try:
        for job in jobs:
            t0 = time.perf_counter()
            rc = run(job, tmp / job / "ref", mode=mode)
            assert rc == 0, f"{job}: the uninterrupted run failed (rc {rc})"
            ref_secs = time.perf_counter() - t0
            ref = result(job, tmp / job / "ref")
            cases = [("named", p) for p in named_points(job, more) if only is None or p[0] == only]
            cases += [("random", (rng.uniform(0.02, 1.0) * ref_secs,)) for _ in range(n_random)]
            covered = 0
            for k, (kind, kills) in enumerate(cases):
                out = tmp / job / f"case{k}"
                rcs = [run(job, out, kill_at=p, mode=mode) if kind == "named" else run(job, out, delay=p, mode=mode)
                       for p in kills]
                final = run(job, out, mode=mode)                 # the same command again, no kill
                name = f"{job} {kind} {'/'.join(map(str, kills))}"
                if kind == "named" and any(r != KILLED for r in rcs):
                    summary["failures"].append(f"{name}: the kill point was not reached (return codes {rcs})")
                    continue
                if final != 0:
                    summary["failures"].append(f"{name}: the rerun failed (rc {final})")
                    continue
                try:
                    diff = differences(ref, result(job, out))
                except RuntimeError as e:                         # e.g. verify_store refused the store
                    diff = [str(e)]
                if diff:
                    summary["failures"].append(f"{name}: differs from the uninterrupted run in {diff[:5]}")
                covered += sum(r == KILLED for r in rcs)
                log(f"[{'ok' if not diff else 'FAIL'}] {name} (return codes {rcs} then {final})", flush=True)
                shutil.rmtree(out, ignore_errors=True)
            summary["covered"][job] = covered
            summary["seconds"][job] = round(time.perf_counter() - t0, 1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="one run of a job (what --mode spawn starts)")
    r.add_argument("job", choices=sorted(JOBS))
    r.add_argument("out", type=Path)
    c = sub.add_parser("check", help="the kill-and-rerun comparison")
    c.add_argument("--jobs", default="train,traj")
    c.add_argument("--random", type=int, default=0, help="random kill instants per job on top of the named ones")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--mode", choices=("fork", "spawn"), default="fork")
    c.add_argument("--all", action="store_true", help="the extra named points too")
    c.add_argument("--only", help="just the named case starting with this point, e.g. log_append:4")
    c.add_argument("--json", type=Path, help="write the summary here too")
    a = ap.parse_args(argv)
    if a.cmd == "run":
        warnings.simplefilter("ignore")
        JOBS[a.job](a.out)
        return 0
    import rf_nb.train, rf_nb.trajectories  # noqa: F401  (imported once: forked runs start from here)
    s = check(tuple(a.jobs.split(",")), a.random, a.seed, a.mode, a.all, a.only)
    print(json.dumps(s, indent=1))
    if a.json:
        a.json.write_text(json.dumps(s, indent=1))
    return 1 if s["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
