"""rf_nb's own ImageReward network (`rf_nb.rewards.ImageRewardNet`, loaded by `ImageRewardModel.from_local`)
against the `image-reward` package's model, on the same random `ImageReward.pt`.

The package lives only in a separate environment, `.venv-imagereward` (`make imagereward-ref-env`, pins in
constraints-imagereward.txt); `tests/imagereward_reference.py` runs there as a subprocess and writes the package's
scores, preprocessed pixels, token ids and pixel gradients to a safetensors file. Here the same files are loaded by
`from_local` and everything is compared: state-dict keys (the package model's keys are exactly ours), token ids
(exactly equal), preprocessed pixels, scores (the package's own PIL `score()` and its tensor path `score_gard`),
and the gradients of the scores with respect to the pixels and to the frames. Without the reference environment
the tests skip, saying how to build it. Override its interpreter with RF_NB_IMAGEREWARD_PY.

Frames are world renders at 224x224 quantised to uint8 levels (the PIL image holds exactly our pixels, so the
package's resize is a no-op); prompts include a truncated one (over 35 tokens), capitals and punctuation.
Measured on the shared 2-core CPU (2026-12-07), the package on torch 2.14.1 + transformers 4.55.4 in the reference
environment, ours on torch 2.14.1 with transformers 4.55.4 and with 5.25.0 (the same figures; only the tokenizer
comes from transformers): small random model (ViT and BERT 64 wide, 4 frames): scores max |diff|
1.2e-6, pixel gradients max |diff| / max |grad| 6.7e-7, frame gradients 6.5e-7, preprocessed pixels 1.2e-7; full
size (ViT-L/16 + BERT-base, 446.7M parameters, 2 frames, `RF_NB_FLAGS=slow`, 1 min 45 s): scores 4.8e-7, pixel
gradients 1.4e-6, frame gradients 1.3e-6.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from conftest import FLAGS, ROOT

REF_PY = Path(os.environ.get("RF_NB_IMAGEREWARD_PY", ROOT / ".venv-imagereward" / "bin" / "python"))
HELPER = Path(__file__).with_name("imagereward_reference.py")
pytestmark = pytest.mark.skipif(not REF_PY.is_file(), reason=f"no ImageReward reference environment ({REF_PY}): "
                                "build it with `make imagereward-ref-env`")
# (max |score diff|, max |grad diff| / max |grad|) allowed, per size
_TOL = {"small": (1e-5, 1e-4), "full": (1e-4, 1e-3)}


def _frames(n: int, seed: int = 0) -> tuple[torch.Tensor, list[str]]:
    "`n` world frames at 224x224 as uint8 [n, 3, 224, 224], and prompts (one truncated, one with capitals)."
    from rf_nb.world import render, sample_prompts
    specs = sample_prompts(n, seed=seed)
    frames = torch.stack([render(s, 224, 224, num_frames=2, seed=i)[0][:, -1] for i, s in enumerate(specs)])
    prompts = [s.text for s in specs]
    prompts[0] = " ".join([prompts[0]] * 4)                                    # > 35 tokens: truncated
    if n > 1:
        prompts[1] = prompts[1].upper() + ", OVER A GRID."
    return ((frames / 2 + 0.5) * 255).round().clamp(0, 255).to(torch.uint8), prompts


def _reference(model_dir: Path, frames: torch.Tensor, prompts: list[str], tmp: Path) -> tuple[dict, dict]:
    save_file({"frames": frames.contiguous()}, str(tmp / "frames.safetensors"))
    (tmp / "prompts.json").write_text(json.dumps(prompts))
    out = tmp / "reference.safetensors"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONNOUSERSITE="1")
    proc = subprocess.run([str(REF_PY), str(HELPER), str(model_dir), str(tmp / "frames.safetensors"),
                           str(tmp / "prompts.json"), str(out)], capture_output=True, text=True, env=env,
                          timeout=1800, cwd=tmp)
    assert proc.returncode == 0, f"the reference run failed:\n{proc.stderr[-4000:]}"
    return load_file(str(out)), json.loads(out.with_suffix(".json").read_text())


def _compare(tmp_path: Path, small: bool, seed: int, n: int) -> dict:
    from rf_nb.rewards import CLIP_STD, ImageRewardModel, save_random_imagereward
    save_random_imagereward(tmp_path / "ir", seed=seed, small=small)
    model = ImageRewardModel.from_local(tmp_path / "ir", device="cpu")
    frames_u8, prompts = _frames(n, seed)
    ref, meta = _reference(tmp_path / "ir", frames_u8, prompts, tmp_path)
    # the same network: the package's model has exactly our keys, and the file loads into it without gaps
    assert meta["missing"] == [] and meta["unexpected"] == [], meta
    assert meta["state_keys"] == sorted(model.net.state_dict()), set(meta["state_keys"]) ^ set(model.net.state_dict())
    # the same tokens and pixels
    ids, mask = model.tokenize(prompts)
    assert torch.equal(ids, ref["ids"]) and torch.equal(mask, ref["mask"]), (ids, ref["ids"])
    assert int(mask[0].sum()) == 35                                             # the long prompt was truncated
    frames = frames_u8.float() / 127.5 - 1
    pix_diff = float((model.preprocess(frames) - ref["pixels"]).abs().max())
    # the same scores
    with torch.no_grad():
        scores = model(frames, prompts)
    score_diff = max(float((scores - ref["scores_pil"]).abs().max()), float((scores - ref["scores"]).abs().max()))
    # the same gradients: with respect to the pixels, and to the frames (x -> (x/2 + 1/2 - mean)/std at 224; the
    # [0, 1] clamp passes no gradient at exactly 0 or 255, so those pixels get none)
    px = ref["pixels"].clone().requires_grad_(True)
    model.score_pixels(px, ids, mask).sum().backward()
    grad_diff = float((px.grad - ref["grad"]).abs().max() / ref["grad"].abs().max())
    fr = frames.clone().requires_grad_(True)
    model(fr, prompts).sum().backward()
    inside = (frames_u8 > 0) & (frames_u8 < 255)
    expect = ref["grad"] * 0.5 / torch.tensor(CLIP_STD).view(1, 3, 1, 1) * inside
    frame_diff = float((fr.grad - expect).abs().max() / expect.abs().max())
    out = {"size": "small" if small else "full", "n": n, "scores": [round(float(s), 4) for s in scores],
           "score_diff": score_diff, "pixel_diff": pix_diff, "grad_rel_diff": grad_diff,
           "frame_grad_rel_diff": frame_diff, "reference": meta["versions"], "torch": torch.__version__}
    print(out)
    score_tol, grad_tol = _TOL[out["size"]]
    assert pix_diff < 1e-5, out
    assert score_diff < score_tol and grad_diff < grad_tol and frame_diff < grad_tol, out
    assert float(scores.max() - scores.min()) > 0.05, out                   # not trivially equal
    return out


def test_small_random_imagereward_matches_package(tmp_path):
    _compare(tmp_path, small=True, seed=5, n=4)


@pytest.mark.slow
@pytest.mark.skipif("slow" not in FLAGS, reason="full-size ImageReward (1.8 GB, ~2 min on CPU): RF_NB_FLAGS=slow")
def test_full_size_random_imagereward_matches_package(tmp_path):
    _compare(tmp_path, small=False, seed=1, n=2)
