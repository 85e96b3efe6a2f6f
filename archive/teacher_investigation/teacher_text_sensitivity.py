"""Issue 3 diagnostic: does the teacher's denoiser use each attribute of the prompt?

The shipped teachers draw color and scene but shape and motion direction at chance (README). Two explanations
differ in where the knowledge is lost: the denoiser never learned to use the shape/direction words, or it uses them
but sampling from noise does not turn that into the drawn shape/motion. This asks the denoiser itself, with no
sampler: each ground-truth clip is noised to a few levels sigma, and its flow-matching loss is computed under the
true prompt and under every prompt that differs from it in exactly one attribute (the other directions, shapes,
colors, textures, scenes), with the same noise. The attribute is "used" when the true prompt gives the lowest loss
(a diffusion classifier); chance is one over the number of choices. The mean relative loss increase of the wrong
prompts says how much the attribute matters to the loss the teacher was trained on.

What a word could be worth at all is measured beside it with no model (`--oracle`): near sigma = 1 the
loss-minimising prediction is the mean clip of the prompt, E[x0 | prompt] (start positions and everything else the
prompt leaves open averaged out). The mean of many renders of the true prompt and of each one-attribute variant is
scored against fresh renders of the true prompt; the relative error increase of the variants is how much knowing
that word can lower the training loss when the noise hides the clip.

    python archive/teacher_investigation/teacher_text_sensitivity.py --preset tiny --prompts 64 --oracle --out archive/figures/teacher_text_sensitivity_tiny.json
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import time

import torch

from rf_nb.codecs import build_codec
from rf_nb.config import load_preset, parse_cli_overrides, write_json
from rf_nb.flow import add_noise, t_from_sigma, velocity_target
from rf_nb.teacher import load_teacher, render_specs
from rf_nb.world import COLORS, DIRECTION_PHRASES, SCENES, SHAPES, TEXTURES, PromptSpec, render, sample_prompts

ATTRIBUTES = ("direction", "shape", "color", "texture", "scene")


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--prompts", type=int, default=64, help="single-object moving prompts (no camera pan)")
    ap.add_argument("--split", default="heldout")
    ap.add_argument("--sigmas", type=float, nargs="+", default=[0.3, 0.5, 0.7, 0.9])
    ap.add_argument("--draws", type=int, default=2, help="noise draws per clip and sigma")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    ap.add_argument("--oracle", action="store_true", help="also the conditional-mean oracle (renders only)")
    ap.add_argument("--renders", type=int, default=32, help="oracle: renders per prompt for each mean clip")
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    return ap.parse_args(argv)


def single_moving_prompts(n: int, split: str, seed: int, cfg) -> list[PromptSpec]:
    "The first `n` prompts of `split` with one object that moves and no camera pan (direction is the object's)."
    out, k = [], 0
    while len(out) < n:
        batch = sample_prompts(4 * n, split, seed + k, cfg.world.heldout_fraction, cfg.world.split_seed)
        out += [s for s in batch if len(s.objects) == 1 and s.direction != "still" and s.camera_pan is None]
        k += 1
    return out[:n]


def alternatives(spec: PromptSpec) -> dict[str, list[PromptSpec]]:
    "Every prompt that differs from `spec` in exactly one attribute, by attribute."
    o = spec.objects[0]

    def obj(**kw) -> PromptSpec:
        return dataclasses.replace(spec, objects=(dataclasses.replace(o, **kw),))

    return {"direction": [obj(direction=d) for d in DIRECTION_PHRASES if d != o.direction],
            "shape": [obj(shape=s) for s in SHAPES if s != o.shape],
            "color": [obj(color=c) for c in COLORS if c != o.color],
            "texture": [obj(texture=t) for t in TEXTURES if t != o.texture],
            "scene": [dataclasses.replace(spec, scene=s) for s in SCENES if s != spec.scene]}


@torch.no_grad()
def clip_losses(teacher, x0: torch.Tensor, texts: list[str], sigma: float, generator: torch.Generator,
                cfg) -> torch.Tensor:
    "Flow-matching loss of one clip `x0 [C, f, h, w]` under each of `texts`, all with the same noise: [len(texts)]."
    noise = torch.randn(x0.shape, generator=generator).to(x0.device)
    x_t = add_noise(x0, noise, torch.tensor(sigma)).expand(len(texts), *x0.shape)        # [K, C, f, h, w]
    t = t_from_sigma(torch.full((len(texts),), sigma), cfg.flow.num_train_timesteps).float().to(x0.device)
    v = teacher(x_t, t, texts).float()                                                  # [K, C, f, h, w]
    return ((v - velocity_target(x0, noise)) ** 2).flatten(1).mean(1).cpu()


def mean_clip(spec: PromptSpec, cfg, seeds: range) -> torch.Tensor:
    "E[x0 | prompt] estimated by the mean of renders with `seeds` (start positions and other free choices vary)."
    w = cfg.world
    return torch.stack([render(spec, w.height, w.width, w.num_frames, w.fps, seed=k)[0] for k in seeds]).mean(0)


def oracle_value(specs: list[PromptSpec], cfg, renders: int, seed: int) -> dict:
    """Per attribute: how often the true prompt's mean clip is closest (MSE) to a fresh render of it among the
    one-attribute variants' mean clips, and the variants' mean relative MSE increase."""
    w = cfg.world
    hits, gaps = {a: 0 for a in ATTRIBUTES}, {a: [] for a in ATTRIBUTES}
    for i, spec in enumerate(specs):
        base = seed + 10_000 * (i + 1)
        fresh = render(spec, w.height, w.width, w.num_frames, w.fps, seed=base - 1)[0]       # not in any mean
        err = lambda m: float(((m - fresh) ** 2).mean())
        e_true = err(mean_clip(spec, cfg, range(base, base + renders)))
        for a, alts in alternatives(spec).items():
            e = torch.tensor([err(mean_clip(p, cfg, range(base, base + renders))) for p in alts])
            hits[a] += int(e_true < e.min())
            gaps[a].append(float(((e - e_true) / e_true).mean()))
    n = len(specs)
    return {"renders_per_mean": renders, "accuracy": {a: round(hits[a] / n, 3) for a in ATTRIBUTES},
            "relative_error_increase": {a: round(sum(gaps[a]) / n, 4) for a in ATTRIBUTES}}


def main(argv=None) -> dict:
    args = parse_args(argv)
    cfg = load_preset(args.preset, {"device": args.device} | parse_cli_overrides(args.overrides))
    teacher = load_teacher(cfg, device=args.device, dtype=torch.float32).eval()
    codec = build_codec(cfg)
    specs = single_moving_prompts(args.prompts, args.split, args.seed, cfg)
    with torch.no_grad():
        x0s = codec.encode(render_specs(specs, cfg, args.seed)).float().to(args.device)   # [N, C, f, h, w]
    g = torch.Generator().manual_seed(args.seed)
    t0 = time.time()
    # hits[attribute][sigma] = clips whose true prompt has the lowest loss; gaps: relative loss increase of the others
    hits = {a: {s: 0 for s in args.sigmas} | {"all": 0} for a in ATTRIBUTES}
    gaps = {a: {s: [] for s in args.sigmas} for a in ATTRIBUTES}
    for spec, x0 in zip(specs, x0s):
        alts = alternatives(spec)
        texts = [spec.text] + [p.text for a in ATTRIBUTES for p in alts[a]]
        total = torch.zeros(len(texts))
        for s in args.sigmas:
            loss = torch.stack([clip_losses(teacher, x0, texts, s, g, cfg) for _ in range(args.draws)]).mean(0)
            total += loss
            i = 1
            for a in ATTRIBUTES:
                other = loss[i:i + len(alts[a])]
                hits[a][s] += int(loss[0] < other.min())
                gaps[a][s].append(float(((other - loss[0]) / loss[0]).mean()))
                i += len(alts[a])
        i = 1
        for a in ATTRIBUTES:
            hits[a]["all"] += int(total[0] < total[i:i + len(alts[a])].min())
            i += len(alts[a])
    n = len(specs)
    choices = {a: len(alternatives(specs[0])[a]) + 1 for a in ATTRIBUTES}
    result = {
        "command": "python archive/teacher_investigation/teacher_text_sensitivity.py " + " ".join(argv or __import__("sys").argv[1:]),
        "preset": args.preset, "teacher": str(cfg.model.pretrained_path or "shipped"), "n_clips": n,
        "split": args.split, "sigmas": args.sigmas, "draws": args.draws, "seconds": round(time.time() - t0, 1),
        "chance": {a: round(1 / c, 3) for a, c in choices.items()},
        "accuracy": {a: {str(k): round(v / n, 3) for k, v in hits[a].items()} for a in ATTRIBUTES},
        "relative_loss_increase": {a: {str(s): round(sum(v) / n, 4) for s, v in gaps[a].items()} for a in ATTRIBUTES},
    }
    if args.oracle:
        t1 = time.time()
        result["oracle"] = oracle_value(specs, cfg, args.renders, args.seed) | {"seconds": round(time.time() - t1, 1)}
    print(json.dumps(result, indent=1))
    if args.out:
        write_json(args.out, result)
    return result


if __name__ == "__main__":
    main()
