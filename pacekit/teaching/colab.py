"""Getting pacekit onto Google Colab, and what the setup cell does there.

pacekit installs on Colab from the project's **declared home** only: the ``Repository`` (or ``Homepage``)
entry of ``[project.urls]`` in pyproject.toml (:func:`project_home`). No URL of a namespace the project
does not control is ever written into a notebook: while no home is declared, the notebooks draw no
"Open in Colab" badge, and their setup cell on Colab installs a pacekit wheel the student uploaded (to
``/content`` or to ``MyDrive`` on a mounted Drive; ``pacekit colab-bundle --out DIR`` writes it from a
clone) or stops with a message saying how to make one. Either way pacekit is installed ``--no-deps`` and
:func:`prepare_colab` then adds the dependencies Colab lacks, keeping Colab's own torch.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

#: The branch the Colab badges open.
REPO_BRANCH = "main"
#: Where the setup cell looks for an uploaded wheel on Colab, in this order.
WHEEL_PLACES = ("/content", "/content/drive/MyDrive")
#: What the setup cell says on Colab when pacekit has no home and no wheel was uploaded.
NO_WHEEL_MESSAGE = ("pacekit is not installed in this Colab runtime and the project declares no home to install "
                    "it from: on your computer run `pacekit colab-bundle --out DIR` in a pacekit clone and upload "
                    "DIR's pacekit-*.whl to /content (Files panel) or to MyDrive, then run this cell again")


def _pyproject(repo: Optional[Path] = None) -> Optional[Path]:
    path = (Path(__file__).resolve().parents[2] if repo is None else Path(repo)) / "pyproject.toml"
    return path if path.is_file() else None


def project_home(repo: Optional[Path] = None) -> Optional[str]:
    """The project's declared home (``[project.urls]`` Repository, else Homepage, in the clone's
    pyproject.toml, or the installed package's metadata); None while none is declared."""
    path = _pyproject(repo)
    if path is not None:
        urls = tomllib.loads(path.read_text()).get("project", {}).get("urls", {})
    else:
        from importlib import metadata

        try:
            entries = metadata.metadata("pacekit").get_all("Project-URL") or []
        except metadata.PackageNotFoundError:
            entries = []
        urls = dict(e.split(", ", 1) for e in entries if ", " in e)
    return urls.get("Repository") or urls.get("Homepage") or None


def _github_path(url: str) -> Optional[str]:
    """``owner/name`` of a GitHub repository URL, else None (Colab opens notebooks from GitHub only)."""
    match = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+?)(\.git)?/?", url)
    return match.group(1) if match else None


def colab_url(notebook: str, home: Optional[str], branch: str = REPO_BRANCH) -> Optional[str]:
    """The Colab address of ``notebooks/<notebook>`` in the declared home; None without a GitHub home."""
    path = _github_path(home) if home else None
    return f"https://colab.research.google.com/github/{path}/blob/{branch}/notebooks/{notebook}" if path else None


def colab_badge(notebook: str, home: Optional[str], branch: str = REPO_BRANCH) -> str:
    """Markdown for the "Open in Colab" badge of ``notebook``; empty while the project has no GitHub home."""
    url = colab_url(notebook, home, branch)
    return f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})" if url else ""


def install_lines(home: Optional[str]) -> list[str]:
    """The setup cell's Colab branch (indented, under ``if "google.colab" in sys.modules:``): pacekit alone,
    ``--no-deps`` (Colab's CUDA torch is never replaced), from the declared home, or else from an uploaded
    wheel, or a clear stop."""
    if home:
        return [f"    %pip install -q --no-deps git+{home}"]
    places = ", ".join(repr(p) for p in WHEEL_PLACES)
    return [
        "    import glob",
        "",
        f"    wheels = [w for place in ({places}) for w in sorted(glob.glob(place + \"/pacekit-*.whl\"))]",
        "    if not wheels:",
        f"        raise SystemExit({NO_WHEEL_MESSAGE!r})",
        "    %pip install -q --no-deps {wheels[-1]}",
    ]


def build_bundle(out, repo: Optional[Path] = None) -> Path:
    """Write the pacekit wheel (the package and its shipped weights) of the clone at ``repo`` into ``out``,
    for a student to upload to Colab; returns its path. Needs the clone (its pyproject.toml)."""
    path = _pyproject(repo)
    if path is None:
        raise FileNotFoundError("pacekit colab-bundle builds from a pacekit clone (its pyproject.toml); none "
                                "was found beside this installed package")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.glob("pacekit-*.whl"))
    repo = path.parent
    with tempfile.TemporaryDirectory(prefix="pacekit-bundle-") as tmp:
        # Built from a copy, so the build leaves nothing (build/, *.egg-info) in the clone.
        source = Path(tmp) / "pacekit-src"
        source.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (repo / name).is_file():
                shutil.copy2(repo / name, source / name)
        shutil.copytree(repo / "pacekit", source / "pacekit", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                               "-w", str(out.resolve()), str(source)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"building the wheel failed: {done.stderr.strip().splitlines()[-1:]}")
    wheels = sorted(set(out.glob("pacekit-*.whl")) - before) or sorted(out.glob("pacekit-*.whl"))
    return wheels[-1]


#: Packages Colab ships and pacekit must never replace (a torch from PyPI would not match Colab's CUDA).
COLAB_KEEP = ("torch", "torchvision", "torchaudio")


def requirement_name(requirement: str) -> str:
    """The normalised distribution name of a requirement string (``"Pillow>=9; ..."`` -> ``"pillow"``)."""
    name = re.split(r"[\s;<>=!~\[(@]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def colab_deps_command(colab: bool, installed: Mapping[str, Optional[str]],
                       requirements: Sequence[str]) -> Optional[list[str]]:
    """The pip arguments that install pacekit's missing dependencies on Colab, or None when there is nothing
    to do (not on Colab, or everything present). A pure function of its arguments.

    Args:
        colab: running on Google Colab.
        installed: installed version of each distribution by normalised name (None or absent: missing).
        requirements: pacekit's requirement strings (``importlib.metadata.requires("pacekit")``); optional
            extras (``extra == ...``) are skipped, other markers are left for pip to evaluate.

    The torch family (:data:`COLAB_KEEP`) is never installed; the versions Colab has are pinned in the same
    command (``torch==2.5.1+cu121``), so that no new dependency can pull another torch in.
    """
    if not colab:
        return None
    have = {requirement_name(k): v for k, v in installed.items() if v}
    missing = [r for r in requirements if "extra ==" not in r.replace("extra==", "extra ==")
               and requirement_name(r) not in COLAB_KEEP and requirement_name(r) not in have]
    if not missing:
        return None
    pins = [f"{name}=={have[name]}" for name in COLAB_KEEP if name in have]
    return ["pip", "install", "-q", *missing, *pins]


def installed_versions(names: Sequence[str]) -> dict[str, Optional[str]]:
    """``{normalised name: version or None}`` of the given distributions in this environment."""
    from importlib import metadata

    versions: dict[str, Optional[str]] = {}
    for name in names:
        try:
            versions[requirement_name(name)] = metadata.version(requirement_name(name))
        except metadata.PackageNotFoundError:
            versions[requirement_name(name)] = None
    return versions


def enable_colab_widgets(modules: Optional[Mapping[str, Any]] = None) -> bool:
    """On Colab, turn on its custom widget manager, without which ipywidgets 8 widgets (the pace game of
    notebook 02) do not render; True when it was turned on, False elsewhere."""
    modules = sys.modules if modules is None else modules
    if "google.colab" not in modules:
        return False
    import importlib

    importlib.import_module("google.colab.output").enable_custom_widget_manager()
    return True


def prepare_colab(run: Optional[Callable[[list[str]], Any]] = None) -> Optional[list[str]]:
    """What :func:`setup` does on Colab: install pacekit's missing dependencies beside Colab's torch
    (:func:`colab_deps_command`) and enable the widget manager. Returns the pip arguments it ran, if any.

    ``run`` runs a pip argument list (default: ``python -m pip ...`` in this kernel, failing on error).
    """
    from importlib import metadata

    try:
        requirements = metadata.requires("pacekit") or []
    except metadata.PackageNotFoundError:  # a source checkout on the path, not installed
        requirements = []
    names = [requirement_name(r) for r in requirements] + list(COLAB_KEEP)
    command = colab_deps_command(True, installed_versions(names), requirements)
    if command is not None:
        if run is None:
            import subprocess

            subprocess.run([sys.executable, "-m", *command], check=True)
        else:
            run(command)
    enable_colab_widgets()
    return command


def in_colab() -> bool:
    """True inside Google Colab (its runtime imports ``google.colab`` into every kernel)."""
    return "google.colab" in sys.modules


__all__ = ["COLAB_KEEP", "NO_WHEEL_MESSAGE", "REPO_BRANCH", "WHEEL_PLACES", "build_bundle", "colab_badge",
           "colab_deps_command", "colab_url", "enable_colab_widgets", "in_colab", "install_lines",
           "installed_versions", "prepare_colab", "project_home", "requirement_name"]
