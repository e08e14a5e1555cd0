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
