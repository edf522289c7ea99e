"""What importing the web app costs: wall-clock of `python -c "import qingyuan.web.app"`, N runs
per source tree (alternating, so load drifts hit both alike), and `-X importtime`'s heaviest
top-level imports and whether scikit-learn, SciPy or a matcher module was imported.

    python bench/app_import.py /work/main .        # reference tree first, then this one

Each tree's own `qingyuan/` is imported (the tree is the working directory, first on
sys.path), with this interpreter and its installed dependencies.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 5
HEAVY = ("sklearn", "scipy", "qingyuan.matching.scoring", "qingyuan.matching.candidates")


def wall(tree: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import qingyuan.web.app"], cwd=tree, check=True)
    return time.perf_counter() - start


def importtime(tree: Path) -> tuple[list[tuple[int, str]], list[str]]:
    """(cumulative µs, package) of the heaviest third-party packages, and the heavy modules
    seen."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import qingyuan.web.app"],
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []  # (cumulative µs, module, nesting depth)
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        rows.append((int(cumulative), name.strip(), len(name) - len(name.lstrip())))
    packages = ((c, n) for c, n, _ in rows if "." not in n and n != "qingyuan")
    top = sorted(packages, reverse=True)[:6]
    seen = [h for h in HEAVY if any(n == h or n.startswith(h + ".") for _, n, _ in rows)]
    return top, seen


def main() -> None:
    trees = [Path(arg).resolve() for arg in sys.argv[1:]] or [Path.cwd()]
    times: dict[Path, list[float]] = {tree: [] for tree in trees}
    for tree in trees:
        wall(tree)  # warm the file cache
    for _ in range(RUNS):
        for tree in trees:
            times[tree].append(wall(tree))
    reference = statistics.median(times[trees[0]])
    for tree in trees:
        top, seen = importtime(tree)
        median = statistics.median(times[tree])
        spread = f"min {min(times[tree]):.2f}, max {max(times[tree]):.2f}; {RUNS} runs"
        print(
            f"{tree}: median {median:.2f} s ({spread}), ratio to the first {median / reference:.2f}"
        )
        print(f"  heavy modules imported: {', '.join(seen) or 'none'}")
        for cumulative, name in top:
            print(f"  {cumulative / 1e6:6.2f} s  {name}")


if __name__ == "__main__":
    main()
