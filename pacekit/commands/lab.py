"""``pacekit lab``: open the notebook walkthrough (``notebooks/``) in JupyterLab.

The same as ``jupyter lab notebooks/`` from the repository root, run with this Python so that the
kernel sees the pacekit it was installed with. The folder is found beside the installed package (an
editable install from a clone) or in the current directory; ``--dir`` names it explicitly.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Optional, Sequence


def find_notebooks(explicit: Optional[str] = None, cwd: Optional[Path] = None) -> Path:
    """The notebooks folder: ``explicit``, else ``<repository>/notebooks`` beside the package, else
    ``./notebooks``. Raises FileNotFoundError naming the places looked at."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_dir():
            raise FileNotFoundError(f"--dir {explicit}: no such folder; give the notebooks/ folder of a pacekit clone")
        return path
    cwd = Path.cwd() if cwd is None else Path(cwd)
    candidates = [Path(__file__).resolve().parents[2] / "notebooks", cwd / "notebooks"]
    for path in candidates:
        if path.is_dir() and any(path.glob("*.ipynb")):
            return path
    raise FileNotFoundError(
        "no notebooks/ folder found (looked beside the pacekit package and in the current directory); the "
        "notebooks ship with the repository: git clone it, pip install -e '.[dev]', and run pacekit lab there"
    )


def lab_command(folder: Path, extra: Sequence[str] = ()) -> list[str]:
    """The JupyterLab command line for ``folder``, run by this interpreter."""
    return [sys.executable, "-m", "jupyterlab", str(folder), *extra]


def cmd_lab(args) -> int:
    if importlib.util.find_spec("jupyterlab") is None:
        raise ImportError("JupyterLab is not installed in this environment; pip install jupyterlab "
                          "(or pip install -e '.[dev]' in the clone)")
    folder = find_notebooks(args.dir)
    extra = list(args.jupyter_args)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    command = lab_command(folder, extra)
    print(f"opening {folder} in JupyterLab: {' '.join(command[2:])}")
    return subprocess.call(command)


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "lab", help="open the notebook walkthrough in JupyterLab (jupyter lab notebooks/)",
        description="Start JupyterLab on the six notebooks. Arguments after -- go to JupyterLab, e.g. "
                    "pacekit lab -- --port 8890 --no-browser")
    p.add_argument("--dir", default=None, help="the notebooks folder (default: the clone's notebooks/)")
    p.add_argument("jupyter_args", nargs=argparse.REMAINDER, help="arguments passed on to JupyterLab")
    p.set_defaults(func=cmd_lab)


__all__ = ["add_commands", "cmd_lab", "find_notebooks", "lab_command"]
