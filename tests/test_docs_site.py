"""The docs site renders in a browser: headless Chromium screenshots the front page and one API page (skipped where
Chromium is not installed: `apt-get install chromium`). `13_reproduce` checks the pages' content on every run."""
import shutil
import subprocess

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium)")
def test_front_page_and_an_api_page_render(tmp_path):
    from PIL import Image
    from rf_nb.reproduce import build_docs
    build_docs(tmp_path / "site", log=lambda m: None)
    for page in ("index.html", "api/config.html"):
        shot = tmp_path / (page.replace("/", "_") + ".png")
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,900",
                        f"--screenshot={shot}", (tmp_path / "site" / page).as_uri()],
                       check=True, capture_output=True, timeout=120)
        pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
        dark = (pixels < 128).mean()                   # text on a white page: some ink, not a blank or black page
        assert pixels.shape == (900, 1200) and 0.005 < dark < 0.5, (page, dark)
