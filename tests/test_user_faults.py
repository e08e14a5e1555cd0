"""Faults a user causes that need more than one row of ``tests/test_fault_corpus.py`` (where the table of
faults lives): a port held by another program while the game starts, a data folder that must stay
untouched after the refusal, and a bad setting met inside a notebook's kernel.

No test may print a traceback; each fault names what is wrong and how to fix it.
"""

from __future__ import annotations

import pytest

from pacekit.cli import main as cli_main


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and "looks like a bug" not in err, err
    return err.splitlines()[-1]


def test_game_refuses_a_port_in_use(tmp_path, capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli_main(["game", "--no-browser", "--data", str(tmp_path / "set"), "--port", str(port)]) == 2
    assert f"port {port} is in use" in _one_line(capsys)


@pytest.mark.parametrize("kind", ["a file", "a user's dataset"])
def test_game_refuses_data_it_may_not_write(tmp_path, capsys, kind):
    target = tmp_path / "target"
    if kind == "a file":
        target.write_text("not a folder")
    else:
        (target / "ucfTrainTestlist").mkdir(parents=True)
        (target / "ucfTrainTestlist" / "classInd.txt").write_text("1 ApplyEyeMakeup\n")
    assert cli_main(["game", "--no-browser", "--data", str(target)]) == 2
    line = _one_line(capsys)
    assert "--data" in line and ("is a file" in line or "pacekit did not write it" in line)
    if kind != "a file":
        assert (target / "ucfTrainTestlist" / "classInd.txt").read_text() == "1 ApplyEyeMakeup\n"


def test_a_notebook_shows_a_pacekit_error_as_one_line_and_the_cell_still_fails(tmp_path, monkeypatch):
    # A real kernel, as the notebooks run: the setup cell's bad PACEKIT_PRETRAINED is its message alone; an error
    # pacekit did not raise on purpose keeps its traceback.
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    monkeypatch.delenv("PACEKIT_DEBUG", raising=False)
    monkeypatch.setenv("PACEKIT_PRETRAINED", "maybe")
    cells = ["def hint(self, etype, value, tb, tb_offset=None):  # a handler another package set before\n"
             "    print('hint for', etype.__name__)\n"
             "get_ipython().set_custom_exc((ImportError,), hint)",
             "from pacekit.teaching.notebook import setup\nnb = setup(quiet=True, cwd=%r)" % str(tmp_path),
             "import numpy as np\nnp.zeros(2).reshape(3)",
             "import a_module_that_is_not_there"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    (bad,), (bug,) = ([o for o in cell.outputs if o.output_type == "error"] for cell in nb.cells[1:3])
    assert nb.cells[3].outputs[0].text == "hint for ModuleNotFoundError\n"  # the kernel's own handler still runs
    assert bad.ename == "PacekitError" and len(bad.traceback) == 1, bad.traceback
    assert bad.traceback[0].startswith("PacekitError: PACEKIT_PRETRAINED=") and "0" in bad.traceback[0]
    assert bug.ename == "ValueError" and len(bug.traceback) > 1  # not pacekit's: the whole traceback
