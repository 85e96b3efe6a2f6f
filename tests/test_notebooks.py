"""Every notebook in nbs/ (library and stage notebooks) runs as one pytest test, through nbdev's own
notebook tester (`nbdev.test.test_nb`, the function behind `nbdev_test`), so CI prints a test count.
Cells flagged `#| gpu` or `#| slow` are skipped unless named in RF_NB_FLAGS (e.g. RF_NB_FLAGS=gpu)."""
import os

import pytest
from nbdev.config import get_config
from nbdev.test import test_nb as run_notebook  # aliased: pytest would collect `test_nb`

from conftest import FLAGS, ROOT

NOTEBOOKS = sorted(p for p in (ROOT / "nbs").rglob("*.ipynb")
                   if not any(part.startswith((".", "_")) for part in p.relative_to(ROOT / "nbs").parts))


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[str(p.relative_to(ROOT / "nbs")) for p in NOTEBOOKS])
def test_notebook(nb, monkeypatch):
    monkeypatch.chdir(nb.parent)  # notebooks run from their own folder, as in Jupyter and nbdev_test
    skip = get_config().tst_flags.split()  # nbdev_test splits on whitespace too
    force = [f for f in FLAGS if f]
    ok, secs = run_notebook(nb, skip_flags=skip, force_flags=force, do_print=False, showerr=True, basepath=ROOT)
    assert ok, f"{nb.name} failed (see the traceback above); run it in Jupyter to inspect"
