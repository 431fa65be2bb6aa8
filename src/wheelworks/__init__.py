"""wheelworks: tested, self-contained binary wheels for every CPython, from a build commit."""

from wheelworks.build.pipeline import BuildOptions, build_wheels
from wheelworks.build.records import BuildRecord, Records
from wheelworks.config.model import Config, load
from wheelworks.shared.errors import WheelworksError

__all__ = ["BuildOptions", "BuildRecord", "Config", "Records", "WheelworksError", "build_wheels", "load"]
