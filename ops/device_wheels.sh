#!/usr/bin/env bash
# Download the wheels the GPU machine (Python 3.12, torch 2.11 preinstalled, no registry access) needs to run
# rf_nb with the SAME pinned versions as CI, into .whl/ (git-ignored). Versions come from constraints.txt.
# Use on the GPU machine (one line, see README "GPU"):
#   python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/site .whl/*.whl \
#     && export PYTHONPATH=/tmp/site:$PWD
set -euo pipefail
cd "$(dirname "$0")/.."
# pure-python or abi3 packages rf_nb imports beyond the GPU image's own (torch, numpy, safetensors, ... stay theirs)
NAMES=(diffusers transformers huggingface-hub tokenizers accelerate nbdev execnb fastcore ghapi astunparse
       ipython decorator jedi parso matplotlib-inline traitlets pexpect ptyprocess prompt-toolkit wcwidth
       stack-data asttokens executing pure-eval watchdog importlib-metadata
       papermill nbformat nbclient jupyter-client jupyter-core ipykernel pyzmq tornado comm debugpy
       fastjsonschema jsonschema jsonschema-specifications referencing rpds-py platformdirs entrypoints tenacity
       kernels)
# (kernels: transformers 5 imports it; ImageReward's network is rf_nb's own since 2026-12-07, so neither
#  image-reward nor timm nor fairscale is carried any more)
# (papermill + an ipykernel: `rf-nb reproduce` runs the stage notebooks on the GPU machine as it does here)
# imageio-ffmpeg (68 MB) is left out: the 64 MiB transfer limit; GPU runs write GIFs, not mp4.
mkdir -p .whl
for name in "${NAMES[@]}"; do
  pin=$(grep -i -E "^${name//-/[-_]}==" constraints.txt | head -1 || true)
  [ -n "$pin" ] || { echo "skip $name (not in constraints.txt)"; continue; }
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux1_x86_64 --platform any -d .whl "$pin" || echo "FAILED $pin"
done
pin=$(grep -i -E "^fairscale==" constraints.txt | head -1 || true)     # only while image-reward is pinned
if [ -n "$pin" ]; then
  ls .whl/fairscale-* >/dev/null 2>&1 || python3 -m pip wheel -q --no-deps --no-build-isolation -w .whl "$pin" \
    || echo "FAILED to build a wheel of $pin"
fi
du -sh .whl; ls .whl

# .whl-bench: the same wheels without the notebook kernel stack (papermill, ipykernel, IPython and what they pull):
# enough for bench/*.py and ops/*.py. Carry it instead of .whl when the tree + .whl pass the 64 MiB transfer limit.
rm -rf .whl-bench && mkdir -p .whl-bench
for f in .whl/*.whl; do
  case $(basename "$f" | tr 'A-Z' 'a-z') in
    debugpy-*|jedi-*|parso-*|ipython-*|ipykernel-*|pyzmq-*|tornado-*|jupyter_*|nbclient-*|nbformat-*|papermill-*|\
    prompt_toolkit-*|wcwidth-*|stack_data-*|asttokens-*|executing-*|pure_eval-*|pexpect-*|ptyprocess-*|\
    matplotlib_inline-*|traitlets-*|comm-*|decorator-*|nbdev-*|execnb-*|ghapi-*|watchdog-*) ;;
    *) cp "$f" .whl-bench/ ;;
  esac
done
du -sh .whl-bench

# .whl-small: the wheels that run notebooks (papermill + ipykernel) without what a kernel never needs for papermill
# (debugpy and jedi/parso are optional to ipykernel and IPython; nbdev's tools and watchdog are for development) and
# without ImageReward's stack (image-reward, timm, fairscale: only the `imagereward` reward kind imports them; every
# world stage ran with their imports blocked, 2026-12-05): 25 MB, what `ops/small_gpu.sh` carries since the
# tree + .whl passed 64 MiB. transformers and tokenizers stay: diffusers imports them when they are installed, and
# the GPU image's own (5.x) are not the pinned ones.
rm -rf .whl-small && mkdir -p .whl-small
for f in .whl/*.whl; do
  case $(basename "$f" | tr 'A-Z' 'a-z') in
    debugpy-*|jedi-*|parso-*|watchdog-*|nbdev-*|execnb-*|ghapi-*|image_reward-*|timm-*|fairscale-*) ;;
    *) cp "$f" .whl-small/ ;;
  esac
done
du -sh .whl-small
