"""Where the Wan VAE decode of a generated clip goes (issue 9: >= 30 FPS including the decode). The decode of 21
latents to 81 frames at 832x480 is a third of a generation's time once the transformer is compiled (BENCHMARKS.md):
this script times it per variant, counts its FLOPs (`torch.utils.flop_counter`, convolutions included) and profiles
one decode per variant, summing CUDA kernel time by kind (`bench/kernel_time.py`): convolution (cuDNN / CUTLASS),
layout transposes (NCDHW <-> NDHWC), fused Triton kernels (compiled), and the rest.

Variants (`--variants`, each timed in turn on a new codec with the same seeded weights): `eager` (the library
default), `channels_last` (`WanVAECodec.channels_last()`: the 3-D convolution weights in `torch.channels_last_3d`,
which cuDNN's fast 3-D kernels read without a transpose), `compiled` (`WanVAECodec.compile_decoder()`),
`compiled_channels_last` (both, the layout first).

    python bench/vae_decode.py --out $OUT/vae_decode.json    # bf16; on one H200 (2026-12-06) 152 s for three variants
                                                             # and 104 s for the fourth, compiling included
    python bench/vae_decode.py --dry --out /tmp/vae_dry.json              # a tiny VAE of the same class on the CPU

Random weights cost what trained ones cost. Medians of `--reps` timed decodes after one warm-up (compiling happens
in the warm-up). The JSON is rewritten atomically after every variant."""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import Tensor

from rf_nb.codecs import WanVAECodec
from rf_nb.config import atomic_path, pick_device

from kernel_time import profile_kernels      # bench/kernel_time.py (this folder is on sys.path)

DRY_VAE = {"base_dim": 8, "dim_mult": [1, 2, 2, 2], "num_res_blocks": 1}   # bench/wan_scale.py's tiny VAE
VARIANTS = ("eager", "channels_last", "compiled", "compiled_channels_last")


def build_codec(device: torch.device, dtype: torch.dtype, dry: bool) -> WanVAECodec:
    "`AutoencoderKLWan` (its defaults are the Wan2.1 VAE; `dry`: a tiny one) with random weights, in `dtype`."
    from diffusers import AutoencoderKLWan
    torch.manual_seed(0)
    vae = AutoencoderKLWan(**(DRY_VAE if dry else {})).to(device, dtype).eval().requires_grad_(False)
    return WanVAECodec(vae).to(device)


def decode_flops(codec: WanVAECodec, latents: Tensor) -> float:
    "FLOPs of one decode of `latents`, counted by `torch.utils.flop_counter.FlopCounterMode` (eager)."
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        codec.decode(latents)
    return float(counter.get_total_flops())


def time_decode(codec: WanVAECodec, latents: Tensor, device: torch.device, reps: int) -> list[float]:
    "Seconds of `reps` decodes after one warm-up (which compiles, when compiled)."
    def once() -> float:
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        with torch.no_grad():
            codec.decode(latents)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t0
    once()
    return [once() for _ in range(reps)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated, from " + ", ".join(VARIANTS))
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--latents", type=int, default=21, help="latent frames (21 = 81 pixel frames)")
    p.add_argument("--cudnn-benchmark", action="store_true", help="torch.backends.cudnn.benchmark (as the gen rows)")
    p.add_argument("--dry", action="store_true", help="a tiny VAE at 32x32 on the CPU: a test of the script")
    p.add_argument("--out", default="vae_decode.json")
    args = p.parse_args(argv)
    variants = [v.strip() for v in args.variants.split(",")]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        p.error(f"unknown --variants {unknown}: choose from {', '.join(VARIANTS)}")
    device = torch.device("cpu") if args.dry else pick_device("auto")
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    codec = build_codec(device, dtype, args.dry)
    h, w = (4, 4) if args.dry else (60, 104)                                      # 832x480 / 8
    latents = torch.randn(1, 16, args.latents, h, w, generator=torch.Generator().manual_seed(0)).to(device)
    pixel_frames = 4 * (args.latents - 1) + 1
    out = Path(args.out)
    given = sys.argv[1:] if argv is None else argv
    record = {"command": "python bench/vae_decode.py " + " ".join(given), "date": time.strftime("%Y-%m-%d"),
              "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu", "torch": torch.__version__,
              "dtype": str(dtype), "latents": list(latents.shape), "pixel_frames": pixel_frames,
              "cudnn_benchmark": args.cudnn_benchmark, "reps": args.reps, "variants": {}}

    def save() -> None:
        with atomic_path(out) as tmp:
            Path(tmp).write_text(json.dumps(record, indent=1))

    record["flops"] = decode_flops(codec, latents)
    save()
    for v in variants:
        # a new codec (the same seeded weights) per variant: the library's channels_last() comes before any compile
        codec = build_codec(device, dtype, args.dry)
        if "channels_last" in v:
            codec.channels_last()
        codec.compile_decoder(enable=v.startswith("compiled"))
        z = latents
        t0 = time.perf_counter()
        try:
            times = time_decode(codec, z, device, args.reps)
        except Exception as e:                                                    # a variant may fail; others run
            record["variants"][v] = {"error": f"{type(e).__name__}: {str(e)[:500]}"}
            save()
            print(v, "failed:", record["variants"][v]["error"], flush=True)
            continue
        med = statistics.median(times)
        r = {"decode_s": round(med, 4), "times_s": [round(t, 4) for t in times],
             "first_call_s": round(time.perf_counter() - t0 - sum(times), 2),
             "tflops_per_s": round(record["flops"] / med / 1e12, 3), "frames_per_s": round(pixel_frames / med, 1),
             "profile": profile_kernels(lambda: codec.decode(z), device)}
        if device.type == "cuda":
            r["peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        record["variants"][v] = r
        save()
        print(v, f"decode {med:.3f} s, {r['tflops_per_s']} TFLOP/s,", r["profile"].get("by_kind_share", {}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
