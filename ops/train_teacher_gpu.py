"""Train (or retrain) a world teacher on one GPU within a time budget and copy what a person needs to $OUT.
On the GPU machine, after installing the carried wheels (README "GPU"):
    python3 ops/train_teacher_gpu.py --preset tiny --time-budget 420 --out "$OUT" [--set key=value ...]
Writes teacher_<preset>.safetensors/.json (copy them to rf_nb/assets/ to ship), the training log, the metrics
(prompt fidelity on held-out and training prompts) and a sample grid."""
import argparse
import json
import shutil
import signal
import sys
import time
from pathlib import Path

from rf_nb.config import load_preset, parse_cli_overrides
from rf_nb.teacher import teacher_stage


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--time-budget", type=float, default=420.0, help="seconds of training before a clean stop")
    ap.add_argument("--out", required=True)
    ap.add_argument("--n-eval", type=int, default=128)
    ap.add_argument("--n-clips", type=int, default=60000)
    ap.add_argument("--workers", type=int, default=14)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    args = ap.parse_args()
    out = Path(args.out)
    overrides = {"device": "cuda" if __import__("torch").cuda.is_available() else "cpu", "paths.runs": f"/tmp/rf_nb_runs/{Path(args.out).name}",
                 f"train.teacher.mixed_precision": "bf16"} | parse_cli_overrides(args.overrides)
    cfg = load_preset(args.preset, overrides)
    run = Path(cfg.paths.runs) / "teacher"
    t0 = time.time()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(f"SIGTERM after {time.time() - t0:.0f} s"))  # run `finally`
    print(f"training {args.preset} for {args.time_budget:.0f} s; writing to {out}", flush=True)
    try:
        m = teacher_stage(cfg, run, out / "fig", retrain=True, n_eval=args.n_eval, n_clips=args.n_clips,
                          workers=args.workers, progress=False, time_budget_s=args.time_budget)
        print(json.dumps({k: m[k] for k in ("heldout", "train", "training")}, indent=1))
    finally:
        for src, dst in [(run / "teacher.safetensors", f"teacher_{args.preset}.safetensors"),
                         (run / "teacher.json", f"teacher_{args.preset}.json"),
                         (run / "train" / "log.jsonl", f"teacher_{args.preset}_log.jsonl"),
                         (run / "metrics.json", f"teacher_{args.preset}_metrics.json")]:
            if src.exists():
                shutil.copy(src, out / dst)
        print(f"wall {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
