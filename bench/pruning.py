"""Seconds to decide what pruning removes, as a container's history grows.

Builds the claims and completion markers of N versions of one project (two wheels
each, every other version incomplete, as killed publishes leave them) and times
``publish.prune_set`` with keep=1. The decision must grow linearly with N: the figure
per thousand versions stays flat.

    .venv/bin/python bench/pruning.py [--versions 2000 4000 10000]
"""

from __future__ import annotations

import argparse
import time

from wheelworks.containers import file_key
from wheelworks.containers.index import IndexedFile
from wheelworks.containers.publish import prune_set
from wheelworks.containers.state import tags_of

TAGS = ("cp312-cp312-manylinux_2_17_x86_64", "cp313-cp313-manylinux_2_17_x86_64")


def history(versions: int) -> tuple[list[IndexedFile], dict]:
    claims, complete = [], {}
    for i in range(versions):
        version = f"1.0.dev{i}"
        names = [f"pkg-{version}-{tag}.whl" for tag in TAGS]
        claims += [IndexedFile(n, "pkg", version, file_key("0" * 64, n), "0" * 64, 1, None, "") for n in names]
        if i % 2 == 0:
            complete[("pkg", version)] = frozenset(t for n in names for t in tags_of(n))
    return claims, complete


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, nargs="+", default=[2000, 4000, 10000])
    args = parser.parse_args()
    print(f"{'versions':>9} {'claims':>7} {'pruned':>7} {'seconds':>8} {'ms per 1k versions':>19}")
    for n in args.versions:
        claims, complete = history(n)
        start = time.perf_counter()
        doomed = prune_set(claims, complete, keep=1)
        seconds = time.perf_counter() - start
        print(f"{n:>9} {len(claims):>7} {len(doomed):>7} {seconds:>8.3f} {1000 * seconds / (n / 1000):>19.1f}")


if __name__ == "__main__":
    main()
