"""Build a wheelhouse for a GPU image that has no package index (this workplace's H200: run.sh's image mode).

Usage (on a machine that can reach a package index):

    python benchmarks/gpu/stage_wheels.py            # -> .whl/ (gitignored); then WHEELS=.whl run.sh there

What goes in: wheels for Python 3.12 / manylinux x86_64 of the pinned requirements of pyproject.toml that the
image lacks (``h200-image-packages.txt``), then of their own requirements that it lacks, recursively
(markers evaluated for the target). torch is never fetched (the image's CUDA torch is used) and
``unidic-lite`` (a 47 MB dictionary for Japanese only) is skipped: zh/vi never load it. A package that has
only an sdist is built here with ``pip wheel``; it must come out pure Python (``py3-none-any``), since a
compiled wheel built here would not match the target's Python, and the script stops if it does not.
It prints the wheelhouse's size against the device tool's 64 MiB carry limit.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PLATFORMS = [f"manylinux_2_{n}_x86_64" for n in (17, 24, 27, 28, 31, 34, 35)] + ["manylinux2014_x86_64",
                                                                                  "manylinux1_x86_64"]
SKIP = {"torch", "unidic-lite"}
EXTRA = ["hanja==0.15.1"]   # installed with --no-deps (pyproject.toml's note); its own pins are not followed
CARRY_LIMIT_MIB = 64


def image_packages(path: Path) -> set[str]:
    """Canonical names of the packages the image already has."""
    return {canonicalize_name(line.strip()) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")}


def target_env(python: str) -> dict[str, str]:
    """Marker environment of the target (Linux x86_64, CPython ``python``)."""
    return {"python_version": python, "python_full_version": f"{python}.0", "sys_platform": "linux",
            "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
            "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": ""}


def fetch(req: str, dest: Path, python: str) -> Path:
    """One wheel for ``req`` (no dependencies) into ``dest``: a binary for the target, else built here."""
    before = set(dest.glob("*.whl"))
    plat = [a for p in PLATFORMS for a in ("--platform", p)]
    got = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                          "--python-version", python, "--implementation", "cp", *plat, "-d", str(dest), req],
                         capture_output=True, text=True)
    if got.returncode != 0:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dest), req], check=True)
    new = sorted(set(dest.glob("*.whl")) - before)
    name = canonicalize_name(Requirement(req).name)
    wheel = next((w for w in new or dest.glob("*.whl") if canonicalize_name(w.name.split("-")[0]) == name), None)
    if wheel is None:
        raise SystemExit(f"{req}: no wheel found in {dest}")
    if got.returncode != 0 and not wheel.name.endswith("-none-any.whl"):
        raise SystemExit(f"{req}: only an sdist, and it builds a compiled wheel ({wheel.name}) that would not "
                         f"match Python {python} there; carry a wheel built for it instead")
    return wheel


def requires(wheel: Path) -> list[Requirement]:
    """The wheel's ``Requires-Dist`` lines."""
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        text = zf.read(meta).decode("utf-8")
    return [Requirement(m.group(1)) for m in re.finditer(r"^Requires-Dist: (.+)$", text, re.M)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dest", type=Path, default=REPO / ".whl")
    p.add_argument("--image-packages", type=Path, default=HERE / "h200-image-packages.txt")
    p.add_argument("--python-version", default="3.12")
    args = p.parse_args()
    have = image_packages(args.image_packages)
    env = target_env(args.python_version)
    args.dest.mkdir(parents=True, exist_ok=True)
    pins = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    queue = [Requirement(r) for r in pins]
    done: set[str] = set()
    while queue:
        req = queue.pop(0)
        name = canonicalize_name(req.name)
        if name in done or name in have or name in SKIP or (req.marker and not req.marker.evaluate(env)):
            continue
        done.add(name)
        wheel = fetch(str(Requirement(f"{req.name}{req.specifier}")), args.dest, args.python_version)
        print(f"{wheel.name}")
        queue += [r for r in requires(wheel) if not r.marker or Marker(str(r.marker)).evaluate(env)]
    for req in EXTRA:
        print(fetch(req, args.dest, args.python_version).name, "(installed --no-deps)")
    mib = sum(w.stat().st_size for w in args.dest.glob("*.whl")) / 2**20
    print(f"{args.dest}: {len(list(args.dest.glob('*.whl')))} wheels, {mib:.1f} MiB "
          f"(device carry limit {CARRY_LIMIT_MIB} MiB for the whole working tree)")


if __name__ == "__main__":
    main()
