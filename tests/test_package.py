"""`import rf_nb` as the README uses it: submodules on first use, the version the settings give, `rf-nb --version`."""
import configparser
import subprocess
import sys

import pytest

from conftest import ROOT


def test_submodules_load_on_first_use():
    code = ("import sys, rf_nb; assert 'rf_nb.world' not in sys.modules; "
            "cfg = rf_nb.config.load_preset('tiny', seed=1); assert cfg.seed == 1; "
            "assert callable(rf_nb.world.sample_prompts) and 'rf_nb.world' in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_every_module_is_listed_and_unknown_names_fail():
    import rf_nb
    modules = {p.stem for p in (ROOT / "rf_nb").glob("*.py")} - {"__init__", "_modidx"}
    assert set(rf_nb.__all__) == modules
    assert set(rf_nb.__all__) <= set(dir(rf_nb))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        rf_nb.nope


def test_version_is_the_settings_version():
    import rf_nb
    settings = configparser.ConfigParser()
    settings.read(ROOT / "settings.ini")
    assert rf_nb.__version__ == settings["DEFAULT"]["version"]
    out = subprocess.run([sys.executable, "-m", "rf_nb.reproduce", "--version"], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == f"rf-nb {rf_nb.__version__}", out
