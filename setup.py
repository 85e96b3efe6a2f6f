"""Packaging for rf_nb. Metadata and requirements come from settings.ini (nbdev 2 layout);
exact versions come from constraints.txt at install time (`pip install -c constraints.txt -e .`)."""
from configparser import ConfigParser

import setuptools

cfg = ConfigParser(delimiters=["="])
cfg.read("settings.ini", encoding="utf-8")
c = cfg["DEFAULT"]

setuptools.setup(
    name=c["lib_name"],
    version=c["version"],
    description=c["description"],
    license="Apache-2.0",
    python_requires=">=" + c["min_python"],
    packages=setuptools.find_packages(include=["rf_nb", "rf_nb.*"]),
    include_package_data=True,
    package_data={"rf_nb": ["assets/*", "assets/**/*"]},
    install_requires=c["requirements"].split(),
    extras_require={"dev": c["dev_requirements"].split()},
    entry_points={
        "console_scripts": c["console_scripts"].split(),
        "nbdev": [f"{c['lib_path']}={c['lib_path']}._modidx:d"],
    },
    zip_safe=False,
)
