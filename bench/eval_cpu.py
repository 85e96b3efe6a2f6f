"""CPU cost of evaluating generated clips (what every stage-2 history check and final evaluation pays): OpenCV flow
of `rf_nb.perception.flow_score` one clip at a time vs one thread per core, and `rf_nb.pipeline.evaluate_videos`
as a whole (SynthBench + the fidelity / motion / texture measures of the clips and of their ground truth).
Ground-truth renders stand in for generated clips: the cost does not depend on what the clips show.
    python bench/eval_cpu.py [--preset tiny] [--prompts 32] [--repeats 3]"""
import argparse
import json
import os
import platform

import torch
from tiny_cpu import median_time                       # bench/ is on sys.path when run as a script

from rf_nb.config import load_preset
from rf_nb.perception import flow_score, load_perception
from rf_nb.pipeline import evaluate_videos
from rf_nb.teacher import render_specs
from rf_nb.world import sample_prompts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    cfg = load_preset(args.preset)
    specs = sample_prompts(args.prompts, "heldout", 1, cfg.world.heldout_fraction, cfg.world.split_seed)
    clips = render_specs(specs, cfg, seed=7)                                   # [N, 3, F, H, W]
    serial = median_time(lambda: flow_score(clips, workers=1), args.repeats)
    threaded = median_time(lambda: flow_score(clips), args.repeats)
    assert torch.equal(flow_score(clips, workers=1), flow_score(clips))       # same numbers either way
    try:                                    # the small perception model is trained on a GPU, not shipped
        perception = load_perception(cfg.preset)
        whole = round(median_time(lambda: evaluate_videos(clips, specs, cfg, perception, seed=1), args.repeats), 3)
    except FileNotFoundError as e:
        whole = f"not measured: {str(e).splitlines()[0]}"
    print(json.dumps({"preset": args.preset, "clips": args.prompts, "frames": cfg.world.num_frames,
                      "pixels": f"{cfg.world.width}x{cfg.world.height}",
                      "flow_score_one_thread_s": round(serial, 3), "flow_score_threads_s": round(threaded, 3),
                      "flow_speedup": round(serial / threaded, 2), "evaluate_videos_s": whole,
                      "cores": len(os.sched_getaffinity(0)), "repeats": args.repeats,
                      "torch": torch.__version__, "cpu": platform.processor() or platform.machine()}))


if __name__ == "__main__":
    main()
