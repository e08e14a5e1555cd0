"""``pacekit game``: the pace-guessing game alone on a web page, for a projector (classroom mode).

Voila serves a one-cell notebook (:func:`pacekit.teaching.classroom.write_classroom`) whose code is hidden:
the page shows only the game, big, and answers to the keyboard (1..n answer, Enter or space go on).
Everything the page loads comes from this machine (no CDN), so it works without internet.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib.util
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from ..data.synthetic import check_synthetic_folder
from ..errors import PacekitError
from ..teaching.classroom import TEMPLATE, write_classroom
from ..teaching.notebook import fast_mode
from ..workers import set_parent_death_signal
from .flags import non_negative_int, positive_int


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


#: A page's kernel idle this long (seconds) with no browser connected is shut down.
CULL_IDLE_SECONDS = 300

#: Pages (each a Python kernel holding the data and the model) served at once by default: the projector's page
#: and a few reloads while the kernels of closed pages end.
MAX_KERNELS = 4

#: The kernel manager Voila is given: jupyter_server's with a cap, :class:`pacekit.teaching.kernels.CappedKernelManager`;
#: named, not imported, since Voila's process imports it and the command line need not (jupyter_server loads slowly).
KERNEL_MANAGER = "pacekit.teaching.kernels.CappedKernelManager"


def voila_command(notebook: Path, port: int, open_browser: bool, host: str = "127.0.0.1",
                  max_kernels: int = MAX_KERNELS) -> list[str]:
    """The Voila command line that serves ``notebook`` with the classroom template, code hidden; a page's
    kernel ends when the page closes or sits idle unconnected, at most ``max_kernels`` live at once (a page
    beyond them says so: :mod:`pacekit.teaching.kernels`), and visitors never see a traceback."""
    return [sys.executable, "-m", "voila", str(notebook), f"--port={port}", f"--Voila.ip={host}",
            f"--template={TEMPLATE}", "--strip_sources=True", "--theme=light",
            "--VoilaConfiguration.show_tracebacks=False",
            f"--VoilaConfiguration.multi_kernel_manager_class={KERNEL_MANAGER}",
            f"--{KERNEL_MANAGER.rsplit('.', 1)[1]}.max_kernels={int(max_kernels)}",
            f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_SECONDS}", "--MappingKernelManager.cull_interval=60",
            "--MappingKernelManager.cull_connected=False", *([] if open_browser else ["--no-browser"])]


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 1..65535, or 0 for a free one."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number 0..65535, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0..65535 (0: a free one), got {text}")
    return value


def check_serving(host: str, port: int, allow_remote: bool) -> None:
    """Refuse, before anything starts, an address this machine cannot serve on, a port in use, and (without
    ``allow_remote``) an address beyond this machine: the page has no password."""
    try:
        infos = socket.getaddrinfo(host, port or None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise GameServeError(f"--host {host}: not an address of this machine ({exc.strerror})") from None
    address = ipaddress.ip_address(infos[0][4][0])
    if not address.is_loopback and not allow_remote:
        raise GameServeError(f"--host {host} serves the game beyond this machine, to anyone who can reach it, "
                             "with no password; add --allow-remote to do so on purpose")
    with socket.socket(infos[0][0], socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            what = f"port {port} is in use" if exc.errno == errno.EADDRINUSE else exc.strerror
            raise GameServeError(f"--host {host} --port {port}: cannot serve there ({what}); choose another "
                                 "--port, or leave it out for a free one") from None


def check_game_data(data: Path) -> None:
    """``--data`` must be a synthetic set pacekit wrote, or a folder it may write one into."""
    try:
        check_synthetic_folder(data)
    except (FileExistsError, NotADirectoryError, ValueError) as exc:
        raise GameServeError(f"--data {data}: {exc}") from None


#: The page folder of a running ``pacekit game``: ``<tmp>/pacekit-game-<pid>-<random>``.
PAGE_FOLDER_PREFIX = "pacekit-game-"


def _remove_stale_page_folders() -> None:
    """Remove the page folders of ``pacekit game`` commands that were killed (their pid is gone)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{PAGE_FOLDER_PREFIX}*-*"):
        pid = folder.name[len(PAGE_FOLDER_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass


class GameServeError(PacekitError):
    """The game cannot be served as asked (address, port, data folder)."""


@contextlib.contextmanager
def _stop_on_signals():
    """Within: SIGTERM and SIGHUP raise KeyboardInterrupt, so that the server, its kernels and the page
    folder are stopped and removed as on Ctrl-C; the previous handlers come back after."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _server_dies_with_us() -> None:
    """In the Voila process, before it starts: end it (and so its kernels) when ``pacekit game`` dies."""
    set_parent_death_signal(signal.SIGTERM)


def cmd_game(args) -> int:
    for package in ("voila", "ipykernel"):
        if importlib.util.find_spec(package) is None:
            raise ImportError(f"{package} is not installed in this environment; pip install -e . in the clone "
                              f"(or pip install {package})")
    fast = fast_mode()
    data = Path(args.data or ("data/synthetic-small" if fast else "data/synthetic")).resolve()
    runs = Path(args.runs).resolve()
    check_game_data(data)
    check_serving(args.host, args.port, args.allow_remote)
    port = args.port or free_port(args.host)
    _remove_stale_page_folders()
    with _stop_on_signals():
        return _serve(args, data, runs, port, fast)


def _serve(args, data: Path, runs: Path, port: int, fast: bool) -> int:
    folder = Path(tempfile.mkdtemp(prefix=f"{PAGE_FOLDER_PREFIX}{os.getpid()}-"))
    try:
        notebook = write_classroom(folder, data=str(data), runs=str(runs), rounds=args.rounds, seed=args.seed,
                                   fast=fast)
        env = dict(os.environ, JUPYTER_PATH=os.pathsep.join(
            [str(folder / "share"), *filter(None, [os.environ.get("JUPYTER_PATH")])]))
        print(f"pacekit game: {args.rounds} rounds on http://{args.host}:{port}/ "
              f"(data {data}, model runs under {runs}; the first start writes the data, and "
              + ("trains the model)" if fast else "loads the shipped game network, or trains one where it does not fit or PACEKIT_PRETRAINED=0)"))
        print("keys: 1..9 answer, Enter or space next round; Ctrl-C stops the server", flush=True)
        server = subprocess.Popen(voila_command(notebook, port, not args.no_browser, args.host, args.max_kernels),
                                  cwd=folder, env=env,
                                  preexec_fn=_server_dies_with_us)
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
                    "written when missing; the model is the game network shipped with pacekit (notebook 02's "
                    "settings), or, where it does not fit, run 'classroom-game' under --runs, trained when no "
                    "finished run of the same settings exists. PACEKIT_FAST=1 makes both small and always trains.")
    p.add_argument("--port", type=port_number, default=0, help="port to serve on (default: a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (default: 127.0.0.1, this machine only)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a --host beyond this machine (the page has no password: anyone who reaches it plays)")
    p.add_argument("--rounds", type=positive_int, default=10, help="rounds in the game (default: 10)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of the deal and of the model (default: 0)")
    p.add_argument("--data", default=None, help="synthetic set folder, written when missing (default: "
                                                "data/synthetic, or data/synthetic-small with PACEKIT_FAST=1)")
    p.add_argument("--runs", default="runs", help="runs folder the model is read from or trained into "
                                                  "(default: runs)")
    p.add_argument("--max-kernels", type=positive_int, default=MAX_KERNELS,
                   help="pages served at once, each a Python kernel holding the data and the model; a page beyond "
                        "them says so and starts nothing (default: %(default)s)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser; only print the URL")
    p.set_defaults(func=cmd_game, interrupt_hint="stopped the game server")


__all__ = ["KERNEL_MANAGER", "MAX_KERNELS", "GameServeError", "add_commands", "check_game_data", "check_serving",
           "cmd_game", "free_port", "port_number", "voila_command"]
