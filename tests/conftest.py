"""Shared pytest setup: offline hub, headless plots, run outputs into a temporary folder."""
import os
import pathlib

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = pathlib.Path(__file__).resolve().parents[1]
FLAGS = set(os.environ.get("RF_NB_FLAGS", "").split(","))  # e.g. RF_NB_FLAGS=gpu on the GPU machine


def pytest_collection_modifyitems(config, items):
    skip_gpu = pytest.mark.skip(reason="gpu-only: run with RF_NB_FLAGS=gpu on a CUDA machine")
    for item in items:
        if "gpu" in item.keywords and "gpu" not in FLAGS:
            item.add_marker(skip_gpu)


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a CUDA device (skipped unless RF_NB_FLAGS=gpu)")
    config.addinivalue_line("markers", "slow: long-running integration test")


@pytest.fixture(autouse=True, scope="session")
def _outputs_in_tmp(tmp_path_factory):
    """Stage notebooks and tests write runs/ and figures/ into a temp dir, never the tracked figures/."""
    out = tmp_path_factory.mktemp("rf_nb_out")
    os.environ["RF_NB_RUNS"] = str(out / "runs")
    os.environ["RF_NB_FIGURES"] = str(out / "figures")
    yield out
