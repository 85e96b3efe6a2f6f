"""The reference side of tests/test_imagereward_reference.py. Runs in the ImageReward reference environment
(`.venv-imagereward`, built by `make imagereward-ref-env`), never in rf_nb's own: it imports the `image-reward`
package, builds the package's own `ImageReward` model from a local directory in `from_local`'s layout, loads
`ImageReward.pt` into it, and writes what the package computes for the given frames and prompts:

- `scores_pil` [B]: the package's `ImageReward.score(prompt, PIL image)`, one image at a time;
- `pixels` [B, 3, 224, 224]: the package's own PIL transform of each image;
- `ids`, `mask` [B, 35]: the package's tokenizer output;
- `scores` [B] and `grad` [B, 3, 224, 224]: `ImageReward.score_gard(ids, mask, pixels)` and the gradient of the
  scores' sum with respect to `pixels`;

to OUT.safetensors, and the package model's state-dict keys and the load's missing/unexpected keys to OUT.json.

    python tests/imagereward_reference.py MODEL_DIR FRAMES.safetensors PROMPTS.json OUT.safetensors

FRAMES.safetensors holds `frames`, uint8 [B, 3, H, W]. No network: the package's `BertTokenizer.from_pretrained`
is pointed at MODEL_DIR/bert-base-uncased, and, when MODEL_DIR has rf_nb_vision.json (a small random tower), the
package's `create_vit` returns the package's own VisionTransformer class at those sizes.
"""
import contextlib
import importlib
import importlib.util
import json
import sys
import warnings
from pathlib import Path
from unittest import mock


def _bare_package(name: str) -> None:
    "Register package `name` without running its __init__ (ImageReward's imports its trainer, CLIP and datasets)."
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise SystemExit(f"no module {name!r}: this script runs in the reference environment (make imagereward-ref-env)")
    sys.modules[name] = module = importlib.util.module_from_spec(spec)
    if "." in name:
        parent, child = name.rsplit(".", 1)
        setattr(sys.modules[parent], child, module)


def build_package_model(model_dir: Path):
    "The package's ImageReward module for MODEL_DIR, weights loaded (strict=False, as the package does)."
    import torch
    from transformers import BertTokenizer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _bare_package("ImageReward")
        _bare_package("ImageReward.models")
        ir = importlib.import_module("ImageReward.ImageReward")
        blip = importlib.import_module("ImageReward.models.BLIP.blip")
        blip_pretrain = importlib.import_module("ImageReward.models.BLIP.blip_pretrain")
        vit = importlib.import_module("ImageReward.models.BLIP.vit")

    class LocalTokenizer:
        @staticmethod
        def from_pretrained(name, *args, **kwargs):
            return BertTokenizer.from_pretrained(str(model_dir / "bert-base-uncased"), local_files_only=True)

    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(blip, "BertTokenizer", LocalTokenizer))
        vision_file = model_dir / "rf_nb_vision.json"
        if vision_file.is_file():
            vision = json.loads(vision_file.read_text())

            def create_vit(name, image_size, *args, **kwargs):
                return vit.VisionTransformer(img_size=image_size, **vision), vision["embed_dim"]

            stack.enter_context(mock.patch.object(blip_pretrain, "create_vit", create_vit))
        net = ir.ImageReward(med_config=str(model_dir / "med_config.json"), device="cpu")
    hidden = json.loads((model_dir / "med_config.json").read_text())["hidden_size"]
    if hidden != net.mlp.input_size:                      # the package hard-codes MLP(768) (BERT-base)
        net.mlp = ir.MLP(hidden)
    state = torch.load(model_dir / "ImageReward.pt", map_location="cpu", weights_only=True)
    result = net.load_state_dict(state, strict=False)
    return net.eval(), {"state_keys": sorted(net.state_dict()), "missing": list(result.missing_keys),
                        "unexpected": list(result.unexpected_keys)}


def main(model_dir: str, frames_file: str, prompts_file: str, out: str) -> None:
    import torch
    from PIL import Image
    from safetensors.torch import load_file, save_file
    import transformers
    net, meta = build_package_model(Path(model_dir))
    frames = load_file(frames_file)["frames"]                     # uint8 [B, 3, H, W]
    prompts = json.loads(Path(prompts_file).read_text())
    images = [Image.fromarray(f.permute(1, 2, 0).contiguous().numpy()) for f in frames]
    with torch.no_grad():
        scores_pil = torch.tensor([net.score(p, im) for p, im in zip(prompts, images)], dtype=torch.float32)
    pixels = torch.stack([net.preprocess(im) for im in images]).requires_grad_(True)
    tok = net.blip.tokenizer(prompts, padding="max_length", truncation=True, max_length=35, return_tensors="pt")
    scores = net.score_gard(tok.input_ids, tok.attention_mask, pixels).squeeze(-1)
    scores.sum().backward()
    save_file({"scores_pil": scores_pil, "scores": scores.detach().float().contiguous(),
               "pixels": pixels.detach().contiguous(), "grad": pixels.grad.contiguous(),
               "ids": tok.input_ids.contiguous(), "mask": tok.attention_mask.contiguous()}, out)
    meta["versions"] = {"torch": torch.__version__, "transformers": transformers.__version__}
    Path(out).with_suffix(".json").write_text(json.dumps(meta))


if __name__ == "__main__":
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
