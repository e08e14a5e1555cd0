"""Write the notebooks from their reviewable sources in ``notebooks/_src/`` and, optionally, run them.

Usage, from the repository root::

    python notebooks/_build.py                        # write every notebook (outputs cleared)
    PACEKIT_FAST=1 python notebooks/_build.py --execute   # write, then run each and keep its outputs
    python notebooks/_build.py --execute 02           # only the notebooks whose name starts with 02
    python notebooks/_build.py --keep-outputs 03      # rewrite from the source, keeping the outputs of
                                                      # every code cell whose code did not change

A source is a Python file in the "percent" format of jupytext: ``# %%`` starts a code cell and
``# %% [markdown]`` a Markdown cell whose lines are written as comments (``# text``). The first cell is
the Markdown title (``# NN · Title`` as its first line). The builder adds, the same way in every
notebook:

- the "Open in Colab" badge under the title, from the project's declared home
  (:func:`pacekit.teaching.colab.project_home`; no badge while none is declared);
- the measured run time in the header box: a source writes ``{run_time}`` in its first cell, and a run
  with ``--execute`` replaces it with the wall time just measured, the mode and the machine
  (:func:`run_time_text`), kept in the notebook's metadata (``pacekit.run``) so ``--keep-outputs`` keeps it;
- the setup cell, which installs pacekit on Colab from that home or from an uploaded wheel
  (:func:`pacekit.teaching.colab.install_lines`; ``--no-deps``: Colab's torch stays)
  and calls :func:`pacekit.teaching.notebook.setup` (which adds the missing dependencies and Colab's widget
  manager); a ``# %% [setup]`` cell in the source is appended to it (imports).

Running uses the ``python3`` kernel with the notebook's folder as working directory, as nbval does,
and prints each notebook's wall time. The file names start with an underscore so that pytest never
collects them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "_src"

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def setup_source(extra: str = "") -> str:
    """The setup cell every notebook starts with."""
    from pacekit.teaching.colab import install_lines, project_home

    lines = [
        "# Setup: on Colab, install pacekit (pacekit.teaching.colab) without replacing Colab's torch;",
        "# then seed, find the GPU, pick a preset (on Colab setup() adds the missing packages and widgets).",
        "import sys",
        "",
        'if "google.colab" in sys.modules:',
        *install_lines(project_home()),
        "",
    ]
    if extra.strip():
        lines += [extra.strip(), ""]
    lines += ["from pacekit.teaching.notebook import setup", "", "nb = setup()"]
    return "\n".join(lines)


def parse_cells(text: str) -> list[tuple[str, str]]:
    """``[(kind, source)]`` of a percent-format file; kind is ``code``, ``markdown`` or ``setup``."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            marker = line[4:].strip()
            kind = {"[markdown]": "markdown", "[setup]": "setup", "": "code"}.get(marker)
            if kind is None:
                raise ValueError(f"unknown cell marker {line!r}; use '# %%', '# %% [markdown]' or '# %% [setup]'")
            cells.append((kind, []))
        elif cells:
            kind, lines = cells[-1]
            if kind == "markdown":
                if line and not line.startswith("#"):
                    raise ValueError(f"a Markdown cell line must be a comment: {line!r}")
                line = line[2:] if line.startswith("# ") else line[1:]
            lines.append(line)
    return [(kind, "\n".join(lines).strip("\n")) for kind, lines in cells]


#: Written in a source's first cell where the notebook's measured run time goes (:func:`run_time_text`).
RUN_TIME = "{run_time}"


def _printed(nb: nbformat.NotebookNode) -> list[str]:
    """The text each code cell's outputs printed."""
    return ["".join(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def loaded_runs(nb: nbformat.NotebookNode) -> bool:
    """Whether the run loaded a training run of an earlier execution (``load_or_train`` printed "loaded ..."),
    so its time leaves out that training."""
    import re

    return any(re.search(r"^loaded \S+\.pt ", text, re.M) for text in _printed(nb))


def loaded_shipped(nb: nbformat.NotebookNode) -> bool:
    """Whether the run loaded a network shipped with pacekit instead of pretraining it (the notebook said so)."""
    return any("loaded the shipped pace-pretrained network" in text for text in _printed(nb))


def run_record(seconds: float, environ=None, loaded: bool = False, shipped: bool = False) -> dict:
    """What the build measured when it ran a notebook: its wall time, the mode, the machine and the date;
    ``loaded``: it loaded training runs of an earlier execution instead of training them; ``shipped``: it loaded
    shipped networks instead of pretraining them."""
    import datetime
    import os

    from pacekit.machine import describe_machine
    from pacekit.teaching.notebook import fast_mode, shipped_mode

    environ = os.environ if environ is None else environ
    mode = ("fast mode (`PACEKIT_FAST=1`)" if fast_mode(environ) else "with the shipped weights" if shipped else
            "default mode" if shipped_mode(environ) else "training every network (`PACEKIT_PRETRAINED=0`)")
    machine = describe_machine()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None  # other jobs slow a run down: say so
    return {"seconds": round(float(seconds), 1), "mode": mode, "cpu": machine["cpu"], "cores": machine["cores"],
            "date": datetime.date.today().isoformat(), "load": None if load is None else round(load, 1),
            "loaded_runs": bool(loaded)}


def _took(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 100 else f"{seconds / 60:.0f} min"


def short_run_time(run) -> str:
    """The measured time in a few words, for a table of lessons: ``"18 s"``, ``"9 min, shipped weights"``."""
    return (_took(run["seconds"]) + (", shipped weights" if "shipped weights" in run["mode"] else "")
            + (", earlier runs loaded" if run.get("loaded_runs") else ""))


def run_time_text(run) -> str:
    """The header's run time: what the build measured (:func:`run_record`), or that nothing was."""
    if not run:
        return "not measured yet (the notebook was built without running it)"
    busy = run.get("load") is not None and run["load"] > run["cores"] + 0.5
    beside = f" beside other jobs (load average {run['load']:.1f})" if busy else ""
    loaded = (", with the training runs of an earlier execution loaded (training them first takes longer)"
              if run.get("loaded_runs") else "")
    return (f"{_took(run['seconds'])} on a {run['cores']}-core {run['cpu']} CPU{beside}, {run['mode']}{loaded}; measured by the "
            f"notebook build on {run['date']}")


def build(source: Path, run=None) -> nbformat.NotebookNode:
    """The notebook of one source file (no outputs); ``run``: the build's measurement (:func:`run_record`)
    that its header states, None when it was not run."""
    from pacekit.teaching.colab import colab_badge, project_home

    name = source.stem + ".ipynb"
    cells = parse_cells(source.read_text().replace(RUN_TIME, run_time_text(run)))
    if not cells or cells[0][0] != "markdown" or not cells[0][1].startswith("# "):
        raise ValueError(f"{source}: the first cell must be the Markdown title ('# %% [markdown]' then '# # Title')")
    title, _, rest = cells[0][1].partition("\n")
    setup_extra = "\n\n".join(src for kind, src in cells if kind == "setup")
    nb = nbformat.v4.new_notebook()
    stem = source.stem.split("_")[0]
    badge = colab_badge(name, project_home())
    out = [nbformat.v4.new_markdown_cell((f"{title}\n\n{badge}\n{rest}" if badge else f"{title}\n{rest}").rstrip() + "\n"),
           nbformat.v4.new_code_cell(setup_source(setup_extra))]
    for kind, src in cells[1:]:
        if kind == "markdown":
            out.append(nbformat.v4.new_markdown_cell(src))
        elif kind == "code":
            out.append(nbformat.v4.new_code_cell(src))
    for i, cell in enumerate(out):
        cell["id"] = f"nb{stem}-{i:02d}"  # stable ids keep the diffs small
        cell["source"] = cell["source"].rstrip("\n")
    nb.cells = out
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    nb.metadata["colab"] = {"provenance": []}
    if run:
        nb.metadata["pacekit"] = {"run": dict(run)}
    return nb


def execute(nb: nbformat.NotebookNode, timeout: int = 1200) -> nbformat.NotebookNode:
    """Run every cell with the python3 kernel in notebooks/, as nbval does; outputs are kept."""
    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(HERE)}},
                            record_timing=False)
    client.execute()
    return nb


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="notebook name prefixes, e.g. 01 02 (default: all)")
    parser.add_argument("--execute", action="store_true", help="run each notebook and keep its outputs")
    parser.add_argument("--keep-outputs", action="store_true",
                        help="keep the committed outputs of code cells whose source is unchanged (prose edits "
                             "after a run); refused when a code cell changed, which needs --execute")
    parser.add_argument("--cell-timeout", type=int, default=1200,
                        help="seconds one cell may run with --execute (default: 1200)")
    args = parser.parse_args(argv)
    sources = sorted(SOURCES.glob("[0-9][0-9]_*.py"))
    if args.names:
        sources = [s for s in sources if any(s.stem.startswith(n) for n in args.names)]
    if not sources:
        print(f"no notebook sources match {args.names} in {SOURCES}", file=sys.stderr)
        return 2
    for source in sources:
        target = HERE / (source.stem + ".ipynb")
        old = nbformat.read(str(target), as_version=4) if target.exists() else None
        kept_run = (old.metadata.get("pacekit", {}).get("run") if old is not None and args.keep_outputs
                    and not args.execute else None)
        nb = build(source, kept_run)
        if args.keep_outputs and not args.execute:
            if [c.source for c in old.cells if c.cell_type == "code"] != [c.source for c in nb.cells if c.cell_type == "code"]:
                print(f"{target.name}: a code cell changed since its outputs were made; run it with --execute",
                      file=sys.stderr)
                return 2
            outputs = iter([(c.get("outputs", []), c.get("execution_count")) for c in old.cells if c.cell_type == "code"])
            for cell in nb.cells:
                if cell.cell_type == "code":
                    cell["outputs"], cell["execution_count"] = next(outputs)
        if args.execute:
            t0 = time.perf_counter()
            execute(nb, timeout=args.cell_timeout)
            seconds = time.perf_counter() - t0
            print(f"{target.name}: ran in {seconds:.0f} s")
            # the header states what was measured
            ran = build(source, run_record(seconds, loaded=loaded_runs(nb), shipped=loaded_shipped(nb)))
            nb.cells[0]["source"] = ran.cells[0]["source"]
            # the built metadata, as --keep-outputs writes it: the kernel's language details and widget state
            # would change on every execution and make the diffs large
            nb.metadata = ran.metadata
        nbformat.validate(nb)
        nbformat.write(nb, str(target))
        print(f"wrote {target.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
