__version__ = "0.1.0"
# The one hand-written file of rf_nb/ (nbdev only keeps __version__ above in step): `import rf_nb` is light, and each
# submodule (rf_nb.config, rf_nb.world, ...) is imported the first time it is named (PEP 562).
import importlib as _importlib

__all__ = ["config", "world", "perception", "codecs", "flow", "train", "teacher", "causal", "trajectories",
           "rewards", "objectives", "eval", "pipeline", "reproduce"]


def __getattr__(name: str):
    if name in __all__:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
