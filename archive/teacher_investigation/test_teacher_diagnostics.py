"""The issue-3 teacher experiments run end to end at toy size: the absolute-position A/B driver (which trains, saves,
samples and runs the diffusion-classifier test for each arm) and the memorisation check with `--abs-pos`. These are
what a session reruns on a GPU; this keeps them from rotting where none is lent. No figure is checked here."""
import json
import subprocess
import tarfile
import sys

from safetensors import safe_open

from conftest import ROOT


def _run(args: list[str]) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return p


def test_abs_pos_ab_driver_toy(tmp_path):
    _run(["archive/teacher_investigation/teacher_abs_pos.py", "--preset", "tiny", "--arms", "none", "grid", "--steps", "2", "--batch", "4",
          "--n-clips", "16", "--n-eval", "2", "--sens-prompts", "1", "--loss-clips", "2", "--out", str(tmp_path),
          "--set", "flow.teacher_steps=4", "--set", "flow.keep_indices=[0,-1]"])
    rows = json.loads((tmp_path / "summary.json").read_text())["arms"]
    assert [r["arm"] for r in rows] == ["none", "grid"]
    for r in rows:
        assert set(r["diffusion_classifier_accuracy"]) == {"direction", "shape", "color", "texture", "scene"}
        assert all(v > 0 for v in r["heldout_flow_loss"].values())
    keys = {arm: set(safe_open(str(tmp_path / arm / "teacher.safetensors"), "pt").keys()) for arm in ("none", "grid")}
    assert "transformer.patch_embedding.rf_positions.grid" in keys["grid"] - keys["none"]
    assert not any("rf_positions" in k for k in keys["none"])


def test_memorise_with_abs_pos_toy(tmp_path):
    out = tmp_path / "mem.json"
    _run(["archive/teacher_investigation/teacher_memorise.py", "--preset", "tiny", "--steps", "2", "--every", "2", "--abs-pos", "factorised",
          "--sample-steps", "2", "--out", str(out)])
    rec = json.loads(out.read_text())
    assert rec["abs_pos"] == "factorised" and [e["step"] for e in rec["evaluations"]] == [2]
    assert "--abs-pos factorised" in rec["command"]


def test_memorise_with_random_starts_toy(tmp_path):
    "--renders: several renders per direction (the object starts elsewhere in each) and several draws per prompt."
    out = tmp_path / "mem.json"
    _run(["archive/teacher_investigation/teacher_memorise.py", "--preset", "tiny", "--steps", "2", "--every", "2", "--renders", "3",
          "--draws", "2", "--batch", "4", "--sample-steps", "2", "--out", str(out)])
    rec = json.loads(out.read_text())
    assert rec["renders_per_direction"] == 3 and rec["draws"] == 2
    assert set(rec["final"]) >= {"samples_guidance_1", "one_step_sigma_0.8"}
    assert set(rec["evaluations"][0]["track"]) == {"net_px", "path_px", "straightness", "tracked", "clips",
                                                  "axis_acc", "sense_acc"}


def test_object_track_tells_travel_from_jitter():
    """The memorisation check's trajectory measure on true renders: straight travel, on the prompted axis and sense;
    the same frames shuffled: jitter; played backwards: the axis without the sense; no object: nothing tracked."""
    import torch
    sys.path.insert(0, str(ROOT / "scripts"))
    from teacher_memorise import DIRECTIONS, object_track, prompted_directions
    from rf_nb.config import load_preset
    from rf_nb.teacher import render_specs
    from rf_nb.world import COLORS, parse_prompt
    specs = [parse_prompt(f"a red striped square moves quickly {d} over a gray grid") for d in DIRECTIONS]
    clips = render_specs(specs, load_preset("tiny"), seed=5)                       # [4, 3, 12, 32, 32]
    true = object_track(clips, COLORS["red"])
    shuffled = object_track(clips[:, :, torch.randperm(clips.shape[2], generator=torch.Generator().manual_seed(0))],
                            COLORS["red"])
    still = object_track(clips[:, :, :1].expand_as(clips), COLORS["red"])
    assert true["tracked"] == 4 and true["straightness"] > 0.9 and true["net_px"] > 8, true
    assert shuffled["straightness"] < 0.3 and shuffled["path_px"] > 2 * true["path_px"], shuffled
    assert still["net_px"] == 0 and still["path_px"] == 0, still
    assert object_track(clips, COLORS["blue"])["tracked"] == 0                   # no blue object: nothing to track
    want = prompted_directions(specs)                                              # left, right, up, down
    fwd, back = object_track(clips, COLORS["red"], want), object_track(clips.flip(2), COLORS["red"], want)
    assert (fwd["axis_acc"], fwd["sense_acc"]) == (1.0, 1.0), fwd                   # the renders go where they say
    assert (back["axis_acc"], back["sense_acc"]) == (1.0, 0.0), back                # played backwards: axis, no sense
    swapped = object_track(clips, COLORS["red"], want[[2, 3, 0, 1]])               # horizontal prompts, vertical motion
    assert swapped["axis_acc"] == 0.0 and swapped["sense_acc"] == 0.0, swapped


def test_motion_figures_read_the_full_worlds_directions():
    """teacher_motion_track.py's measure on true renders of held-out single-object prompts (all 8 directions, every
    scene): the prompted direction; played backwards, the line without the direction; shuffled frames: jitter."""
    import torch
    sys.path.insert(0, str(ROOT / "scripts"))
    from teacher_motion_track import OPPOSITE, UNIT, motion_figures
    from teacher_text_sensitivity import single_moving_prompts
    from rf_nb.config import load_preset
    from rf_nb.teacher import render_specs
    assert torch.allclose(UNIT[OPPOSITE], -UNIT)                                  # the reverse of each direction
    cfg = load_preset("tiny")
    specs = single_moving_prompts(16, "heldout", 0, cfg)
    clips = render_specs(specs, cfg)                                               # [16, 3, 12, 32, 32]
    fwd, readable = motion_figures(clips, specs)
    assert readable.sum() >= 12, readable                                          # most scenes hide no object
    fwd, _ = motion_figures(clips, specs, readable)
    back, _ = motion_figures(clips.flip(2), specs, readable)
    perm = torch.randperm(clips.shape[2], generator=torch.Generator().manual_seed(0))
    shuffled, _ = motion_figures(clips[:, :, perm], specs, readable)
    assert (fwd["direction_acc"], fwd["line_acc"], fwd["tracked"]) == (1.0, 1.0, 1.0), fwd
    assert (back["direction_acc"], back["line_acc"]) == (0.0, 1.0), back
    assert shuffled["straightness"] < 0.5 * fwd["straightness"], (shuffled, fwd)


# moved from tests/test_gpu_scripts.py with the investigation (needs its imports there)
def test_memorise_gpu_script_runs_both_arms_and_packs(tmp_path):
    "teacher_memorise_gpu.sh with a stub `python3`: both templates run; their JSON and logs come back in one tgz."
    import tarfile
    stub = tmp_path / "bin" / "python3"
    stub.parent.mkdir()
    stub.write_text('#!/bin/bash\nall="$*"; while [ $# -gt 0 ]; do [ "$1" = --out ] && echo "{\\"args\\": \\"$all\\"}" > "$2"; '
                    '[ "$1" = --object ] && echo "object: $2"; shift; done\n')
    stub.chmod(0o755)
    env = {"PATH": f"{stub.parent}:/usr/bin:/bin", "OUT": str(tmp_path / "out"), "WORK": str(tmp_path / "work")}
    out = subprocess.run(["bash", "archive/teacher_investigation/teacher_memorise_gpu.sh", "12", "4"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    with tarfile.open(tmp_path / "out" / "teacher_memorise_gpu.tgz") as tgz:
        names = sorted(n.lstrip("./") for n in tgz.getnames() if n not in (".", "./"))
    assert names == ["quickly.log", "slowly.log", "teacher_memorise_tiny_gpu_12_quickly.json",
                     "teacher_memorise_tiny_gpu_12_slowly.json"], names
    assert "moves quickly {d}" in (tmp_path / "work" / "quickly.log").read_text()
    # the follow-up form: one template, learned absolute positions, named apart
    env |= {"SPEEDS": "quickly", "ABS_POS": "factorised", "WORK": str(tmp_path / "w2")}
    out = subprocess.run(["bash", "archive/teacher_investigation/teacher_memorise_gpu.sh", "8", "8"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    args = json.loads((tmp_path / "w2" / "teacher_memorise_tiny_gpu_8_quickly_factorised.json").read_text())["args"]
    assert "--abs-pos factorised" in args and not (tmp_path / "w2" / "slowly.log").exists(), args


