"""Paper-scale speed and memory figures (issue 9): Wan2.1-T2V-1.3B at 832x480, 81 frames (21 latents), run with
random weights of the real architectures (diffusers `WanTransformer3DModel(**cfg.model.wan_kwargs())`,
`AutoencoderKLWan()` whose defaults are the Wan2.1 VAE, `ImageRewardModel.random()` = BLIP ViT-L + BERT-base)
through rf_nb's own code paths (`stream`, `Teacher`, `ODERegression`, `RewardFineTuning` in the one `Trainer`,
`rf_nb.teacher.sample`). Text encoding (UMT5) is never timed: a random [1, 512, 4096] embedding stands in.

One subcommand per figure; `all` runs them in order. The JSON is rewritten atomically after every timed repeat and
after every figure (other figures already in the file are kept), so a run killed by a time limit loses nothing done.

    python bench/wan_scale.py all --out $OUT/wan_scale.json        # one H100, bf16: < 8 min
    python bench/wan_scale.py generate --out $OUT/wan_scale.json   # one figure (< 2 min each)
    python bench/wan_scale.py all --dry --out /tmp/wan_dry.json    # tiny same-class models on CPU, seconds

Figures: generate, teacher_forward, ode_step, reward_step, trajectories.
Levers: --reps N --warmup N --compile [--compile-mode M] --compile-vae --vae-channels-last --profile
        --attn {default,flash,efficient,cudnn,math}
        --grad-ckpt {auto,on,off} --precision {autocast,bf16} --grad-step {random,0,1,2,3,-1} --traj-steps K
        [--guidance-interval LO HI] --budget-s S"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Iterator
from unittest import mock

import torch
from torch import Tensor, nn

import rf_nb.causal
import rf_nb.teacher
from rf_nb.causal import make_causal, noise_blocks, stream
from rf_nb.codecs import StreamDecoder, WanVAECodec
from rf_nb.config import Config, ModelConfig, load_preset, pick_device, write_json
from rf_nb.flow import guided_steps, teacher_sigmas
from rf_nb.objectives import ODERegression, RewardFineTuning, make_student
from rf_nb.pipeline import student_timesteps
from rf_nb.teacher import Teacher, count_parameters, sample
from rf_nb.train import Trainer

from kernel_time import achieved_tflops, profile_kernels    # bench/kernel_time.py (this folder is on sys.path)

GIB = 2**30
FIGURES = ("attention", "generate", "teacher_forward", "trajectories", "ode_step", "reward_step")   # riskiest last
# (warm-up, repeats) per figure: sized so each figure stays under ~2 minutes on one H100
DEFAULT_REPS = {"attention": (2, 10), "generate": (1, 3), "teacher_forward": (2, 5), "ode_step": (1, 3),
                "reward_step": (1, 3), "trajectories": (1, 3)}
# --dry: the `wan` preset shrunk to tiny sizes of the same classes (2 blocks of 3 latents, 2 layers)
DRY_OVERRIDES = {"world.height": 32, "world.width": 32, "world.num_frames": 21, "text.dim": 32,
                 "text.max_length": 16, "model.num_attention_heads": 2, "model.attention_head_dim": 48,
                 "model.text_dim": 32, "model.freq_dim": 32, "model.ffn_dim": 128, "model.num_layers": 2}
DRY_VAE = {"base_dim": 8, "dim_mult": [1, 2, 2, 2], "num_res_blocks": 1}   # z_dim 16, 8x spatial, 4x temporal
PROMPT = "a red circle moves from left to right across a blue background"


# ----------------------------------------------------------------------------------------------- analytic FLOPs
def wan_forward_flops(m: ModelConfig, tokens: int, text_tokens: int, batch: int = 1,
                      attn_pairs: float | None = None, text_kv: bool = True) -> dict[str, float]:
    """Matmul FLOPs of one `WanTransformer3DModel` forward, counted analytically at 2 FLOPs per multiply-accumulate.

    Per layer, with N video tokens of width D = heads x head_dim, L text tokens, FFN width F, and P query-key pairs
    of self-attention (P = N^2 when bidirectional; fewer under a block-causal mask; N x N_keys with a KV cache):
      self-attention projections Q, K, V, O:  4 N D^2
      self-attention QK^T and AV:              2 P D
      cross-attention projections Q, O:        2 N D^2
      cross-attention projections K, V:        2 L D^2   (dropped when `text_kv=False`: rf_nb.causal.encode_text
                                                          projects the text once per prompt, not per forward)
      cross-attention QK^T and AV:             2 N L D
      feed-forward D -> F -> D:                2 N D F
    Outside the layers: patch embedding N (C pt ph pw) D, output projection N D (C pt ph pw), and the text embedder
    L (T D + D^2) with T the text width (dropped when `text_kv=False`). Not counted: norms, RoPE, modulation, softmax,
    GELU, residuals and the time embedding (elementwise, or O(D^2) per frame). Returns MAC-derived FLOPs per part
    and 'total' for the whole batch."""
    d, f, n, l = m.num_attention_heads * m.attention_head_dim, m.ffn_dim, tokens, text_tokens
    p = float(n) * n if attn_pairs is None else float(attn_pairs)
    patch = m.in_channels * m.patch_size[0] * m.patch_size[1] * m.patch_size[2]
    macs = {"self_attn_proj": m.num_layers * 4 * n * d * d,
            "self_attn_scores": m.num_layers * 2 * p * d,
            "cross_attn_proj_q_o": m.num_layers * 2 * n * d * d,
            "cross_attn_proj_k_v": m.num_layers * 2 * l * d * d if text_kv else 0,
            "cross_attn_scores": m.num_layers * 2 * n * l * d,
            "ffn": m.num_layers * 2 * n * d * f,
            "patch_embed_and_proj_out": 2 * n * patch * d,
            "text_embedder": l * (m.text_dim * d + d * d) if text_kv else 0}
    out = {k: 2.0 * v * batch for k, v in macs.items()}
    out["total"] = sum(out.values())
    return out


def block_causal_pairs(frames: int, tokens_per_frame: int, frames_per_block: int) -> float:
    "Query-key pairs a block-causal mask keeps: block b's queries see blocks 0..b, i.e. T^2 fpb^2 B (B + 1) / 2."
    n_blocks, per_block = frames // frames_per_block, frames_per_block * tokens_per_frame
    return float(per_block) ** 2 * n_blocks * (n_blocks + 1) / 2


def generation_flops(cfg: Config, tokens_per_frame: int, batch: int = 1) -> dict[str, Any]:
    """FLOPs of one causal generation as `rf_nb.causal.stream` runs it: per block, one forward per denoising step and
    (all blocks but the last) one clean-context pass, each with fpb x T queries against the cached frames plus its
    own; the text K/V are projected once (`encode_text`)."""
    m, fpb, steps = cfg.model, cfg.causal.frames_per_block, len(cfg.flow.student_timesteps)
    n, forwards = fpb * tokens_per_frame, 0
    parts: dict[str, float] = {}
    for blk in range(cfg.num_blocks):
        passes = steps + (1 if blk + 1 < cfg.num_blocks else 0)
        keys = (blk + 1) * n
        one = wan_forward_flops(m, n, cfg.text.max_length, batch, n * keys, text_kv=False)
        for k, v in one.items():
            parts[k] = parts.get(k, 0.0) + passes * v
        forwards += passes
    once = wan_forward_flops(m, 0, cfg.text.max_length, batch, 0, text_kv=True)   # text embedder + text K/V
    for k, v in once.items():
        parts[k] = parts.get(k, 0.0) + v
    return {"total": parts.pop("total"), "forwards": forwards, "parts": parts}


def flops_by_kernel_kind(parts: dict[str, float]) -> dict[str, float]:
    """`wan_forward_flops` parts grouped by the kernels that run them (`bench/kernel_time.py` kinds): the attention
    scores (self and cross, QK^T and AV) in SDPA's attention kernels, every projection in GEMMs."""
    attention = parts.get("self_attn_scores", 0.0) + parts.get("cross_attn_scores", 0.0)
    return {"attention": attention, "gemm": sum(v for k, v in parts.items() if k != "total") - attention}


def kernel_breakdown(name: str, fn: Callable[[], Any], device: torch.device, parts: dict[str, float]) -> dict:
    "`--profile`: one more run of `fn` under the profiler, its kernel time by kind and each kind's TFLOP/s."
    prof = profile_kernels(fn, device)                     # no grad inside
    prof["flops_by_kind"] = flops_by_kernel_kind(parts)
    prof["achieved_tflops_per_s_by_kind"] = achieved_tflops(prof, prof["flops_by_kind"])
    print(f"  [{name}] kernels by kind:", prof["by_kind_s"], prof["achieved_tflops_per_s_by_kind"], flush=True)
    return prof


# ----------------------------------------------------------------------------------------------- building blocks
class RandomTextEncoder(nn.Module):
    "Stands in for UMT5 (text encoding is not timed): any prompt -> one fixed random embedding [L, D]; no weights."

    def __init__(self, length: int, dim: int, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.register_buffer("emb", torch.randn(length, dim, generator=g), persistent=False)   # [L, D]

    def encode(self, prompts: list[str]) -> tuple[Tensor, Tensor]:
        "prompts -> (emb [B, L, D], mask [B, L] all True), like `UMT5TextEncoder.encode` at max_length."
        b = len(prompts)
        return self.emb.expand(b, -1, -1).clone(), torch.ones(b, self.emb.shape[0], dtype=torch.bool,
                                                              device=self.emb.device)


@dataclass
class Bench:
    "What every figure needs: the config, device, inference dtype, the parsed flags and the results file."
    cfg: Config
    device: torch.device
    dtype: torch.dtype
    args: argparse.Namespace
    results: dict

    @property
    def dry(self) -> bool:
        return bool(self.args.dry)

    @property
    def latent_hw(self) -> tuple[int, int]:
        "Latent height and width: pixels / 8 (the Wan VAE's spatial factor)."
        return self.cfg.world.height // 8, self.cfg.world.width // 8

    @property
    def tokens_per_frame(self) -> int:
        _, ph, pw = self.cfg.model.patch_size
        h, w = self.latent_hw
        return (h // ph) * (w // pw)

    def save(self) -> None:
        "Rewrite the results JSON atomically (rf_nb.config.write_json)."
        if self.args.out:
            write_json(self.args.out, self.results)

    def put(self, name: str, record: dict) -> None:
        self.results["figures"][name] = record
        self.save()


def on_device(device: torch.device, make: Callable[[], nn.Module]) -> nn.Module:
    "Build a module with its parameters created on `device` (fast random init on a GPU); failing that, on the CPU."
    try:
        with torch.device(device):
            return make()
    except torch.cuda.OutOfMemoryError:
        raise
    except Exception as e:                                          # e.g. a constructor that insists on CPU tensors
        print(f"  building on {device} failed ({type(e).__name__}: {str(e)[:120]}); building on the CPU", flush=True)
        return make().to(device)


def build_transformer(b: Bench, dtype: torch.dtype, compile_blocks: bool = True) -> nn.Module:
    """`WanTransformer3DModel(**cfg.model.wan_kwargs())` with random weights, created on the device, cast to `dtype`.
    With --compile and `compile_blocks`, each `WanTransformerBlock.forward` is compiled (the teacher's path)."""
    from diffusers import WanTransformer3DModel
    torch.manual_seed(0)
    model = on_device(b.device, lambda: WanTransformer3DModel(**b.cfg.model.wan_kwargs()))
    if dtype != torch.float32:
        model = model.to(dtype)                 # all of it, as rf_nb.teacher.load_teacher does
    if b.args.compile and compile_blocks:
        model.compile_repeated_blocks()         # regional compile of WanTransformerBlock.forward (teacher path)
    return model


def compile_student(b: Bench, student: nn.Module) -> nn.Module:
    """With --compile, the student's per-block step compiled (`rf_nb.causal.compile_block_step`, that model only),
    in --compile-mode (reduce-overhead: CUDA graphs of each cache length's step)."""
    if b.args.compile:
        rf_nb.causal.compile_block_step(student, **({} if b.args.compile_mode == "default" else
                                                    {"mode": b.args.compile_mode}))
    return student


def build_teacher_module(b: Bench, dtype: torch.dtype, compile_blocks: bool = True) -> Teacher:
    "A `Teacher` (transformer + the random text stand-in) on the device."
    text_encoder = RandomTextEncoder(b.cfg.text.max_length, b.cfg.text.dim)
    return Teacher(build_transformer(b, dtype, compile_blocks), text_encoder).to(b.device)


def build_vae_codec(b: Bench, dtype: torch.dtype) -> WanVAECodec:
    "`WanVAECodec(AutoencoderKLWan())`: diffusers' defaults are the Wan2.1 VAE (base_dim 96, z 16, mult 1-2-4-4)."
    from diffusers import AutoencoderKLWan
    torch.manual_seed(1)
    vae = on_device(b.device, lambda: AutoencoderKLWan(**(DRY_VAE if b.dry else {})))
    if dtype != torch.float32:
        vae = vae.to(dtype)
    return WanVAECodec(vae).to(b.device)     # as WanVAECodec.from_local: VAE in dtype, stats in fp32


def text_embedding(b: Bench, dtype: torch.dtype, batch: int = 1) -> Tensor:
    "A random stand-in for UMT5 output: [B, L, D] = [1, 512, 4096] at the wan preset."
    g = torch.Generator().manual_seed(2)
    return torch.randn(batch, b.cfg.text.max_length, b.cfg.text.dim, generator=g).to(b.device, dtype)


# ----------------------------------------------------------------------------------------------- timing helpers
def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def free(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def start_memory(b: Bench, record: dict) -> None:
    "After the models are built: record the memory they hold ('static_memory_gib') and reset the peak counters."
    free(b.device)
    if b.device.type == "cuda":
        record["static_memory_gib"] = round(torch.cuda.memory_allocated(b.device) / GIB, 3)
    reset_peak(b.device)


def memory(device: torch.device) -> dict:
    "Peak / current allocated and reserved GiB since the last reset (CUDA); a note on CPU."
    if device.type != "cuda":
        return {"note": "CPU run: GPU memory not measured"}
    total = torch.cuda.get_device_properties(device).total_memory
    peak_res = torch.cuda.max_memory_reserved(device)
    return {"peak_allocated_gib": round(torch.cuda.max_memory_allocated(device) / GIB, 3),
            "peak_reserved_gib": round(peak_res / GIB, 3),
            "allocated_now_gib": round(torch.cuda.memory_allocated(device) / GIB, 3),
            "device_total_gib": round(total / GIB, 3), "fits_device": bool(peak_res < total)}


def stats(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 6), "min": round(min(values), 6),
            "max": round(max(values), 6), "runs": [round(v, 6) for v in values]}


def measure(b: Bench, name: str, fn: Callable[[], dict | None], record: dict, tag: str = "") -> dict:
    """Run `fn` warm-up + repeat times, each synchronised (CUDA) and wall-clock timed; `fn` may return named
    sub-timings (seconds). Repeats are cut so the timed loop (warm-up excluded) stays inside --budget-s (at least
    one). After each repeat `record['timings']` is updated and the JSON rewritten. Returns {key: stats}; the call's
    own time is 'wall_s' (or '<tag>_wall_s')."""
    warm_default, reps_default = DEFAULT_REPS[name]
    warmup = warm_default if b.args.warmup is None else b.args.warmup
    reps = reps_default if b.args.reps is None else b.args.reps
    wall_key, label = (f"{tag}_wall_s" if tag else "wall_s"), (f"{name}/{tag}" if tag else name)
    warm: list[float] = []
    for i in range(warmup):
        sync(b.device)
        t0 = time.perf_counter()
        fn()
        sync(b.device)
        warm.append(time.perf_counter() - t0)
        print(f"  [{label}] warm-up {i + 1}/{warmup}: {warm[-1]:.3f} s", flush=True)
    record.setdefault("warmup_s", {})[tag or "main"] = [round(w, 4) for w in warm]
    t_start = time.perf_counter()  # the budget is the timed loop's: compiling in the warm-up must not eat repeats
    runs: dict[str, list[float]] = {}
    for i in range(reps):
        spent = time.perf_counter() - t_start
        per = runs[wall_key][-1] if runs else (warm[-1] if warm else 0.0)
        if i > 0 and b.args.budget_s and spent + per > b.args.budget_s:
            print(f"  [{label}] stopping after {i} repeats: --budget-s {b.args.budget_s} reached", flush=True)
            break
        sync(b.device)
        t0 = time.perf_counter()
        sub = fn() or {}
        sync(b.device)
        wall = time.perf_counter() - t0
        for k, v in {wall_key: wall, **sub}.items():
            runs.setdefault(k, []).append(float(v))
        record.setdefault("timings", {}).update({k: stats(v) for k, v in runs.items()})
        record.setdefault("reps", {})[tag or "main"] = {"planned": reps, "done": i + 1, "warmup": warmup}
        record["status"] = "partial"
        b.put(name, record)
        print(f"  [{label}] repeat {i + 1}/{reps}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in runs.items()),
              flush=True)
    return {k: stats(v) for k, v in runs.items()}


def med(timings: dict, key: str) -> float:
    return timings[key]["median"]


@contextlib.contextmanager
def levers(args: argparse.Namespace) -> Iterator[None]:
    """--attn: restrict every `scaled_dot_product_attention` call (diffusers' 'native' backend, rf_nb's cached
    path) to one SDPA kernel; flex attention (the block-causal full-sequence mask on CUDA) is not affected.
    --compile is applied where the models are built: each student's per-block step (`compile_student`), the
    teacher's blocks by diffusers' `compile_repeated_blocks` (see build_transformer)."""
    with contextlib.ExitStack() as stack:
        if args.attn != "default":
            from torch.nn.attention import SDPBackend, sdpa_kernel
            backend = {"flash": SDPBackend.FLASH_ATTENTION, "efficient": SDPBackend.EFFICIENT_ATTENTION,
                       "cudnn": SDPBackend.CUDNN_ATTENTION, "math": SDPBackend.MATH}[args.attn]
            stack.enter_context(sdpa_kernel([backend]))
        if args.cudnn_benchmark:          # autotuned cuDNN convolutions (the Wan VAE is 3-D convolutions)
            prev = torch.backends.cudnn.benchmark
            torch.backends.cudnn.benchmark = True
            stack.callback(setattr, torch.backends.cudnn, "benchmark", prev)
        yield


def settings(b: Bench, **extra) -> dict:
    "What the run used: preset, dtype, levers, sizes."
    cfg = b.cfg
    return {"preset": cfg.preset, "dry": b.dry, "device": str(b.device), "inference_dtype": str(b.dtype),
            "compile": b.args.compile, "compile_mode": b.args.compile_mode, "compile_vae": b.args.compile_vae,
            "vae_channels_last": b.args.vae_channels_last,
            "cudnn_benchmark": b.args.cudnn_benchmark, "attn": b.args.attn, "batch": 1,
            "pixels": f"{cfg.world.width}x{cfg.world.height}x{cfg.world.num_frames}",
            "latents": [cfg.model.in_channels, cfg.latent_frames, *b.latent_hw],
            "tokens": cfg.latent_frames * b.tokens_per_frame, "tokens_per_frame": b.tokens_per_frame,
            "text_tokens": cfg.text.max_length, **extra}


# ----------------------------------------------------------------------------------------------- figures
def fig_attention(b: Bench) -> dict:
    """Self-attention alone, per SDPA kernel (PyTorch's own choice, flash, cuDNN, memory-efficient), bf16, at the two
    shapes that dominate: the teacher's full sequence (32,760 queries x 32,760 keys) and the last cached block of
    generation (4,680 x 32,760), with q/k/v contiguous as [B, H, S, D] ('bhsd') or as the [B, S, H, D] tensors
    transposed, the layout diffusers' attention passes ('bshd'). Attention is ~70% of a teacher forward's FLOPs at
    this size, so its kernel speed bounds the teacher's TFLOP/s (the teacher-forward and trajectory goals)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    cfg, dev = b.cfg, b.device
    heads, dim = cfg.model.num_attention_heads, cfg.model.attention_head_dim
    n_all = cfg.latent_frames * b.tokens_per_frame
    n_block = cfg.causal.frames_per_block * b.tokens_per_frame
    g = torch.Generator().manual_seed(5)
    base = [torch.randn(1, n_all, heads, dim, generator=g).to(dev, torch.bfloat16) for _ in range(3)]  # [1, N, 12, 128]
    shapes = {"teacher_full": n_all, "cached_last_block": n_block}
    kernels = {"default": None, "flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION,
               "efficient": SDPBackend.EFFICIENT_ATTENTION}
    layouts = {"bhsd": lambda z: z.transpose(1, 2).contiguous(), "bshd": lambda z: z.transpose(1, 2)}
    record = {"status": "running", "settings": settings(b, heads=heads, head_dim=dim, shapes=shapes), "derived": {}}
    for layout, arrange in layouts.items():
        k, v = arrange(base[1]), arrange(base[2])                               # [1, 12, N, 128]
        for shape, n_q in shapes.items():
            q = arrange(base[0][:, :n_q].contiguous())                          # [1, 12, n_q, 128]
            flops = 4.0 * heads * n_q * n_all * dim                             # QK^T and PV, 2 FLOPs per MAC
            for kernel, backend in kernels.items():
                tag = f"{shape}_{layout}_{kernel}"
                def attend() -> None:
                    with sdpa_kernel([backend]) if backend is not None else contextlib.nullcontext():
                        torch.nn.functional.scaled_dot_product_attention(q, k, v)
                try:
                    with torch.no_grad():
                        t = measure(b, "attention", attend, record, tag=tag)[f"{tag}_wall_s"]["median"]
                    record["derived"][f"{tag}_ms"] = 1e3 * t
                    record["derived"][f"{tag}_tflops_per_s"] = flops / t / 1e12
                except RuntimeError as e:                                       # a kernel that refuses the shape
                    record["derived"][f"{tag}_error"] = str(e).splitlines()[0][:200]
    record.update(memory=memory(dev), status="done")
    record["includes"] = "one torch.nn.functional.scaled_dot_product_attention call, no mask, bf16, no grad"
    record["excludes"] = "QKV projections, RoPE, the output projection"
    return record


def fig_generate(b: Bench) -> dict:
    "Causal generation of one video: 4 steps per block of 3 latent frames, KV cache, bf16; FPS and first-frame latency."
    cfg, dev, dt = b.cfg, b.device, b.dtype
    student = build_transformer(b, dt, compile_blocks=False).eval().requires_grad_(False)
    student = compile_student(b, make_causal(student, cfg.causal.frames_per_block))
    codec = build_vae_codec(b, dt)
    if b.args.vae_channels_last:              # before compiling: a compiled step keeps the weights' strides
        codec.channels_last()
    if b.args.compile_vae:                    # the library's switch: every decode path runs the compiled step
        codec.compile_decoder()
    text = text_embedding(b, dt)                                               # [1, L, D]
    fpb, (h, w), nb = cfg.causal.frames_per_block, b.latent_hw, cfg.num_blocks
    steps = student_timesteps(cfg)
    pixel_frames = codec.pixel_frames(cfg.latent_frames)
    record = {"status": "running", "settings": settings(b, steps=[round(float(s), 2) for s in steps],
                                                         frames_per_block=fpb, blocks=nb, vae_dtype=str(dt),
                                                         noise_generator=str(dev))}
    start_memory(b, record)

    def blocks(decode: Callable | None = None) -> Iterator[Any]:
        g = torch.Generator(device=dev).manual_seed(0)          # noise drawn on the device (no host copies)
        return stream(student, text, noise_blocks((1, cfg.model.in_channels, fpb, h, w), g, dev, dt), nb, steps,
                      cfg.causal.context_noise, g, decode=decode)

    def full() -> dict:
        t0 = time.perf_counter()
        latents = torch.cat(list(blocks()), dim=2)                            # [1, 16, 21, 60, 104]
        sync(dev)
        t1 = time.perf_counter()
        video = codec.decode(latents)                                         # [1, 3, 81, 480, 832]
        sync(dev)
        t2 = time.perf_counter()
        assert video.shape[2] == pixel_frames, video.shape
        return {"transformer_s": t1 - t0, "vae_decode_s": t2 - t1, "total_s": t2 - t0}

    def streamed(overlap: bool) -> Callable[[], dict]:
        def run() -> dict:
            decoder = StreamDecoder(codec, side_stream=overlap)
            t0 = time.perf_counter()
            for x0 in blocks():                                                # x0 [1, 16, 3, 60, 104]
                decoder.submit(x0)                                             # overlap: on a side CUDA stream
            video = decoder.collect()                                          # [1, 3, 81, 480, 832]
            sync(dev)
            t1 = time.perf_counter()
            assert video.shape[2] == pixel_frames, video.shape
            return {f"{'overlap' if overlap else 'stream'}_total_s": t1 - t0}
        return run

    def first() -> dict:
        marks: dict[str, float] = {}

        def decode(x0: Tensor) -> Tensor:                                     # x0 [1, 16, 3, 60, 104]
            sync(dev)
            marks["latents"] = time.perf_counter()
            return codec.decode(x0)                                           # [1, 3, 9, 480, 832]

        t0 = time.perf_counter()
        it = blocks(decode)
        pix = next(it)
        sync(dev)
        t1 = time.perf_counter()
        it.close()
        assert pix.shape[2] == codec.pixel_frames(fpb), pix.shape
        return {"first_block_latents_s": marks["latents"] - t0, "first_block_pixels_s": t1 - t0}

    with torch.no_grad():
        measure(b, "generate", full, record, tag="full")
        measure(b, "generate", first, record, tag="first_block")
        measure(b, "generate", streamed(False), record, tag="stream_decode")
        measure(b, "generate", streamed(True), record, tag="overlap_decode")
    flops = generation_flops(cfg, b.tokens_per_frame)
    if b.args.profile:                       # one more transformer-only generation, its kernels by kind
        record["profile"] = kernel_breakdown("generate", lambda: list(blocks()), dev, flops["parts"])
    t_tr, t_tot = med(record["timings"], "transformer_s"), med(record["timings"], "total_s")
    record["derived"] = {
        "fps_with_vae_decode": pixel_frames / t_tot, "fps_transformer_only": pixel_frames / t_tr,
        "first_frame_latency_s": med(record["timings"], "first_block_pixels_s"),
        "fps_stream_decode": pixel_frames / med(record["timings"], "stream_total_s"),
        "fps_overlap_decode": pixel_frames / med(record["timings"], "overlap_total_s"),
        "pixel_frames": pixel_frames, "transformer_forwards": flops["forwards"],
        "transformer_model_tflops": flops["total"] / 1e12,
        "transformer_achieved_tflops_per_s": flops["total"] / t_tr / 1e12}
    record["memory"] = memory(dev)
    record["includes"] = (
        "transformer_s: rf_nb.causal.stream over all blocks (per block: 4 denoising forwards with the KV cache, "
        "x0 re-noised with fresh noise, one clean-context forward writing the cache; text K/V projected once); "
        "vae_decode_s: WanVAECodec.decode of all 21 latents to 81 frames at 832x480 on the GPU; total_s = both. "
        "first_block_pixels_s: from the call of stream(..., decode=codec.decode) to the first block's 9 pixel "
        "frames (a causal VAE decodes the first block exactly on its own); first_block_latents_s: same, before "
        "the decode.")
    record["excludes"] = ("text encoding (UMT5; a random [1, 512, 4096] embedding is used), writing video files, "
                          "model loading; the KV cache is allocated inside every timed call (as stream does)")
    record["notes"] = ("stream_total_s: the same generation with rf_nb.codecs.StreamDecoder decoding each block as "
                       "it is produced (the VAE's causal cache kept across blocks; same frames as the whole-clip "
                       "decode); overlap_total_s: the same, each block's decode queued on a side CUDA stream "
                       "(StreamDecoder.submit) while the next block is generated, collected at the end. "
                       "FPS = pixel frames / median seconds.")
    record["status"] = "done"
    return record


def fig_teacher_forward(b: Bench) -> dict:
    "One bidirectional teacher forward at 21 latents (32,760 tokens), bf16, no grad; s and achieved TFLOP/s."
    cfg, dev, dt = b.cfg, b.device, b.dtype
    teacher = build_teacher_module(b, dt).eval().requires_grad_(False)
    h, w = b.latent_hw
    g = torch.Generator().manual_seed(3)
    x = torch.randn(1, cfg.model.in_channels, cfg.latent_frames, h, w, generator=g).to(dev, dt)   # [1, 16, 21, 60, 104]
    t = torch.full((1,), 500.0, device=dev)                                                       # [1]
    text = text_embedding(b, dt)                                                                  # [1, 512, 4096]
    record = {"status": "running", "settings": settings(b, params=count_parameters(teacher.transformer))}
    start_memory(b, record)
    def forward() -> None:
        teacher(x, t, text)                                                   # [1, 16, 21, 60, 104] velocity

    with torch.no_grad():
        timings = measure(b, "teacher_forward", forward, record)
    tokens = cfg.latent_frames * b.tokens_per_frame
    flops = wan_forward_flops(cfg.model, tokens, cfg.text.max_length)
    record.update(timings=timings, memory=memory(dev), status="done")
    record["derived"] = {"seconds": med(timings, "wall_s"), "model_tflops": flops["total"] / 1e12,
                         "achieved_tflops_per_s": flops["total"] / med(timings, "wall_s") / 1e12,
                         "flops_breakdown_tflops": {k: v / 1e12 for k, v in flops.items()}}
    if b.args.profile:                       # one more forward, its kernels by kind
        record["profile"] = kernel_breakdown("teacher_forward", forward, dev, flops)
    record["includes"] = ("rf_nb.teacher.Teacher.forward on a given text embedding: WanTransformer3DModel forward "
                          "(patch embed, time + text embedders, 30 blocks with full self-attention over all "
                          "tokens and cross-attention to 512 text tokens, output projection), batch 1, t = 500")
    record["excludes"] = "text encoding; CFG (one forward, one condition)"
    record["flops_method"] = wan_forward_flops.__doc__
    return record


def grad_ckpt_for(b: Bench, tc: Any) -> int:
    """Checkpointed transformer blocks: --grad-ckpt auto = the stage's `TrainConfig.checkpoint_blocks` (the wan
    preset: 15 of 30 blocks for the ODE step, none for the reward step), on = all, off = 0, or a number."""
    a = b.args.grad_ckpt
    if a == "auto":
        return int(tc.checkpoint_blocks or 0)
    if a == "on":
        return b.cfg.model.num_layers
    return 0 if a == "off" else int(a)


def train_setup(b: Bench, name: str, stage: str) -> tuple[Teacher, Any, dict]:
    """The student as the library makes it (`make_student` of a `Teacher`) and the stage's TrainConfig.
    --precision autocast: fp32 weights + the trainer's bf16 autocast (the preset); bf16: bf16 weights, no autocast."""
    tc = b.cfg.train[stage]
    if b.args.precision == "bf16":
        tc, weights = dataclasses.replace(tc, mixed_precision="no"), torch.bfloat16
    else:
        weights = torch.float32
    ckpt = grad_ckpt_for(b, tc)
    tc = dataclasses.replace(tc, checkpoint_blocks=ckpt)        # the Trainer applies it (set_block_checkpointing)
    teacher = build_teacher_module(b, weights, compile_blocks=False)
    student = compile_student(b, make_student(teacher, b.cfg))
    del teacher
    free(b.device)
    info = {"mixed_precision": tc.mixed_precision, "weights_dtype": str(weights), "optimizer": "AdamW",
            "lr": tc.lr, "betas": list(tc.betas), "weight_decay": tc.weight_decay, "grad_clip": tc.grad_clip,
            "ema_decay": tc.ema_decay, "checkpointed_blocks": ckpt, "blocks": b.cfg.model.num_layers,
            "trainable_params": sum(p.numel() for p in student.parameters() if p.requires_grad)}
    return student, tc, info


def make_trainer(b: Bench, student: Teacher, objective: Any, data: Callable, tc: Any, out: str) -> Trainer:
    return Trainer({"student": student}, ["student"], objective, data, tc, out, seed=0, resume=False,
                   disable_progress=True, cpu=b.device.type == "cpu", desc="bench")


def trainer_step(trainer: Trainer, record: dict) -> Callable[[], None]:
    "A callable running the trainer's next optimizer step; the last step's loss and gradient norm go to `record`."
    def step() -> None:
        out = trainer.train_step(trainer.step)
        trainer.step += 1
        record["last_step"] = {"step": trainer.step, "loss": out["loss"], "grad_norm": out["grad_norm"],
                               "logs": out["logs"]}
    return step


def time_train_steps(b: Bench, name: str, student: nn.Module, objective, data, tc, record: dict,
                     seed: int | None = None) -> float:
    "Time `name`'s trainer steps (in a temporary run folder); fills `record` (timings, memory); returns the median s."
    with tempfile.TemporaryDirectory() as out:
        trainer = make_trainer(b, student, objective, data, tc, out)
        record.setdefault("settings", {}).update(parallel=trainer.parallel, processes=trainer.world_size)
        start_memory(b, record)
        if seed is not None:
            torch.manual_seed(seed)                             # e.g. random exit steps that repeat run to run
        timings = measure(b, name, trainer_step(trainer, record), record)
    record.update(timings=timings, memory=memory(b.device), status="done")
    return med(timings, "wall_s")


def fig_ode_step(b: Bench) -> dict:
    "One ODE-regression training step (stage 1) through the one Trainer: 1 sample, 21 latents, AdamW."
    cfg, dev = b.cfg, b.device
    student, tc, info = train_setup(b, "ode_step", "ode")
    h, w = b.latent_hw
    keep = cfg.flow.keep_indices
    sig = teacher_sigmas(cfg.flow.teacher_steps, cfg.flow.teacher_shift)[list(keep)]           # [K], ends at 0
    g = torch.Generator().manual_seed(4)
    states = torch.randn(1, len(keep), cfg.model.in_channels, cfg.latent_frames, h, w, generator=g)
    batch = {"states": states.to(dev, torch.float16),       # [1, K, 16, 21, 60, 104], fp16 as the wan store keeps
             "sigmas": sig[None].to(dev), "text": text_embedding(b, torch.float32), "prompt": [PROMPT]}
    record = {"status": "running", "settings": settings(b, **info, batch_size=1, states_kept=len(keep))}
    s = time_train_steps(b, "ode_step", student, ODERegression(cfg), lambda i, rank, gen: batch, tc, record)
    tokens = cfg.latent_frames * b.tokens_per_frame
    pairs = block_causal_pairs(cfg.latent_frames, b.tokens_per_frame, cfg.causal.frames_per_block)
    fwd = wan_forward_flops(cfg.model, tokens, cfg.text.max_length, attn_pairs=pairs)["total"]
    record["derived"] = {"seconds_per_step": s, "samples_per_s": 1.0 / s, "model_tflops_fwd_bwd": 3 * fwd / 1e12,
                         "model_tflops_per_s": 3 * fwd / s / 1e12,
                         "hardware_tflops_per_s": (3 + info["checkpointed_blocks"] / info["blocks"]) * fwd / s / 1e12}
    record["includes"] = ("one Trainer.train_step: batch to device, ODERegression.loss (one state per block drawn "
                          "from K kept ODE states, one full-sequence block-causal forward with per-frame "
                          "timesteps: flex attention on CUDA, SDPA with a mask on CPU), backward, gradient clipping, "
                          "AdamW step, fp32 EMA update")
    record["excludes"] = "data loading (the batch is already on the device), text encoding, checkpoint writing"
    record["flops_method"] = ("model FLOPs = 3 x forward (wan_forward_flops with the block-causal pair count); "
                              "hardware FLOPs add the recomputed forward of each checkpointed block")
    return record


def fig_reward_step(b: Bench) -> dict:
    "One reward fine-tuning step (stage 2) through the one Trainer: rollout, decode the last frame, ImageReward."
    from rf_nb.rewards import ImageRewardModel
    cfg, dev = b.cfg, b.device
    student, tc, info = train_setup(b, "reward_step", "reward")
    codec = build_vae_codec(b, b.dtype)
    reward = ImageRewardModel.random(small=b.dry).to(dev)       # frozen; BLIP ViT-L/16 + BERT-base at full size
    grad_step: int | str = b.args.grad_step if b.args.grad_step == "random" else int(b.args.grad_step)
    objective = RewardFineTuning(cfg, reward, codec, frames="last", grad_step=grad_step)
    record = {"status": "running",
              "settings": settings(b, **info, batch_size=1, grad_step=grad_step, frames="last",
                                   vae_dtype=str(b.dtype), reward="ImageRewardModel.random(small=%s)" % b.dry,
                                   reward_params=count_parameters(reward), reward_input_px=224)}
    s = time_train_steps(b, "reward_step", student, objective, lambda i, rank, gen: {"prompt": [PROMPT]}, tc, record,
                         seed=5)
    record["derived"] = {"seconds_per_step": s, "samples_per_s": 1.0 / s}
    record["includes"] = ("one Trainer.train_step of RewardFineTuning(frames='last'): rf_nb.causal.rollout of all "
                          "blocks (each block denoises up to its exit step, drawn per block when grad_step='random'; "
                          "graph only at the exit step of the last block, grad_from_block=-1), "
                          "WanVAECodec.decode_frames of the last pixel frame (all 21 latents through the causal "
                          "decoder, gradient through the last latent's chunk), "
                          "ImageReward at 224 px, loss -r, backward, clipping, AdamW, fp32 EMA update")
    record["excludes"] = "text encoding (random embedding), periodic evaluation, checkpoint writing"
    record["notes"] = ("grad_step='random' (the library default) draws each block's exit step, so the number of "
                       "forwards varies between steps; pass --grad-step -1 for the 4-forward worst case")
    return record


def fig_trajectories(b: Bench) -> dict:
    "Teacher ODE trajectories per hour: `rf_nb.teacher.sample` (48 Euler steps, CFG 6), timed at 1 and K steps."
    cfg, dev, dt = b.cfg, b.device, b.dtype
    teacher = build_teacher_module(b, dt).eval().requires_grad_(False)
    k = b.args.traj_steps
    batch = cfg.trajectories.batch_size
    prompts = [PROMPT] * batch
    record = {"status": "running",
              "settings": settings(b, teacher_steps=cfg.flow.teacher_steps, guidance=cfg.flow.guidance_scale,
                                   teacher_shift=cfg.flow.teacher_shift, negative_prompt=cfg.flow.negative_prompt,
                                   cfg_batched=True, trajectory_batch=batch, timed_steps=[1, k])}
    # `sample` builds the codec only to read its spatial scale (8 for the Wan VAE); there are no VAE files on disk,
    # so it is handed a stand-in with that scale (nothing is loaded inside the timing).
    stand_in = SimpleNamespace(spatial_scale=8)
    start_memory(b, record)

    interval = b.args.guidance_interval          # also time unguided steps: a solve guided only inside it

    def run() -> dict:
        out = {}
        for label, guidance in (("", None), ("_unguided", 1.0)) if interval else (("", None),):
            for n in (1, k):
                sync(dev)
                t0 = time.perf_counter()
                sample(teacher, prompts, cfg, seed=0, steps=n, keep=(0, -1), guidance=guidance,
                       guidance_interval=(0.0, 1.0))
                sync(dev)
                out[f"sample_{n}_steps{label}_s"] = time.perf_counter() - t0
        return out

    with mock.patch.object(rf_nb.teacher, "build_codec", lambda *a, **kw: stand_in), torch.no_grad():
        timings = measure(b, "trajectories", run, record)
    t1, tk = med(timings, "sample_1_steps_s"), med(timings, f"sample_{k}_steps_s")
    per_step = (tk - t1) / (k - 1)
    overhead = max(t1 - per_step, 0.0)
    per_traj = (overhead + cfg.flow.teacher_steps * per_step) / batch
    tokens = cfg.latent_frames * b.tokens_per_frame
    flops_step = wan_forward_flops(cfg.model, tokens, cfg.text.max_length, batch=2 * batch)["total"]
    record.update(timings=timings, memory=memory(dev), status="done")
    record["derived"] = {"seconds_per_euler_step": per_step, "overhead_s_per_call": overhead,
                         "seconds_per_trajectory": per_traj, "trajectories_per_hour": 3600.0 / per_traj,
                         "achieved_tflops_per_s": flops_step / per_step / 1e12,
                         "extrapolated": f"from {k} timed steps: per step = (t_{k} - t_1) / {k - 1}, "
                                         f"trajectory = overhead + {cfg.flow.teacher_steps} x per step"}
    if interval:   # guidance in a limited interval (rf_nb.flow.guided_steps): guided steps cost per_step, others less
        steps = cfg.flow.teacher_steps
        n_guided = sum(guided_steps(teacher_sigmas(steps, cfg.flow.teacher_shift), interval))
        t1u, tku = med(timings, "sample_1_steps_unguided_s"), med(timings, f"sample_{k}_steps_unguided_s")
        per_step_u = (tku - t1u) / (k - 1)
        per_traj_iv = (overhead + n_guided * per_step + (steps - n_guided) * per_step_u) / batch
        record["derived"]["guidance_interval"] = {
            "interval": list(interval), "guided_steps": n_guided, "steps": steps,
            "seconds_per_unguided_step": per_step_u, "seconds_per_trajectory": per_traj_iv,
            "trajectories_per_hour": 3600.0 / per_traj_iv,
            "note": "a different sampler (CFG skipped outside the interval): its quality cost is "
                    "archive/bench/guidance_interval.py's, measured on the world"}
    record["includes"] = ("rf_nb.teacher.sample -> rf_nb.flow.solve: per Euler step one batched CFG forward "
                          "(cond + uncond concatenated: batch 2 per trajectory) at full sequence, guidance "
                          f"{cfg.flow.guidance_scale}; the stand-in text encoder's lookup; the kept-state copies")
    record["excludes"] = ("text encoding (UMT5), moving states to the CPU and writing shards "
                          "(rf_nb.trajectories.sample_trajectories); the 48-step run itself (extrapolated)")
    return record


RUNNERS: dict[str, Callable[[Bench], dict]] = {"attention": fig_attention, "generate": fig_generate,
                                               "teacher_forward": fig_teacher_forward, "ode_step": fig_ode_step,
                                               "reward_step": fig_reward_step, "trajectories": fig_trajectories}


# ----------------------------------------------------------------------------------------------- driver
def environment(device: torch.device) -> dict:
    "torch / diffusers / accelerate versions, GPU name, date, host, rf_nb commit."
    import accelerate
    import diffusers
    env = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "torch": torch.__version__,
           "diffusers": diffusers.__version__, "accelerate": accelerate.__version__,
           "python": platform.python_version(), "host": platform.node(), "cuda": torch.version.cuda,
           "device": str(device), "cpu_threads": torch.get_num_threads(), "command": " ".join(sys.argv)}
    if device.type == "cuda":
        p = torch.cuda.get_device_properties(device)
        env.update(gpu=p.name, gpu_memory_gib=round(p.total_memory / GIB, 2),
                   cudnn=torch.backends.cudnn.version())
    try:
        root = Path(__file__).resolve().parent.parent
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                             timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        env["rf_nb_commit"] = rev + ("+dirty" if dirty else "")
    except Exception:                                                   # not a git checkout: no commit to record
        env["rf_nb_commit"] = None
    return env


def load_results(path: str | None) -> dict:
    "The existing results file (figures measured earlier are kept), or a new one."
    import json
    if path and Path(path).is_file():
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
            if isinstance(d.get("figures"), dict):
                return d
        except (ValueError, AttributeError):
            pass
    return {"figures": {}}


def run_figure(b: Bench, name: str) -> None:
    "Run one figure; an error (e.g. out of memory) is recorded in the JSON with the peak memory, then the next runs."
    print(f"== {name}", flush=True)
    t0 = time.perf_counter()
    try:
        with levers(b.args):
            record = RUNNERS[name](b)
    except Exception as e:                                              # recorded, never silently dropped
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        record = {**b.results["figures"].get(name, {}), "status": "error",
                  "error": f"{type(e).__name__}: {first}"[:500],
                  "traceback_tail": traceback.format_exc().splitlines()[-6:], "memory": memory(b.device)}
        print(f"  [{name}] ERROR {record['error']}", flush=True)
    record["figure_seconds"] = round(time.perf_counter() - t0, 2)
    record["measured_at"] = b.results["environment"]["date"]
    b.put(name, record)
    if b.args.compile:
        import torch._dynamo
        torch._dynamo.reset()
    free(b.device)
    print(f"  [{name}] {record['status']} in {record['figure_seconds']:.1f} s: "
          + ", ".join(f"{k} {v:.4g}" for k, v in record.get("derived", {}).items()
                      if isinstance(v, (int, float))), flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("figure", choices=(*FIGURES, "all"), help="which figure; 'all' runs them in order")
    ap.add_argument("--preset", default="wan", help="config preset (default wan)")
    ap.add_argument("--dry", action="store_true", help="tiny same-class models (runs on CPU in seconds)")
    ap.add_argument("--out", default=None, help="results JSON (rewritten atomically; other figures kept)")
    ap.add_argument("--device", default="auto", help="auto (CUDA if present) | cpu | cuda")
    ap.add_argument("--reps", type=int, default=None, help="timed repeats (default per figure)")
    ap.add_argument("--warmup", type=int, default=None, help="untimed warm-up runs (default per figure)")
    ap.add_argument("--budget-s", type=float, default=None,
                    help="cut repeats once a figure's timed loop passes this many seconds (default 90; dry: none)")
    ap.add_argument("--compile", action="store_true", help="torch.compile the transformer blocks (off by default)")
    ap.add_argument("--compile-mode", default="default",
                    choices=("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"),
                    help="torch.compile mode of the block step with --compile (reduce-overhead: CUDA graphs)")
    ap.add_argument("--cudnn-benchmark", action="store_true", help="torch.backends.cudnn.benchmark = True (VAE convs)")
    ap.add_argument("--profile", action="store_true",
                    help="generate, teacher_forward: one more run under torch.profiler, kernel time by kind and "
                         "each kind's achieved TFLOP/s (bench/kernel_time.py)")
    ap.add_argument("--compile-vae", action="store_true",
                    help="generate: WanVAECodec.compile_decoder() (the per-latent-frame decode step, its\n"
                         "causal cache included)")
    ap.add_argument("--vae-channels-last", action="store_true",
                    help="generate: WanVAECodec.channels_last() (3-D convolutions in NDHWC, before any compile)")
    ap.add_argument("--attn", default="default", choices=("default", "flash", "efficient", "cudnn", "math"),
                    help="SDPA kernel for scaled_dot_product_attention calls (flex attention unaffected)")
    ap.add_argument("--grad-ckpt", default="auto",
                    help="checkpointed transformer blocks: auto (the preset's train.<stage>.checkpoint_blocks: 15 of 30\n"
                         "for ode_step, none for reward_step), on (all), off (none) or a number of leading blocks")
    ap.add_argument("--precision", default="autocast", choices=("autocast", "bf16"),
                    help="training: fp32 weights + bf16 autocast (the preset) or bf16 weights")
    ap.add_argument("--grad-step", default="random", help="reward_step exit step: random (library default) or 0..3/-1")
    ap.add_argument("--traj-steps", type=int, default=3, help="Euler steps timed for the trajectories figure (>= 2)")
    ap.add_argument("--guidance-interval", type=float, nargs=2, default=None, metavar=("LO", "HI"),
                    help="trajectories: also time unguided steps and report a solve guided only at sigma in "
                         "[LO, HI] (flow.guidance_interval; e.g. 0 0.92)")
    ap.add_argument("--set", dest="overrides", action="append", default=[], help="config override key=value")
    args = ap.parse_args(argv)
    if args.traj_steps < 2:
        ap.error("--traj-steps must be >= 2 (the per-step time is the difference of a 1-step and a K-step run)")
    if args.grad_step != "random":
        try:
            int(args.grad_step)
        except ValueError:
            ap.error(f"--grad-step {args.grad_step!r}: use random or a step index such as -1")
    if args.grad_ckpt not in ("auto", "on", "off") and not args.grad_ckpt.isdigit():
        ap.error(f"--grad-ckpt {args.grad_ckpt!r}: use auto, on, off or a number of blocks")
    if args.budget_s is None:
        args.budget_s = None if args.dry else 90.0
    return args


def main(argv: list[str] | None = None) -> int:
    from rf_nb.config import parse_cli_overrides, pick_dtype
    args = parse_args(argv)
    overrides = {**(DRY_OVERRIDES if args.dry else {}), **parse_cli_overrides(args.overrides)}
    cfg = load_preset(args.preset, overrides)
    device = pick_device(args.device)
    if args.dry and device.type == "cpu":
        torch.set_num_threads(min(2, os.cpu_count() or 1))
    results = load_results(args.out)
    results["environment"] = environment(device)
    b = Bench(cfg, device, pick_dtype(device, "auto"), args, results)
    b.save()
    names = FIGURES if args.figure == "all" else (args.figure,)
    t0 = time.perf_counter()
    for name in names:
        run_figure(b, name)
    results["environment"]["total_seconds"] = round(time.perf_counter() - t0, 2)
    b.save()
    failed = [n for n in names if results["figures"][n].get("status") != "done"]
    print(f"done in {time.perf_counter() - t0:.1f} s" + (f"; failed: {failed}" if failed else "")
          + (f"; results in {args.out}" if args.out else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
