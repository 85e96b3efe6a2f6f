"""Throughput of the `small` teacher's training step (17.2M params, 1,344 tokens/clip, bf16 autocast) on one GPU:
eager vs `torch.compile` of the transformer (nn.Module.compile: same parameter names), at two batch sizes.
Each row: the one trainer (`rf_nb.train.Trainer`) with the flow-matching objective on a GPU clip bank; `--warmup`
steps (CUDA init, autotuning, compilation) are run and excluded, then `--steps` steps are timed between CUDA syncs.
    python3 archive/bench/teacher_train_small.py --out archive/bench/results/teacher_train_small_h100.json
"""
import argparse
import json
import tempfile
import time
from dataclasses import replace

import torch

from rf_nb.config import load_preset
from rf_nb.teacher import ClipBank, FlowMatchingObjective, build_teacher, count_parameters
from rf_nb.train import Trainer


def measure(cfg, bank, batch: int, compiled: bool, warmup: int, steps: int) -> dict:
    tc = replace(cfg.train["teacher"], batch_size=batch, steps=warmup + steps + 1, ckpt_every=10 ** 9,
                 log_every=10 ** 9)
    teacher = build_teacher(cfg)
    if compiled:
        teacher.transformer.compile()
    with tempfile.TemporaryDirectory() as out:
        tr = Trainer(models={"teacher": teacher}, trainable=["teacher"], objective=FlowMatchingObjective(cfg),
                     data=bank.sampler(batch, "cuda"), cfg=tc, out_dir=out, resume=False, disable_progress=True)
        t0 = time.perf_counter()
        tr.fit(stop_after=warmup)
        torch.cuda.synchronize()
        t1 = time.perf_counter()
        tr.fit(stop_after=warmup + steps)
        torch.cuda.synchronize()
        t2 = time.perf_counter()
    n_tok = batch * cfg.latent_frames * (cfg.world.height // 8) * (cfg.world.width // 8)
    step_s = (t2 - t1) / steps
    return {"batch": batch, "compiled": compiled, "warmup_s": t1 - t0, "step_s": step_s,
            "clips_per_s": batch / step_s, "tflops_6nd": 6 * count_parameters(teacher.transformer) * n_tok / step_s / 1e12,
            "peak_mem_gib": torch.cuda.max_memory_allocated() / 2 ** 30}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--clips", type=int, default=4096)
    ap.add_argument("--workers", type=int, default=15)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    cfg = load_preset("small", {"device": "cuda", "train.teacher.mixed_precision": "bf16"})
    bank = ClipBank.render(cfg, args.clips, 0, "train", args.workers, None, progress=False)
    rows = []
    for batch in args.batches:
        for compiled in (False, True):
            torch.cuda.reset_peak_memory_stats()
            rows.append(measure(cfg, bank, batch, compiled, args.warmup, args.steps))
            print(json.dumps(rows[-1]), flush=True)
    res = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "date": time.strftime("%Y-%m-%d"),
           "rows": rows}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
