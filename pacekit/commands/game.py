"""``pacekit game``: the pace-guessing game alone on a web page, for a projector (classroom mode).

Voila serves a one-cell notebook (:func:`pacekit.teaching.classroom.write_classroom`) whose code is hidden:
the page shows only the game, big, and answers to the keyboard (1..n answer, Enter or space go on).
Everything the page loads comes from this machine (no CDN), so it works without internet.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from ..teaching.classroom import TEMPLATE, write_classroom
from ..teaching.notebook import fast_mode
from .flags import positive_int


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def voila_command(notebook: Path, port: int, open_browser: bool, host: str = "127.0.0.1") -> list[str]:
    """The Voila command line that serves ``notebook`` with the classroom template, code hidden."""
    return [sys.executable, "-m", "voila", str(notebook), f"--port={port}", f"--Voila.ip={host}",
            f"--template={TEMPLATE}", "--strip_sources=True", "--theme=light",
            "--VoilaConfiguration.show_tracebacks=True", *([] if open_browser else ["--no-browser"])]


def cmd_game(args) -> int:
    for package in ("voila", "ipykernel"):
        if importlib.util.find_spec(package) is None:
            raise ImportError(f"{package} is not installed in this environment; pip install -e . in the clone "
                              f"(or pip install {package})")
    fast = fast_mode()
    data = Path(args.data or ("data/synthetic-small" if fast else "data/synthetic")).resolve()
    runs = Path(args.runs).resolve()
    port = args.port or free_port(args.host)
    folder = Path(tempfile.mkdtemp(prefix="pacekit-game-"))
    try:
        notebook = write_classroom(folder, data=str(data), runs=str(runs), rounds=args.rounds, seed=args.seed,
                                   fast=fast)
        env = dict(os.environ, JUPYTER_PATH=os.pathsep.join(
            [str(folder / "share"), *filter(None, [os.environ.get("JUPYTER_PATH")])]))
        print(f"pacekit game: {args.rounds} rounds on http://{args.host}:{port}/ "
              f"(data {data}, model runs under {runs}; the first start writes the data and trains the model)")
        print("keys: 1..9 answer, Enter or space next round; Ctrl-C stops the server", flush=True)
        server = subprocess.Popen(voila_command(notebook, port, not args.no_browser, args.host), cwd=folder, env=env)
        try:
            return server.wait()
        except KeyboardInterrupt:  # SIGTERM lets Voila shut its kernels down before the page folder goes
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
            raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "game", help="the pace-guessing game alone on a web page, for a classroom projector (Voila)",
        description="Serve the pace-guessing game of notebook 02 as a web page: the notebook code hidden, a big "
                    "layout, keyboard keys (1..n answer, Enter or space next round). The synthetic set is "
                    "written when missing and the model (notebook 02's settings, run 'classroom-game' under "
                    "--runs) trained when no finished run of the same settings exists. PACEKIT_FAST=1 makes "
                    "both small.")
    p.add_argument("--port", type=int, default=0, help="port to serve on (default: a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (default: 127.0.0.1, this machine only)")
    p.add_argument("--rounds", type=positive_int, default=10, help="rounds in the game (default: 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the deal and of the model (default: 0)")
    p.add_argument("--data", default=None, help="synthetic set folder, written when missing (default: "
                                                "data/synthetic, or data/synthetic-small with PACEKIT_FAST=1)")
    p.add_argument("--runs", default="runs", help="runs folder the model is read from or trained into "
                                                  "(default: runs)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser; only print the URL")
    p.set_defaults(func=cmd_game, interrupt_hint="stopped the game server")


__all__ = ["add_commands", "cmd_game", "free_port", "voila_command"]
