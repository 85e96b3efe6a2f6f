"""Where a GPU workload's time goes, by kernel kind (issue 9: "compute the floor ... report achieved TFLOP/s").

`profile_kernels(fn, device)` runs `fn` once under `torch.profiler` and sums each kernel's own time by `kernel_kind`:
attention (SDPA's flash / cuDNN / memory-efficient kernels, flex), gemm (cuBLAS / CUTLASS matrix multiplies),
conv (cuDNN convolutions), layout (cuDNN's NCDHW <-> NDHWC transposes), triton (kernels Inductor generated), other.
On the CPU it sums the self time of the leaf `aten::` operators by the same kinds, so `--dry` runs of the bench
scripts exercise it too. Used by `bench/vae_decode.py` and `bench/wan_scale.py --profile`."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

import torch

KINDS = ("attention", "gemm", "conv", "layout", "triton", "other")
_ATTENTION = ("sdpa", "flash", "fmha", "attention", "attn")
_LAYOUT = ("nchwtonhwc", "nhwctonchw", "transpose")
_CONV = ("conv", "fprop", "implicit_gemm", "dgrad", "wgrad")
_GEMM = ("gemm", "nvjet", "cutlass", "xmma", "aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm",
         "aten::_addmm_activation")


def kernel_kind(name: str) -> str:
    """The kind (one of `KINDS`) of a CUDA kernel or CPU operator, from its name. Order matters: Inductor names a
    Triton kernel after the ops it fuses (`triton_poi_fused_..._convolution_...` is element-wise work around a
    convolution), cuDNN's attention kernels say `fprop` as its convolutions do, and a convolution kernel is an
    implicit GEMM."""
    n = name.lower()
    if n.startswith("triton"):
        return "attention" if "flex" in n else "triton"
    if any(k in n for k in _ATTENTION):
        return "attention"
    if any(k in n for k in _LAYOUT):
        return "layout"
    if any(k in n for k in _CONV) or (n.startswith("void cudnn") and "gemm" not in n):
        return "conv"
    if any(k in n for k in _GEMM):
        return "gemm"
    return "other"


def profile_kernels(fn: Callable[[], Any], device: torch.device, top: int = 12) -> dict:
    """Run `fn` once under the profiler; kernel seconds by kind, each kind's share and the `top` kernels. On CUDA the
    device time of every kernel; on the CPU the self time of the `aten::` operators (nested ones counted once)."""
    from torch.profiler import ProfilerActivity, profile
    cuda = device.type == "cuda"
    with profile(activities=[ProfilerActivity.CUDA if cuda else ProfilerActivity.CPU]) as prof, torch.no_grad():
        fn()
        if cuda:
            torch.cuda.synchronize()
    by_kind: dict[str, float] = defaultdict(float)
    kernels = []
    for e in prof.key_averages():
        if cuda:
            t = getattr(e, "self_device_time_total", None) or getattr(e, "self_cuda_time_total", 0.0)
        else:
            t = e.self_cpu_time_total if e.key.startswith("aten::") else 0.0
        if t <= 0:
            continue
        by_kind[kernel_kind(e.key)] += t / 1e6                                     # us -> s
        kernels.append((t / 1e6, e.count, e.key[:140]))
    total = sum(by_kind.values())
    kernels.sort(reverse=True)
    return {"clock": "cuda kernels" if cuda else "cpu aten self time", "kernel_s": round(total, 4),
            "by_kind_s": {k: round(v, 4) for k, v in by_kind.items()},
            "by_kind_share": {k: round(v / total, 3) for k, v in by_kind.items()} if total else {},
            "top": [{"s": round(t, 4), "calls": c, "name": n} for t, c, n in kernels[:top]]}


def achieved_tflops(profile: dict, flops_by_kind: dict[str, float]) -> dict[str, float]:
    "TFLOP/s of each kind's kernels: its counted FLOPs over its profiled seconds (kinds with both only)."
    secs = profile.get("by_kind_s", {})
    return {k: round(f / secs[k] / 1e12, 1) for k, f in flops_by_kind.items() if secs.get(k, 0) > 0 and f > 0}
