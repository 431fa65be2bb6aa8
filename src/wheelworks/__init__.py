"""wheelworks: tested, self-contained binary wheels for every CPython, from a build commit."""

from wheelworks.config import Config, load
from wheelworks.errors import WheelworksError
from wheelworks.pipeline import BuildOptions, build_wheels
from wheelworks.records import BuildRecord, Records

__all__ = ["BuildOptions", "BuildRecord", "Config", "Records", "WheelworksError", "build_wheels", "load"]
