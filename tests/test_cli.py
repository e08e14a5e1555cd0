"""The command line's error handling: errors a user can fix are one line, anything else keeps its traceback."""

from __future__ import annotations

import pytest

from pacekit import cli
from pacekit.config import ConfigError
from pacekit.data import SplitError, VideoDecodeError
from pacekit.errors import PacekitError
from pacekit.evaluation.recognition import NoUsableVideosError
from pacekit.training.checkpoint import CheckpointError


def _run_raising(monkeypatch, exc: BaseException):
    """main() on a parser whose one command raises ``exc``."""
    monkeypatch.setattr(cli, "build_parser", lambda: _parser_raising(exc))
    monkeypatch.delenv("PACEKIT_DEBUG", raising=False)
    return cli.main(["boom"])


@pytest.mark.parametrize("error_class", [CheckpointError, ConfigError, SplitError, NoUsableVideosError])
def test_pacekit_errors_keep_their_builtin_bases(error_class):
    assert issubclass(error_class, PacekitError)
    assert issubclass(SplitError, FileNotFoundError) and issubclass(CheckpointError, RuntimeError)
    assert issubclass(VideoDecodeError, PacekitError) and issubclass(VideoDecodeError, RuntimeError)
    assert issubclass(ConfigError, ValueError)


def test_a_pacekit_error_is_one_line_with_exit_2(monkeypatch, capsys):
    assert _run_raising(monkeypatch, PacekitError("no split file at data/ucf101/splits")) == 2
    err = capsys.readouterr().err
    assert err == "pacekit boom: error: no split file at data/ucf101/splits\n"


def test_a_missing_file_is_one_line_with_exit_2(monkeypatch, capsys):
    assert _run_raising(monkeypatch, FileNotFoundError("--pretrained x.pt: no such checkpoint file")) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_a_runtime_error_from_inside_a_command_keeps_its_traceback(monkeypatch, capsys):
    code = _run_raising(monkeypatch, RuntimeError("mat1 and mat2 shapes cannot be multiplied (8x512 and 256x10)"))
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback (most recent call last)" in err and "raising_command" in err
    assert "mat1 and mat2 shapes" in err
    assert err.rstrip().splitlines()[-1] == cli.BUG_HINT


def test_a_value_error_raised_outside_pacekit_keeps_its_traceback(monkeypatch, capsys):
    import numpy as np

    def from_numpy():
        try:
            np.zeros(3).reshape(2, 2)
        except ValueError as exc:
            return exc

    assert _run_raising(monkeypatch, from_numpy()) == 1
    assert "Traceback" in capsys.readouterr().err


def test_pacekit_debug_shows_the_traceback_of_a_one_line_error(monkeypatch):
    monkeypatch.setattr(cli, "build_parser", lambda: _parser_raising(PacekitError("bad")))
    monkeypatch.setenv("PACEKIT_DEBUG", "1")
    with pytest.raises(PacekitError):
        cli.main(["boom"])


def _parser_raising(exc):
    parser = cli.argparse.ArgumentParser(prog="pacekit")
    sub = parser.add_subparsers(dest="command")

    def raising_command(args):
        raise exc

    sub.add_parser("boom").set_defaults(func=raising_command)
    return parser


def test_help_documents_the_debug_switch(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "PACEKIT_DEBUG=1" in capsys.readouterr().out
