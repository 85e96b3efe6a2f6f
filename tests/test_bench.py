"""The multi-GPU benchmark script (issue 10) runs end to end: tiny models of the Wan classes, 2 CPU processes, FSDP.
It is what a session with several GPUs runs in one call; this keeps it from rotting where no GPU is lent."""
import json
import math
import subprocess
import sys

import pytest

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
    """bench/gpu_share.py (issue 9): DMD steps/s of P processes sharing a device, eager and compiled with batched
    critic rollouts (here with the 'eager' backend: Dynamo tracing without inductor's minutes of CPU compiling);
    whole generator cycles; an unknown variant is refused before anything runs."""
    out = tmp_path / "share.json"
    bad = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu_share.py"), "--dry", "--models", "eager,fast",
                          "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2 and "unknown --models ['fast']" in bad.stderr and not out.exists()
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu_share.py"), "--dry", "--procs", "1", "--mps",
                        "--models", "eager,compiled_per_cycle", "--compile-backend", "eager", "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=600,
                       env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})     # no nvidia-cuda-mps-control here
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    record = json.loads(out.read_text())
    assert record["preset"] == "tiny" and record["mps"].startswith("unavailable")
    eager, compiled = record["runs"]
    assert [(r["procs"], r["ok"], r["mps"], r["compiled"], r["critic_rollouts"]) for r in (eager, compiled)] == [
        (1, 1, False, False, "per_step"), (1, 1, False, True, "per_cycle")]
    for run in (eager, compiled):
        (w,) = run["workers"]
        assert w["steps"] % 5 == 0 and w["steps"] > 0 and w["steps_per_s"] == run["total_steps_per_s"] > 0


def test_dmd_step_profile_times_every_phase_of_both_step_kinds(tmp_path):
    """bench/dmd_step.py (issue 9): the phases of DMD's critic-only and generator steps, timed around the library's
    own functions; the generator loss (teacher and critic forwards) only in generator steps; the wrappers removed."""
    out = tmp_path / "dmd.json"
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "dmd_step.py"), "--preset", "tiny", "--steps", "5",
                        "--warmup", "0", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    r = json.loads(out.read_text())
    assert (r["critic_only"]["steps"], r["generator"]["steps"]) == (4, 1)
    base = {"rollout", "critic_loss", "other", "backward", "optimizer"}
    assert set(r["critic_only"]["mean_s"]) == base
    assert set(r["generator"]["mean_s"]) == base | {"generator_loss"}
    assert all(v > 0 for kind in ("critic_only", "generator") for v in r[kind]["mean_s"].values())
    assert abs(sum(r["per_cycle"]["share"].values()) - 1) < 0.01 and r["per_cycle"]["generator_every"] == 5


def test_wan_scale_bench_dry_all(tmp_path):
    """bench/wan_scale.py (issue 9's one-GPU figures) runs every figure with tiny models of the Wan classes on the
    CPU (~10 s); bench/multi_gpu.py reuses its figures, so a change to them shows here first."""
    out = tmp_path / "ws.json"
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "wan_scale.py"), "all", "--dry", "--reps", "1",
                        "--warmup", "0", "--vae-channels-last", "--profile", "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    figs = json.loads(out.read_text())["figures"]
    assert {k: v["status"] for k, v in figs.items()} == {k: "done" for k in (
        "attention", "teacher_forward", "generate", "trajectories", "ode_step", "reward_step")}
    gen = figs["generate"]
    assert (gen["settings"]["compile"], gen["settings"]["compile_vae"], gen["settings"]["vae_channels_last"]) == (
        False, False, True)
    assert gen["derived"]["fps_with_vae_decode"] < gen["derived"]["fps_transformer_only"]   # decode costs time
    for fig in (gen, figs["teacher_forward"]):      # --profile: kernel time by kind (on the CPU, aten self time)
        prof = fig["profile"]
        assert prof["by_kind_s"]["attention"] > 0 and prof["by_kind_s"]["gemm"] > 0
        assert set(prof["achieved_tflops_per_s_by_kind"]) == {"attention", "gemm"}
        assert 0 < prof["flops_by_kind"]["attention"] < prof["flops_by_kind"]["gemm"]   # tiny models
    assert "guidance_interval" not in figs["trajectories"]["derived"]                        # only when asked for


def test_wan_scale_trajectories_with_a_guidance_interval(tmp_path):
    """`trajectories --guidance-interval LO HI` also times unguided steps and reports the interval's solve, with
    fewer guided steps than the solve has (tiny CPU models: the timings themselves say nothing here)."""
    out = tmp_path / "tr.json"
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "wan_scale.py"), "trajectories", "--dry", "--reps", "1",
                        "--warmup", "0", "--guidance-interval", "0", "0.92", "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    tr = json.loads(out.read_text())["figures"]["trajectories"]
    iv = tr["derived"]["guidance_interval"]
    assert iv["interval"] == [0.0, 0.92] and 0 < iv["guided_steps"] < iv["steps"]
    assert set(tr["timings"]) >= {"sample_1_steps_unguided_s", "sample_3_steps_unguided_s"}
    assert all(math.isfinite(iv[k]) for k in ("seconds_per_unguided_step", "seconds_per_trajectory"))


def test_wan_scale_budget_counts_the_timed_repeats_not_the_warm_up():
    """--budget-s cuts repeats of the timed loop only: a slow warm-up (compiling) must not leave one timed run where
    three were asked for (what happened to the 2026-12-06 compiled-decode row, warm-up 94 s > budget 40 s)."""
    import time
    from types import SimpleNamespace

    import torch
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from wan_scale import measure
    finally:
        sys.path.remove(str(ROOT / "bench"))
    calls = []

    def fn():
        time.sleep(0.4 if not calls else 0.01)            # the first call (the warm-up) is the slow compile
        calls.append(1)

    b = SimpleNamespace(args=SimpleNamespace(warmup=1, reps=3, budget_s=0.2), device=torch.device("cpu"),
                        put=lambda name, record: None)
    record: dict = {}
    measure(b, "generate", fn, record)
    assert record["reps"]["main"] == {"planned": 3, "done": 3, "warmup": 1}
    b.args.budget_s = 0.015                               # a budget one timed run already passes: one run, not 0
    record = {}
    measure(b, "generate", lambda: (time.sleep(0.02), None)[1], record)
    assert record["reps"]["main"]["done"] == 1


def test_floor_counts_the_library_code_on_meta_tensors(tmp_path):
    """bench/floor.py (issue 9's floor): the library's generation, teacher forward and VAE decode run on meta tensors;
    their counted FLOPs agree with the analytic count (the generation and teacher: the analytic leaves out the
    per-frame time MLP, a few % at this tiny width, ~1e-6 at the wan size) and with the decode's FLOPs counted on real
    tensors by bench/vae_decode.py; every attention call is seen; floors come out for both cards."""
    import torch
    out = tmp_path / "floor.json"
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "floor.py"), "--dry", "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    r = json.loads(out.read_text())
    gen, teacher, vae = (r["counted"][k] for k in ("generate", "teacher_forward", "vae_decode"))
    layers = 2                                                         # DRY_OVERRIDES
    assert gen["attention_calls"] == gen["forwards"] * layers * 2     # self- and cross-attention per layer
    assert teacher["attention_calls"] == layers * 2
    for c in (gen, teacher):
        assert abs(c["flops"] / c["analytic_flops"] - 1) < 0.05 and c["flops"] > c["analytic_flops"]
        assert 0 < c["unavoidable_bytes"] < c["op_by_op_bytes"]
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from vae_decode import build_codec, decode_flops
    finally:
        sys.path.remove(str(ROOT / "bench"))
    codec = build_codec(torch.device("cpu"), torch.float32, dry=True)
    assert vae["latents"] == [1, 16, 6, 4, 4] and vae["pixel_frames"] == 21
    meta_matmuls = vae["flops"] - vae["flops_by_kind"]["attention"]    # real CPU SDPA is not counted by the counter
    assert meta_matmuls == decode_flops(codec, torch.randn(*vae["latents"]))   # meta counts what real tensors count
    for card in ("H100", "H200"):
        f = r["floors"][card]["generate"]
        assert f["floor_s"] == max(f["compute_s"], f["memory_s"]) > 0
        d = r["derived"][card]["generation_with_decode"]
        assert d["fps_ceiling"] == pytest.approx(21 / (f["floor_s"] + r["floors"][card]["vae_decode"]["floor_s"]))


def test_vae_decode_bench_dry(tmp_path):
    """bench/vae_decode.py (issue 9): the Wan VAE decode per variant (here a tiny VAE of the same class on the CPU,
    eager and channels_last; the frames themselves are compared in 03_codecs); kernels sorted into kinds by name;
    an unknown variant is refused before anything runs."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from kernel_time import kernel_kind
    finally:
        sys.path.remove(str(ROOT / "bench"))
    assert kernel_kind("sm90_xmma_fprop_implicit_gemm_bf16bf16_bf16f32_f32_ndhwc") == "conv"
    assert kernel_kind("void cudnn::ops::nchwToNhwcKernel<__nv_bfloat16>") == "layout"
    assert kernel_kind("triton_poi_fused_cat_silu_0") == "triton"
    assert kernel_kind("triton_poi_fused_constant_pad_nd_convolution_mul_silu_4") == "triton"   # fused around a conv
    assert kernel_kind("void at::native::elementwise_kernel<128, 2>") == "other"
    # attention before conv (cuDNN's attention says fprop) and before gemm (CUTLASS's attention says cutlass)
    assert kernel_kind("cudnn_generated_fort_native_sdpa_sm90_flash_fprop_wgmma_f16_knob_7_64x128x128") == "attention"
    assert kernel_kind("void pytorch_flash::flash_fwd_kernel<Flash_fwd_kernel_traits<128, 128>>") == "attention"
    assert kernel_kind("fmha_cutlassF_bf16_aligned_64x128_rf_sm80") == "attention"
    assert kernel_kind("sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x256x64_warpgroupsize2x1x1") == "gemm"
    assert kernel_kind("nvjet_tst_192x192_64x4_2x1_v_bz_coopB_TNT") == "gemm"
    assert kernel_kind("aten::addmm") == "gemm" and kernel_kind("aten::mkldnn_convolution") == "conv"   # CPU ops
    out = tmp_path / "vae.json"
    script = [sys.executable, str(ROOT / "bench" / "vae_decode.py"), "--dry", "--latents", "5", "--reps", "2"]
    bad = subprocess.run(script + ["--variants", "eager,fast", "--out", str(out)], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert bad.returncode == 2 and "unknown --variants ['fast']" in bad.stderr and not out.exists()
    p = subprocess.run(script + ["--variants", "eager,channels_last", "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r["pixel_frames"] == 17 and r["latents"] == [1, 16, 5, 4, 4] and r["flops"] > 0
    for v in ("eager", "channels_last"):
        assert len(r["variants"][v]["times_s"]) == 2 and r["variants"][v]["decode_s"] > 0
        assert r["variants"][v]["profile"]["by_kind_s"]["conv"] > 0          # the CPU profile: aten ops by kind
