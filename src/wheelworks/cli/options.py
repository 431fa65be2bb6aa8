"""Arguments several commands share, and what they resolve to."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from wheelworks.build.pipeline import BuildOptions
from wheelworks.config import model as config_mod
from wheelworks.config.settings import Settings
from wheelworks.shared.errors import WheelworksError


def add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="wheelworks.toml or pyproject.toml (default: ./wheelworks.toml)")
    p.add_argument("--builds-dir", type=Path, help="where build records go (default: builds/ beside the config)")


def add_cache_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache-dir", type=Path, help="cache folder (default: $WHEELWORKS_CACHE_DIR or ~/.cache/wheelworks)")


def add_building(p: argparse.ArgumentParser) -> None:
    add_config(p)
    add_cache_dir(p)
    p.add_argument("-j", "--jobs", type=positive, default=os.cpu_count() or 1,
                   help="wheels built at once (default: the number of CPUs); built wheels are repaired and "
                        "tested beside the next builds, as many at once")
    p.add_argument("--wheelhouse", type=Path, help="where tested wheels go (default: wheelhouse/ beside the config)")


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def config_path(args: argparse.Namespace) -> Path:
    return args.config or config_mod.find_config(Path.cwd())


def load_config(args: argparse.Namespace, settings: Settings) -> config_mod.Config:
    return load_config_at(config_path(args), settings)


def load_config_at(path: Path, settings: Settings) -> config_mod.Config:
    return config_mod.load(path, settings.build_commit)


def builds_dir(args: argparse.Namespace) -> Path:
    if args.builds_dir:
        return Path(args.builds_dir).resolve()
    try:
        return config_path(args).resolve().parent / "builds"
    except WheelworksError:  # no config here: the records of this folder
        return Path.cwd() / "builds"


def build_options(args: argparse.Namespace, config: config_mod.Config, settings: Settings) -> BuildOptions:
    return BuildOptions(
        wheelhouse=(args.wheelhouse or config.root / "wheelhouse").resolve(),
        builds_dir=builds_dir(args),
        settings=settings,
        only=getattr(args, "only", None),
        jobs=args.jobs,
        rebuild=getattr(args, "rebuild", False),
    )


def seconds(text: str) -> float:
    """A positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value

