"""The floor of issue 9's paper-scale figures: FLOPs and bytes moved, counted on no GPU, over a card's ceilings.

Issue 9 asks to "compute the floor (FLOPs per block, bytes moved) and report achieved TFLOP/s". This script runs the
library's own code on PyTorch's meta device (shapes only, no data: seconds on a CPU, nothing downloaded):
- `generate`: the causal generation as `rf_nb.causal.stream` runs it (7 blocks x (4 steps + 1 cache pass) = 34
  forwards of a 1.42B Wan transformer with the KV cache), 832x480, 81 frames;
- `teacher_forward`: one bidirectional forward over 21 latents (32,760 tokens);
- `vae_decode`: `WanVAECodec.decode` of 21 latents to 81 frames (the Wan2.1 VAE);
and derives the ODE training step and a teacher trajectory from the teacher forward (below).

Counted per workload:
- FLOPs: `torch.utils.flop_counter` (matrix products and convolutions) plus attention as a fused kernel does it,
  4 Lq Lk D per batch and head (QK^T and AV).
- bytes, two ways. `op_by_op`: every operator reads its inputs and writes its outputs once (views are free;
  attention is one fused kernel reading q, k, v and writing o), i.e. the unfused library's traffic with every
  operator at full bandwidth. `unavoidable`: what any implementation moves: each weight read once per forward, the
  KV cache read and written, the inputs read and the outputs written.
- floors at a card's ceilings: `compute` = FLOPs / matmul rate, `memory` = unavoidable bytes / copy bandwidth,
  `floor` = the larger; `op_by_op_memory` = op-by-op bytes / copy bandwidth (what unfused element-wise work costs
  at best). Ceilings: the ones measured on the lent cards (the lent machines' notes: an 8192^3 bf16 matmul
  and a device-to-device copy counting bytes read and written), overridable with --tflops and --tbps.

    python bench/floor.py --out archive/bench/results/floor_<date>.json        (~30 s on the 2-core CPU)
    python bench/floor.py --dry --out /tmp/floor.json                   (the wan classes shrunk, seconds; what CI runs)
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wan_scale import DRY_OVERRIDES, DRY_VAE, block_causal_pairs, generation_flops, wan_forward_flops  # noqa: E402

from rf_nb.causal import make_causal, noise_blocks, stream                                # noqa: E402
from rf_nb.codecs import WanVAECodec                                                      # noqa: E402
from rf_nb.config import Config, load_preset, write_json                                  # noqa: E402
from rf_nb.pipeline import student_timesteps                                              # noqa: E402
from rf_nb.teacher import count_parameters                                                # noqa: E402

# Ceilings measured on the lent cards (their machine notes): bf16 matmul TFLOP/s on random data, copy TB/s (read + written).
CEILINGS = {"H100": {"tflops": 798.0, "tbps": 3.0}, "H200": {"tflops": 788.0, "tbps": 4.3}}
VIEW_OPS = {"view", "_unsafe_view", "expand", "slice", "select", "permute", "transpose", "t", "unsqueeze", "squeeze",
            "as_strided", "alias", "detach", "split", "split_with_sizes", "unbind", "chunk", "unflatten", "flatten",
            "lift_fresh", "empty", "empty_like", "empty_strided", "new_empty"}


def nbytes(tree: Any) -> int:
    "Bytes of every tensor in a pytree (args, kwargs, outputs)."
    return sum(t.numel() * t.element_size() for t in tree_leaves(tree) if isinstance(t, torch.Tensor))


class OpBytes(TorchDispatchMode):
    "Sums the bytes each operator reads and writes (inputs + outputs), views and allocations excluded."
    def __init__(self):
        super().__init__()
        self.total, self.by_op = 0, {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        name = func.overloadpacket.__name__
        if name not in VIEW_OPS:
            n = nbytes((args, kwargs, out))
            self.total += n
            self.by_op[name] = self.by_op.get(name, 0) + n
        return out


class FusedAttention(TorchFunctionMode):
    """Stands in for `F.scaled_dot_product_attention` on the meta device: counts a fused kernel's FLOPs (4 Lq Lk D per
    batch and head) and bytes (q, k, v read, o written), and returns an output of the right shape without the math
    decomposition (which would count the Lq x Lk score matrix as memory traffic)."""
    def __init__(self):
        super().__init__()
        self.flops, self.bytes, self.calls = 0.0, 0, 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is torch.nn.functional.scaled_dot_product_attention:
            q, k, v = list(args[:3]) + [kwargs[n] for n in ("query", "key", "value")[len(args[:3]):]]
            # q [B, H, Lq, D], k [B, H, Lk, D], v [B, H, Lk, Dv]
            out = torch.empty(*q.shape[:-1], v.shape[-1], dtype=q.dtype, device=q.device)     # [B, H, Lq, Dv]
            self.flops += 2.0 * q.shape[:-1].numel() * k.shape[-2] * (q.shape[-1] + v.shape[-1])
            self.bytes += nbytes((q, k, v, out))
            self.calls += 1
            return out
        return func(*args, **kwargs)


def count(fn: Callable[[], Any]) -> dict:
    "FLOPs and op-by-op bytes of `fn()` run on meta tensors (attention as fused kernels)."
    t0 = time.perf_counter()
    with torch.no_grad(), FusedAttention() as attn, FlopCounterMode(display=False) as flops, OpBytes() as ops:
        fn()
    by_op = {str(k).replace("aten.", ""): float(v) for k, v in flops.get_flop_counts()["Global"].items()}
    top = sorted(ops.by_op.items(), key=lambda kv: -kv[1])[:10]
    return {"flops": float(flops.get_total_flops()) + attn.flops,
            "flops_by_kind": {"attention": attn.flops, **by_op},
            "op_by_op_bytes": float(ops.total + attn.bytes),
            "op_by_op_top_gb": {k: round(v / 1e9, 2) for k, v in top}
            | {"attention (fused)": round(attn.bytes / 1e9, 2)},
            "attention_calls": attn.calls, "count_seconds": round(time.perf_counter() - t0, 1)}


def param_bytes(module: torch.nn.Module) -> int:
    return sum(p.numel() * p.element_size() for p in module.parameters())


def meta_transformer(cfg: Config, dtype: torch.dtype) -> torch.nn.Module:
    "The Wan transformer of `cfg` on the meta device (no memory, no init), in `dtype` as the bench runs it."
    from diffusers import WanTransformer3DModel
    with torch.device("meta"):
        return WanTransformer3DModel(**cfg.model.wan_kwargs()).to(dtype).eval().requires_grad_(False)


def latent_shape(cfg: Config) -> tuple[int, int, int]:
    "Latent frames, height, width (pixels / 8)."
    return cfg.latent_frames, cfg.world.height // 8, cfg.world.width // 8


def tokens_per_frame(cfg: Config) -> int:
    "Transformer tokens of one latent frame (after the spatial patch)."
    _, h, w = latent_shape(cfg)
    _, ph, pw = cfg.model.patch_size
    return (h // ph) * (w // pw)


def kv_bytes(cfg: Config, tokens: int, dtype: torch.dtype) -> float:
    "Bytes of the K and V of `tokens` tokens over every layer."
    m = cfg.model
    return 2.0 * m.num_layers * tokens * m.num_attention_heads * m.attention_head_dim * torch.finfo(dtype).bits / 8


def floor_generate(cfg: Config, dtype: torch.dtype) -> dict:
    "The causal generation (transformer only): 34 cached forwards; FLOPs counted and checked against the analytic."
    model = make_causal(meta_transformer(cfg, dtype), cfg.causal.frames_per_block)
    f, h, w = latent_shape(cfg)
    fpb, c = cfg.causal.frames_per_block, cfg.model.in_channels
    text = torch.empty(1, cfg.text.max_length, cfg.text.dim, device="meta", dtype=dtype)    # [1, 512, 4096]
    noise = noise_blocks((1, c, fpb, h, w), None, "meta", dtype)                             # [1, 16, 3, 60, 104]
    r = count(lambda: list(stream(model, text, noise, cfg.num_blocks, student_timesteps(cfg),
                                  cfg.causal.context_noise, None)))
    tpf = tokens_per_frame(cfg)
    n = fpb * tpf                                                                            # tokens per block
    analytic = generation_flops(cfg, tpf)
    steps = len(cfg.flow.student_timesteps)
    cache = 0.0                                  # per block: every pass reads the past blocks' K/V; one pass writes
    for blk in range(cfg.num_blocks):
        passes = steps + (1 if blk + 1 < cfg.num_blocks else 0)
        cache += passes * (kv_bytes(cfg, blk * n, dtype) + kv_bytes(cfg, cfg.text.max_length, dtype))
        cache += kv_bytes(cfg, n, dtype) if blk + 1 < cfg.num_blocks else 0.0
    io = 2.0 * analytic["forwards"] * c * fpb * h * w * torch.finfo(dtype).bits / 8          # latents in and out
    r.update(forwards=analytic["forwards"], analytic_flops=analytic["total"],
             unavoidable_bytes=analytic["forwards"] * param_bytes(model) + cache + io,
             unavoidable_parts_gb={"weights": analytic["forwards"] * param_bytes(model) / 1e9,
                                   "kv_cache_and_text_kv": cache / 1e9, "latents": io / 1e9},
             params=count_parameters(model), tokens_per_block=n)
    return r


def floor_teacher_forward(cfg: Config, dtype: torch.dtype) -> dict:
    "One bidirectional forward over all latents (the teacher; the unit of trajectories and of the ODE step)."
    model = meta_transformer(cfg, dtype)
    f, h, w = latent_shape(cfg)
    x = torch.empty(1, cfg.model.in_channels, f, h, w, device="meta", dtype=dtype)           # [1, 16, 21, 60, 104]
    t = torch.empty(1, device="meta")
    text = torch.empty(1, cfg.text.max_length, cfg.text.dim, device="meta", dtype=dtype)
    r = count(lambda: model(x, t, text, return_dict=False))                   # as rf_nb.teacher.Teacher
    tokens = f * tokens_per_frame(cfg)
    r.update(analytic_flops=wan_forward_flops(cfg.model, tokens, cfg.text.max_length)["total"], tokens=tokens,
             unavoidable_bytes=param_bytes(model) + 2.0 * nbytes(x) + nbytes(text),
             params=count_parameters(model))
    return r


def floor_vae_decode(cfg: Config, dtype: torch.dtype, dry: bool) -> dict:
    "`WanVAECodec.decode` of every latent frame (the Wan2.1 VAE: base_dim 96, z 16)."
    from diffusers import AutoencoderKLWan
    with torch.device("meta"):
        vae = AutoencoderKLWan(**(DRY_VAE if dry else {})).to(dtype)
    codec = WanVAECodec(vae).to("meta")                                      # its latent stats too
    f, h, w = latent_shape(cfg)
    z = torch.empty(1, vae.config.z_dim, f, h, w, device="meta", dtype=dtype)               # [1, 16, 21, 60, 104]
    out: dict = {}
    r = count(lambda: out.setdefault("video", codec.decode(z)))                               # [1, 3, 81, 480, 832]
    r.update(latents=list(z.shape), pixel_frames=int(out["video"].shape[2]),
             params=count_parameters(vae),
             unavoidable_bytes=param_bytes(vae) + nbytes(z) + nbytes(out["video"]))
    return r


def floors(r: dict, ceiling: dict) -> dict:
    "Seconds at the ceilings: compute, unavoidable memory, the floor (the larger), and unfused op-by-op memory."
    compute, memory = r["flops"] / (ceiling["tflops"] * 1e12), r["unavoidable_bytes"] / (ceiling["tbps"] * 1e12)
    return {"compute_s": compute, "memory_s": memory, "floor_s": max(compute, memory),
            "bound": "compute" if compute >= memory else "memory",
            "op_by_op_memory_s": r["op_by_op_bytes"] / (ceiling["tbps"] * 1e12)}


def derived(cfg: Config, teacher: dict, gen: dict, vae: dict, ceiling: dict, checkpointed: int) -> dict:
    """Floors of the figures built from the counted ones. ODE step: forward + backward of the block-causal student =
    3 forward FLOPs (+1 forward for each checkpointed block's recompute), AdamW reading weight, gradient and two
    moments and writing three (fp32). Trajectory: 48 Euler steps x a batched-CFG forward pair. Generation FPS: the
    transformer's floor plus the decode's."""
    m, rate, bw = cfg.model, ceiling["tflops"] * 1e12, ceiling["tbps"] * 1e12
    f, tpf = cfg.latent_frames, tokens_per_frame(cfg)
    fwd = wan_forward_flops(m, f * tpf, cfg.text.max_length,
                            attn_pairs=block_causal_pairs(f, tpf, cfg.causal.frames_per_block))["total"]
    ode_flops = (3 + checkpointed / m.num_layers) * fwd
    adamw = 7 * 4.0 * teacher["params"]
    steps = cfg.flow.teacher_steps
    traj_s = steps * 2 * floors(teacher, ceiling)["floor_s"]
    gen_s = floors(gen, ceiling)["floor_s"] + floors(vae, ceiling)["floor_s"]
    return {"ode_step": {"flops": ode_flops, "checkpointed_blocks": checkpointed, "adamw_bytes": adamw,
                         "floor_s": ode_flops / rate + adamw / bw},
            "trajectory": {"teacher_forwards": steps * 2, "floor_s": traj_s, "per_hour_ceiling": 3600 / traj_s},
            "generation_with_decode": {"floor_s": gen_s, "fps_ceiling": vae["pixel_frames"] / gen_s,
                                       "transformer_only_fps_ceiling":
                                           vae["pixel_frames"] / floors(gen, ceiling)["floor_s"]}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", default="wan")
    p.add_argument("--dry", action="store_true", help="wan shrunk as `wan_scale.py --dry` does, a tiny VAE (seconds)")
    p.add_argument("--checkpointed", type=int, default=15, help="checkpointed blocks of the ODE step (the wan preset)")
    p.add_argument("--tflops", type=float, default=None, help="another matmul ceiling (TFLOP/s), e.g. a datasheet's")
    p.add_argument("--tbps", type=float, default=None, help="another copy ceiling (TB/s, read + written)")
    p.add_argument("--out", default=None, help="results JSON (written atomically)")
    a = p.parse_args(argv)
    cfg, dtype = load_preset(a.preset, DRY_OVERRIDES if a.dry else {}), torch.bfloat16
    ceilings = dict(CEILINGS)
    if a.tflops or a.tbps:
        h100 = CEILINGS["H100"]
        ceilings["given"] = {"tflops": a.tflops or h100["tflops"], "tbps": a.tbps or h100["tbps"]}
    counted = {"generate": floor_generate(cfg, dtype), "teacher_forward": floor_teacher_forward(cfg, dtype),
               "vae_decode": floor_vae_decode(cfg, dtype, a.dry)}
    result: dict = {"preset": cfg.preset, "dtype": str(dtype),
                    "ceilings": ceilings, "counted": counted, "floors": {}, "derived": {},
                    "method": __doc__, "command": " ".join(sys.argv)}
    for card, ceiling in ceilings.items():
        result["floors"][card] = {k: floors(r, ceiling) for k, r in counted.items()}
        result["derived"][card] = derived(cfg, counted["teacher_forward"], counted["generate"],
                                          counted["vae_decode"], ceiling, a.checkpointed)
    for k, r in counted.items():
        fl = result["floors"]["H100"][k]
        print(f"{k:16s} {r['flops'] / 1e12:9.2f} TFLOP  unavoidable {r['unavoidable_bytes'] / 1e9:8.2f} GB  "
              f"op-by-op {r['op_by_op_bytes'] / 1e9:9.1f} GB | H100 floor {fl['floor_s']:.3f} s ({fl['bound']}), "
              f"op-by-op memory {fl['op_by_op_memory_s']:.3f} s", flush=True)
    print("derived (H100):", {k: {kk: round(vv, 3) for kk, vv in v.items() if isinstance(vv, float)}
                              for k, v in result["derived"]["H100"].items()}, flush=True)
    if a.out:
        write_json(a.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
