"""``pacekit game`` (classroom mode): its flags, the page it writes and the Voila command it runs.

The page itself is played in a real browser by tests/test_browser.py."""

import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest

from pacekit import cli
from pacekit.commands import game as game_command
from pacekit.teaching.classroom import TEMPLATE, classroom_source, deal_game, write_classroom


def test_the_game_command_is_registered_with_its_flags():
    args = cli.build_parser().parse_args(["game", "--port", "8123", "--rounds", "4", "--data", "d", "--no-browser"])
    assert (args.port, args.rounds, args.data, args.no_browser) == (8123, 4, "d", True)
    assert args.func is game_command.cmd_game
    defaults = cli.build_parser().parse_args(["game"])
    assert (defaults.port, defaults.rounds, defaults.no_browser, defaults.host) == (0, 10, False, "127.0.0.1")
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["game", "--rounds", "0"])


def test_the_page_hides_the_code_and_fetches_nothing_from_a_cdn(tmp_path):
    path = write_classroom(tmp_path, data="/d", runs="/r", rounds=4, seed=2, fast=True)
    notebook = nbformat.read(str(path), as_version=4)
    assert [c.source for c in notebook.cells] == [classroom_source("/d", "/r", 4, 2, True)]
    assert "classroom_game(data='/d', runs='/r', rounds=4, seed=2, fast=True)" in notebook.cells[0].source
    template = tmp_path / "share" / "voila" / "templates" / TEMPLATE
    assert json.loads((template / "conf.json").read_text()) == {"base_template": "lab"}
    index = (template / "index.html.j2").read_text()
    assert not re.search(r"https?://", index.split("#}", 1)[1])  # no URL outside the comment
    assert "block notebook_css" in index and "block html_head_js_mermaidjs" in index
    command = game_command.voila_command(path, 8123, open_browser=False)
    assert command[:3] == [sys.executable, "-m", "voila"]
    assert {"--port=8123", "--Voila.ip=127.0.0.1", f"--template={TEMPLATE}", "--strip_sources=True",
            "--no-browser"} <= set(command)
    assert "--no-browser" not in game_command.voila_command(path, 8123, open_browser=True)


def test_cmd_game_prints_the_url_and_serves_with_its_template(monkeypatch, capsys, tmp_path):
    calls = []

    class FakeServer:
        def __init__(self, command, cwd, env, preexec_fn=None):
            folder = Path(cwd)
            calls.append((command, (folder / "pace_game.ipynb").is_file(), env["JUPYTER_PATH"].split(os.pathsep)[0],
                          str(folder / "share")))

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(game_command.subprocess, "Popen", FakeServer)
    monkeypatch.setenv("PACEKIT_FAST", "1")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["game", "--port", "8124", "--rounds", "3", "--no-browser"]) == 0
    out = capsys.readouterr().out
    assert "3 rounds on http://127.0.0.1:8124/" in out and str(tmp_path / "data" / "synthetic-small") in out
    (command, wrote, jupyter_path, share), = calls
    assert wrote and jupyter_path == share and "--port=8124" in command and "--no-browser" in command
    assert not Path(share).exists()  # the temporary page is removed when the server stops


def test_free_port_is_bindable():
    import socket

    port = game_command.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_a_dealt_game_shows_what_a_model_of_the_config_sees(tmp_path):
    from pacekit.config import get_config
    from pacekit.data.synthetic import make_synthetic

    root = make_synthetic(tmp_path / "synthetic", num_classes=2, videos_per_class=6, width=96, height=72,
                          duration=(1.0, 1.5), progress=False)
    cfg = get_config("cpu-tiny", dataset="synthetic", root=str(root), pace_set="absolute")
    rounds, fps = deal_game(cfg, num_rounds=4, seed=0)
    assert fps == 25
    assert [r.kind for r in rounds] == ["pick", "reference"] * 2
    for rnd in rounds:
        assert all(c.frames.shape == (cfg.clip_len, cfg.crop, cfg.crop, 3) for c in rnd.clips)


def test_ctrl_c_stops_the_server_gently_and_removes_the_page(monkeypatch, tmp_path):
    events = []

    class Server:
        def __init__(self, command, cwd, env, preexec_fn=None):
            self.folder = Path(cwd)

        def wait(self, timeout=None):
            if not events:
                events.append("wait")
                raise KeyboardInterrupt
            events.append(("waited", timeout, self.folder.exists()))
            return -15

        def terminate(self):
            events.append("terminate")

        def kill(self):
            events.append("kill")

    monkeypatch.setattr(game_command.subprocess, "Popen", Server)
    monkeypatch.chdir(tmp_path)
    args = cli.build_parser().parse_args(["game", "--no-browser", "--port", "8125"])
    with pytest.raises(KeyboardInterrupt):
        game_command.cmd_game(args)
    assert events[:2] == ["wait", "terminate"] and events[2][:2] == ("waited", 15) and events[2][2]
    assert "kill" not in events
    assert cli.interrupt_hint(args) == "stopped the game server"


def test_the_kernel_cap_is_a_flag_that_reaches_voilas_kernel_manager(tmp_path):
    """Voila and jupyter_server have no cap on live kernels; Voila's configurable kernel manager class
    (``VoilaConfiguration.multi_kernel_manager_class``) is pacekit's capped one, and ``--max-kernels`` its cap."""
    from traitlets.utils.importstring import import_item
    from voila.app import Voila
    from voila.configuration import VoilaConfiguration
    from voila.voila_kernel_manager import voila_kernel_manager_factory

    from pacekit.teaching.kernels import CappedKernelManager

    assert cli.build_parser().parse_args(["game"]).max_kernels == game_command.MAX_KERNELS == 4
    assert cli.build_parser().parse_args(["game", "--max-kernels", "2"]).max_kernels == 2
    command = game_command.voila_command(tmp_path / "p.ipynb", 8123, open_browser=False, max_kernels=2)
    assert import_item(game_command.KERNEL_MANAGER) is CappedKernelManager
    app = Voila()
    app.parse_command_line(command[3:])  # as Voila's own process parses it
    configuration = VoilaConfiguration(parent=app)
    assert configuration.multi_kernel_manager_class is CappedKernelManager
    manager = voila_kernel_manager_factory(configuration.multi_kernel_manager_class, False, 0)(parent=app)
    assert isinstance(manager, CappedKernelManager) and manager.max_kernels == 2


def test_cmd_game_serves_with_the_cap_asked_for(monkeypatch, tmp_path):
    commands = []

    class FakeServer:
        def __init__(self, command, cwd, env, preexec_fn=None):
            commands.append(command)

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(game_command.subprocess, "Popen", FakeServer)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["game", "--no-browser", "--max-kernels", "3"]) == 0
    assert "--CappedKernelManager.max_kernels=3" in commands[0]


def test_a_kernel_beyond_the_cap_is_refused_with_a_readable_reason():
    import asyncio

    from tornado import web

    from pacekit.teaching.kernels import CappedKernelManager

    manager = CappedKernelManager(max_kernels=1)
    manager._kernels["one"] = object()  # a page's kernel, alive
    with pytest.raises(web.HTTPError) as caught:
        asyncio.run(manager.start_kernel(kernel_name="python3"))
    assert caught.value.status_code == 503
    assert caught.value.reason.startswith("1 game page is open already") and "--max-kernels" in caught.value.reason
    assert list(manager._kernels) == ["one"]  # nothing started


def test_a_page_load_beyond_the_cap_shows_why_instead_of_starting_a_kernel(tmp_path):
    """The real server: a tiny page in the classroom template, the cap at one kernel; the first load renders, the
    second (the first page's kernel still alive) is HTTP 503 whose page says why, and the server logs no traceback."""
    import subprocess
    import time
    import urllib.error
    import urllib.request

    path = write_classroom(tmp_path, data="/d", runs="/r")
    notebook = nbformat.read(str(path), as_version=4)
    notebook.cells = [nbformat.v4.new_code_cell("print('the page ran')")]
    nbformat.write(notebook, str(path))
    port = game_command.free_port()
    env = dict(os.environ, JUPYTER_PATH=str(tmp_path / "share"))
    server = subprocess.Popen(game_command.voila_command(path, port, open_browser=False, max_kernels=1), cwd=tmp_path,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def load() -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=120) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                status, page = load()
                break
            except urllib.error.URLError:  # not listening yet
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.3)
        assert status == 200 and "the page ran" in page
        status, page = load()
        assert status == 503
        assert "503: 1 game page is open already" in page and "--max-kernels" in page
    finally:
        server.terminate()
        log = server.communicate(timeout=60)[1]
    assert "Traceback" not in log
