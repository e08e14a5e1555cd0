"""The notebooks as files: names, kernel, Colab badge and setup cell, committed outputs, no machine paths;
plus the setup helper (pacekit.teaching.notebook) and the `pacekit lab` command they rely on."""

import importlib.util
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

from pacekit.config import run_differences
from pacekit.teaching import colab as pcolab
from pacekit.teaching import notebook as pnb

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
NAMES = ["01_pace_sampling", "02_guess_the_pace", "03_pretrain_on_gpu", "04_contrastive_variants",
         "05_finetune_and_retrieval", "06_attention_maps"]
# Machine paths that must never reach a committed notebook (sources or outputs).
# (Assembled from parts so that this file does not itself read as holding a machine path.)
_ROOTS = ["work", "home", "tmp", "root", "Users", "private/var"]
ABSOLUTE = re.compile("(" + "|".join(f"/{r}/" for r in _ROOTS) + r"|[A-Za-z]:\\\\|site-packages)")


def load(name):
    return nbformat.read(str(NOTEBOOKS / f"{name}.ipynb"), as_version=4)


def builder():
    spec = importlib.util.spec_from_file_location("_build", NOTEBOOKS / "_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_six_notebooks_are_there_in_order():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == NAMES
    assert sorted(p.stem for p in (NOTEBOOKS / "_src").glob("*.py")) == NAMES
    # nbval collects every .ipynb under notebooks/; the helper scripts must not look like tests
    assert not [p for p in NOTEBOOKS.rglob("*.py") if p.name.startswith("test") or p.stem.endswith("_test")]


@pytest.mark.parametrize("name", NAMES)
def test_kernel_badge_and_setup_cell(name):
    nb = load(name)
    assert nb.metadata.kernelspec.name == "python3"
    title, setup = nb.cells[0], nb.cells[1]
    assert title.cell_type == "markdown" and title.source.startswith(f"# {name[:2]} · ")
    assert pcolab.colab_badge(f"{name}.ipynb", pcolab.project_home()) in title.source
    assert setup.cell_type == "code"
    assert 'if "google.colab" in sys.modules:\n' + "\n".join(pcolab.install_lines(pcolab.project_home())) in setup.source
    assert setup.source.rstrip().endswith("nb = setup()")
    assert sum("nb = setup()" in c.source for c in nb.cells) == 1  # one setup cell
    assert any(c.cell_type == "markdown" and re.search(r"(^|\n)## Exercises\n", c.source) for c in nb.cells)


def test_no_install_or_badge_url_outside_the_declared_home():
    """pacekit installs from its declared home only (pyproject's [project.urls]); with none declared, no
    notebook, README or doc names a repository to install from or open in Colab (links to other projects,
    such as the authors' code, are references, not installs)."""
    home = pcolab.project_home()
    allowed = {pcolab._github_path(home)} if home else set()
    root = NOTEBOOKS.parent
    texts = [*(NOTEBOOKS.glob("*.ipynb")), root / "README.md", *(root / "docs").glob("*.md"), NOTEBOOKS / "README.md"]
    for path in texts:
        text = path.read_text()
        linked = set(re.findall(r"colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)", text))
        installs = re.findall(r"pip install[^\n]*git\+(\S+)", text)
        assert linked <= allowed, (path.name, linked)
        assert all(home and url.startswith(home) for url in installs), (path.name, installs)


@pytest.mark.parametrize("name", NAMES)
def test_outputs_of_a_real_run_are_committed(name):
    nb = load(name)
    code = [c for c in nb.cells if c.cell_type == "code"]
    # run top to bottom once, every cell, no errors
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    for cell in code:
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source[:60]
        if "# NBVAL_CHECK_OUTPUT" in cell.source:
            assert cell.outputs, f"{name}: a checked cell has no committed output"
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, f"{name}: no figure in the committed outputs (GitHub shows none)"
    setup_text = "".join(o.get("text", "") for o in code[0].outputs)
    assert setup_text.startswith("pacekit notebook setup:")


@pytest.mark.parametrize("name", NAMES)
def test_no_absolute_paths_anywhere(name):
    nb = load(name)
    for cell in nb.cells:
        assert not ABSOLUTE.search(cell.source), (name, cell.source[:80])
        for out in cell.get("outputs", []):
            text = json.dumps({k: v for k, v in out.items() if k != "data"}) + json.dumps(
                {k: v for k, v in out.get("data", {}).items() if not k.startswith("image/")})
            assert not ABSOLUTE.search(text), (name, text[:200])


def test_nbval_checks_the_deterministic_outputs():
    checked = {name: sum("# NBVAL_CHECK_OUTPUT" in c.source for c in load(name).cells) for name in NAMES}
    assert checked["01_pace_sampling"] >= 3
    assert checked["04_contrastive_variants"] >= 2 and checked["05_finetune_and_retrieval"] >= 1
    table = next(c for c in load("01_pace_sampling").cells if "frames (1-based)" in c.source)
    assert "super fast  p = 3    frames (1-based): [11, 14, 17, 20, 23]" in table.outputs[0].text


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebooks_are_built_from_their_sources(name):
    """notebooks/_build.py writes each notebook from notebooks/_src/<name>.py; nobody edits one by hand."""
    committed = load(name)
    built = builder().build(NOTEBOOKS / "_src" / f"{name}.py", committed.metadata.get("pacekit", {}).get("run"))
    assert [(c.cell_type, c.source) for c in built.cells] == [(c.cell_type, c.source) for c in committed.cells]


@pytest.mark.parametrize("name", NAMES)
def test_each_notebook_header_states_the_run_time_its_build_measured(name):
    """The header box's run time is the build's measurement (metadata ``pacekit.run``), never typed."""
    source = (NOTEBOOKS / "_src" / f"{name}.py").read_text()
    assert source.count(builder().RUN_TIME) == 1  # one place, in the source's first cell
    run = load(name).metadata.get("pacekit", {}).get("run")
    assert run and run["seconds"] > 0 and run["cores"] >= 1, "run the notebook with notebooks/_build.py --execute"
    header = load(name).cells[0].source
    assert builder().run_time_text(run) in header and "**Run time:**" in header
    for part in ("**You will learn**", "**Before this:**"):
        assert part in header, part


def test_the_run_time_says_what_was_measured_and_how():
    run = {**builder().run_record(85.2, {}, shipped=True), "load": 0.5}
    assert run["mode"] == "with the shipped weights" and run["seconds"] == 85.2
    assert builder().run_record(3, {"PACEKIT_PRETRAINED": "0"})["mode"] == "training every network (`PACEKIT_PRETRAINED=0`)"
    assert builder().run_record(3, {"PACEKIT_PRETRAINED": "1"})["mode"] == "default mode"  # nothing it could load
    text = builder().run_time_text(run)
    assert text.startswith(f"85 s on a {run['cores']}-core {run['cpu']} CPU, with the shipped weights")
    busy = builder().run_time_text({**run, "load": run["cores"] + 2.0})
    assert f"CPU beside other jobs (load average {run['cores'] + 2.0:.1f}), with" in busy
    assert builder().run_time_text({**run, "seconds": 905.0}).startswith("15 min")
    assert builder().run_record(3, {"PACEKIT_FAST": "1"})["mode"] == "fast mode (`PACEKIT_FAST=1`)"
    loaded = builder().run_time_text({**run, "loaded_runs": True})
    assert "with the training runs of an earlier execution loaded" in loaded
    assert builder().short_run_time({**run, "loaded_runs": True}) == "85 s, shipped weights, earlier runs loaded"
    printed = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x")])
    printed.cells[0].outputs = [nbformat.v4.new_output("stream", text="loaded ../runs/notebooks/game/last.pt (pretrain, 30 epochs)\n")]
    assert builder().loaded_runs(printed)
    printed.cells[0].outputs = [nbformat.v4.new_output("stream", text="pretrain: tiny on synthetic\n")]
    assert not builder().loaded_runs(printed) and not builder().loaded_shipped(printed)
    from pacekit.teaching.notebook import shipped_message
    from pacekit.teaching.shipped import shipped_record

    said = shipped_message(shipped_record(network="game"), "game")  # what a notebook prints when it loads one
    printed.cells[0].outputs = [nbformat.v4.new_output("stream", text=said + "\n")]
    assert builder().loaded_shipped(printed) and not builder().loaded_runs(printed)
    assert "not measured" in builder().run_time_text(None)


def test_the_builder_parses_percent_cells():
    cells = builder().parse_cells("# %% [markdown]\n# # Title\n#\n# text\n# %% [setup]\nimport os\n# %%\nx = 1\n")
    assert cells == [("markdown", "# Title\n\ntext"), ("setup", "import os"), ("code", "x = 1")]
    with pytest.raises(ValueError, match="unknown cell marker"):
        builder().parse_cells("# %% [raw]\n")


# ------------------------------------------------------------------------------------ pacekit.teaching.notebook


def test_fast_mode_reads_the_environment_variable():
    assert pnb.fast_mode({"PACEKIT_FAST": "1"}) and pnb.fast_mode({"PACEKIT_FAST": "True"})
    assert not pnb.fast_mode({}) and not pnb.fast_mode({"PACEKIT_FAST": "0"})


def test_preset_and_paths_follow_mode_and_hardware(tmp_path):
    assert pnb.pick_preset(fast=True, cuda=True) == "cpu-tiny"
    assert pnb.pick_preset(fast=False, cuda=True) == "gpu-demo"
    assert pnb.pick_preset(fast=False, cuda=False) == "cpu-tiny"
    (tmp_path / "pacekit").mkdir()
    (tmp_path / "notebooks").mkdir()
    assert pnb.project_root(tmp_path / "notebooks") == Path("..")
    assert pnb.project_root(tmp_path) == Path(".")
    nb = pnb.setup(seed=3, fast=True, quiet=True, cwd=tmp_path / "notebooks")
    assert (nb.data_dir, nb.runs_dir) == (Path("../data/synthetic-small"), Path("../runs/notebooks-fast"))
    full = pnb.setup(fast=False, preset="cpu-tiny", quiet=True, cwd=tmp_path)
    assert (full.data_dir, full.runs_dir) == (Path("data/synthetic"), Path("runs/notebooks"))
    assert "fast mode" in nb.summary() and "seed 3" in nb.summary() and "/" + "tmp" not in nb.summary()


def test_setup_seeds_everything():
    import numpy as np
    import torch

    pnb.setup(seed=5, fast=True, quiet=True)
    a = (torch.rand(2).tolist(), np.random.rand())
    pnb.setup(seed=5, fast=True, quiet=True)
    assert a == (torch.rand(2).tolist(), np.random.rand())


def test_the_fast_config_is_small_and_the_full_one_is_the_preset():
    from pacekit.config import get_config

    fast = pnb.setup(fast=True, quiet=True).config("pretrain", pace_set="absolute")
    assert (fast.epochs, fast.epoch_repeat, fast.synthetic_classes, fast.synthetic_videos) == (2, 4, 5, 8)
    assert fast.run_dir.endswith("runs/notebooks-fast/pretrain")
    assert (fast.dataset, fast.pace_set, fast.progress) == ("synthetic", "absolute", False)
    full = pnb.setup(fast=False, preset="cpu-tiny", quiet=True).config("pretrain")
    preset = get_config("cpu-tiny")
    assert (full.epochs, full.synthetic_videos, full.backbone) == (preset.epochs, preset.synthetic_videos, "tiny-fine")
    # the same synthetic folder and size as `pacekit quickstart`, so neither rewrites the other's videos
    assert full.root.endswith("data/synthetic")


def _saved_run(tmp_path, cfg, stage="pretrain"):
    from pacekit.recipes.train import build_pace_model
    from pacekit.training.checkpoint import save_checkpoint

    model = build_pace_model(cfg, 4)
    state = {"model": model.state_dict(), "optimizer": {}, "scheduler": {}, "rng": {}, "config": cfg.to_dict(),
             "epoch": cfg.epochs, "step": 10, "metrics": [{"kind": "epoch", "epoch": 1, "step": 10, "loss": 1.3,
                                                           "acc": 0.4}], "stage": stage}
    save_checkpoint(Path(cfg.run_dir) / "last.pt", state)
    return model


def test_load_or_train_reuses_a_run_with_the_same_settings(tmp_path, capsys):
    import torch

    from pacekit.config import get_config

    cfg = get_config("cpu-tiny", out_dir=str(tmp_path), name="pre", dataset="synthetic", root=str(tmp_path / "d"))
    model = _saved_run(tmp_path, cfg)
    assert pnb.reusable_checkpoint(cfg.replace(num_workers=0, progress=False), "pretrain") is not None
    result = pnb.load_or_train(cfg.replace(device="cpu"), "pretrain")
    assert "loaded" in capsys.readouterr().out
    assert result.metrics[0]["acc"] == 0.4 and result.checkpoint == Path(cfg.run_dir) / "last.pt"
    for key, value in model.state_dict().items():
        assert torch.equal(result.model.state_dict()[key], value)


def test_a_run_with_other_settings_or_stage_is_not_reused(tmp_path, capsys):
    from pacekit.config import get_config

    cfg = get_config("cpu-tiny", out_dir=str(tmp_path), name="pre", dataset="synthetic", root=str(tmp_path / "d"))
    _saved_run(tmp_path, cfg)
    assert run_differences(cfg.to_dict(), cfg.replace(lr=0.1, epochs=3), "pretrain") == ["epochs", "lr"]
    # a fine-tuning run does not read the pretraining group: the same fine-tuning (its backbone file is checked apart)
    assert run_differences(cfg.to_dict(), cfg.replace(lr=0.1, epochs=3), "finetune") == []
    assert pnb.reusable_checkpoint(cfg.replace(lr=0.1), "pretrain") is None
    assert "different lr" in capsys.readouterr().out
    assert pnb.reusable_checkpoint(cfg, "finetune") is None
    assert "stage 'pretrain'" in capsys.readouterr().out
    assert pnb.reusable_checkpoint(cfg.replace(name="other"), "pretrain") is None


def test_pretraining_ignores_fine_tuning_fields_and_fine_tuning_follows_its_backbone(tmp_path, capsys):
    import os

    from pacekit.config import get_config

    cfg = get_config("cpu-tiny", out_dir=str(tmp_path), name="pre", dataset="synthetic", root=str(tmp_path / "d"))
    _saved_run(tmp_path, cfg)
    assert pnb.reusable_checkpoint(cfg.replace(ft_lr=0.5, labels_per_class=9), "pretrain") is not None
    assert run_differences(cfg.to_dict(), cfg.replace(ft_lr=0.5), "finetune") == ["ft_lr"]
    backbone = Path(cfg.run_dir) / "last.pt"
    ft = cfg.replace(name="ft", pretrained=str(backbone))
    _saved_run(tmp_path, ft, stage="finetune")
    assert pnb.reusable_checkpoint(ft, "finetune") is not None
    later = (Path(ft.run_dir) / "last.pt").stat().st_mtime + 10
    os.utime(backbone, (later, later))  # the backbone was trained again after this fine-tuning
    capsys.readouterr()
    assert pnb.reusable_checkpoint(ft, "finetune") is None
    assert "older than its pretrained backbone" in capsys.readouterr().out
    assert pnb.load_or_train(cfg, "pretrain", retrain=False).checkpoint == backbone


def test_load_or_train_resumes_an_unfinished_run_and_ends_where_an_uninterrupted_one_does(ucf_root, tmp_path, capsys):
    # A Colab VM that disconnects mid-run leaves epoch checkpoints on Drive and no last.pt: the notebook's next
    # load_or_train continues that run instead of starting it again, and ends with the same weights.
    import torch
    from helpers import tiny_config

    whole = pnb.load_or_train(tiny_config(ucf_root, tmp_path / "whole", epochs=2, lr_step=1), "pretrain")
    cut = tiny_config(ucf_root, tmp_path / "cut", epochs=2, lr_step=1)
    pnb.load_or_train(cut.replace(epochs=1), "pretrain")
    (Path(cut.run_dir) / "last.pt").unlink()  # as if the VM stopped before the run's end
    assert pnb.resumable_checkpoint(cut.replace(lr=0.5), "pretrain") is None  # other settings: not resumed
    assert pnb.resumable_checkpoint(cut, "finetune") is None
    capsys.readouterr()
    resumed = pnb.load_or_train(cut, "pretrain")
    assert "resuming" in capsys.readouterr().out
    assert [r["epoch"] for r in resumed.metrics if r["kind"] == "epoch"] == [1, 2]
    for key, value in whole.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[key], value), key


def test_live_curves_draw_the_run_log(tmp_path):
    from pacekit.training.logging import MetricsLog

    log = MetricsLog(tmp_path)
    for step in (2, 4):
        log.append({"stage": "pretrain", "kind": "step", "epoch": 1, "step": step, "loss": 1.0 / step, "acc": 0.3})
    live = pnb.LiveCurves(tmp_path, title="t")
    live({"kind": "epoch"})
    live({"kind": "epoch"})
    assert live.updates == 2


# ------------------------------------------------------------------------------------ pacekit lab


def test_lab_opens_the_repository_notebooks(tmp_path):
    from pacekit.cli import build_parser
    from pacekit.commands import lab

    assert lab.find_notebooks() == NOTEBOOKS
    assert lab.lab_command(NOTEBOOKS, ["--no-browser"]) == [sys.executable, "-m", "jupyterlab", str(NOTEBOOKS),
                                                             "--no-browser"]
    with pytest.raises(FileNotFoundError, match="no such folder"):
        lab.find_notebooks(str(tmp_path / "missing"))
    args = build_parser().parse_args(["lab", "--dir", str(NOTEBOOKS), "--", "--port", "8890"])
    assert args.func is lab.cmd_lab and args.jupyter_args[-2:] == ["--port", "8890"]


# ------------------------------------------------------------------------------------ Colab


def test_a_declared_home_is_the_one_place_badges_and_install_lines_come_from(monkeypatch, tmp_path):
    """A fork that declares its home in pyproject's [project.urls] gets badges and a git install line from
    it; without a home, no badge and the setup cell installs an uploaded wheel or stops saying how."""
    fork = "https://github.com/someone/pacekit-fork"
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "pacekit"\n[project.urls]\nRepository = "{fork}"\n')
    assert pcolab.project_home(tmp_path) == fork
    monkeypatch.setattr(pcolab, "project_home", lambda repo=None: fork)
    built = builder().build(NOTEBOOKS / "_src" / "02_guess_the_pace.py")
    assert "github/someone/pacekit-fork/blob/main/notebooks/02_guess_the_pace.ipynb" in built.cells[0].source
    assert f"%pip install -q --no-deps git+{fork}\n" in built.cells[1].source
    monkeypatch.setattr(pcolab, "project_home", lambda repo=None: None)
    built = builder().build(NOTEBOOKS / "_src" / "02_guess_the_pace.py")
    assert "colab-badge" not in built.cells[0].source and "git+" not in built.cells[1].source
    assert "pacekit-*.whl" in built.cells[1].source and "colab-bundle" in built.cells[1].source


def test_the_colab_setup_cell_installs_an_uploaded_wheel_or_stops_with_the_fix(tmp_path):
    """The no-home Colab branch of the setup cell, run as Python with the magic replaced by a recorder."""
    branch = "\n".join(line[4:] for line in pcolab.install_lines(None))
    branch = branch.replace("%pip install -q --no-deps {wheels[-1]}", "installed.append(wheels[-1])")
    places = {p: tmp_path / p.strip("/").replace("/", "_") for p in pcolab.WHEEL_PLACES}
    for folder in places.values():
        folder.mkdir()
    for original, folder in places.items():
        branch = branch.replace(repr(original), repr(str(folder)))
    with pytest.raises(SystemExit, match="colab-bundle"):
        exec(branch, {"installed": []})
    (places["/content"] / "pacekit-0.1.0-py3-none-any.whl").write_bytes(b"wheel")
    installed = []
    exec(branch, {"installed": installed})
    assert installed == [str(places["/content"] / "pacekit-0.1.0-py3-none-any.whl")]


def test_colab_bundle_writes_a_wheel_that_runs_alone(tmp_path):
    """`pacekit colab-bundle` writes one wheel with the package and its shipped weights, and that wheel,
    unpacked on its own, runs `pacekit quickstart --help`."""
    import subprocess
    import zipfile

    from pacekit.cli import main

    repo = Path(__file__).resolve().parents[1]
    had_build = (repo / "build").exists()
    assert main(["colab-bundle", "--out", str(tmp_path / "bundle")]) == 0
    assert (repo / "build").exists() == had_build  # built from a copy: nothing written into the clone
    (wheel,) = (tmp_path / "bundle").glob("pacekit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "pacekit/weights/cpu_tiny_pace.pt" in names and "pacekit/cli.py" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import sys; sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]; "
            f"sys.path.insert(0, {str(site)!r}); import pacekit; assert pacekit.__file__.startswith({str(site)!r}); "
            "from pacekit.cli import main; main(['quickstart', '--help'])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "usage: pacekit quickstart" in done.stdout, done.stderr


@pytest.mark.parametrize("name", NAMES)
def test_badge_and_install_cell_are_what_the_builder_writes_from_the_declared_home(name):
    committed = load(name)
    built = builder().build(NOTEBOOKS / "_src" / f"{name}.py", committed.metadata.get("pacekit", {}).get("run"))
    assert built.cells[0].source == committed.cells[0].source  # title + badge
    assert built.cells[1].source == committed.cells[1].source  # the setup cell with the install line


REQUIREMENTS = ["torch>=2.2", "torchvision>=0.17", 'decord>=0.6.0; platform_machine == "x86_64"', "av>=12.0",
                "numpy>=1.24", "ipywidgets>=8.0", "captum>=0.7", "Pillow>=9.0", 'pytest>=7.4; extra == "dev"']


def test_the_colab_install_keeps_colabs_torch_and_adds_only_what_is_missing():
    colab = {"torch": "2.5.1+cu121", "torchvision": "0.20.1+cu121", "numpy": "1.26.4", "ipywidgets": "7.7.1",
             "pillow": "11.0.0"}
    command = pcolab.colab_deps_command(True, colab, REQUIREMENTS)
    assert command == ["pip", "install", "-q", 'decord>=0.6.0; platform_machine == "x86_64"', "av>=12.0",
                       "captum>=0.7", "torch==2.5.1+cu121", "torchvision==0.20.1+cu121"]
    assert not any(arg.startswith(("torch>", "torchvision>", "pytest")) for arg in command)
    assert pcolab.colab_deps_command(False, colab, REQUIREMENTS) is None  # not on Colab: nothing
    everything = {**colab, "decord": "0.6.0", "av": "14.0", "captum": "0.8"}
    assert pcolab.colab_deps_command(True, everything, REQUIREMENTS) is None
    # no torch at all (not Colab's image): still never installs torch from here, and pins nothing
    assert pcolab.colab_deps_command(True, {}, ["torch>=2.2", "av"]) == ["pip", "install", "-q", "av"]
    assert pcolab.requirement_name("Pillow>=9; python_version > '3'") == "pillow"


def _fake_colab(monkeypatch):
    import types

    calls = []
    google, colab, output = (types.ModuleType(n) for n in ("google", "google.colab", "google.colab.output"))
    output.enable_custom_widget_manager = lambda: calls.append("widgets")
    colab.output, google.colab = output, colab
    for module in (google, colab, output):
        monkeypatch.setitem(sys.modules, module.__name__, module)
    return calls


def test_on_colab_setup_installs_the_missing_packages_and_enables_the_widget_manager(monkeypatch, tmp_path):
    assert not pcolab.enable_colab_widgets({})
    calls = _fake_colab(monkeypatch)
    assert pcolab.in_colab() and pcolab.enable_colab_widgets() and calls == ["widgets"]
    monkeypatch.setattr(pcolab, "installed_versions", lambda names: {"torch": "2.5.1+cu121"})
    ran = []
    assert pcolab.prepare_colab(run=ran.append) == ran[0]
    assert ran[0][:3] == ["pip", "install", "-q"] and ran[0][-1] == "torch==2.5.1+cu121"
    monkeypatch.setattr(pnb, "prepare_colab", lambda: calls.append("prepared"))
    nb = pnb.setup(fast=True, quiet=True, cwd=tmp_path)
    assert nb.colab and calls[-1] == "prepared"


def test_runs_can_live_on_a_mounted_drive(monkeypatch, tmp_path):
    root = Path("..")
    assert pnb.pick_runs_dir(root, fast=False, environ={}) == Path("../runs/notebooks")
    assert pnb.pick_runs_dir(root, fast=True, environ={}) == Path("../runs/notebooks-fast")
    drive = tmp_path / "MyDrive" / "pacekit-runs"
    env = {pnb.RUNS_ENV: str(drive)}
    assert pnb.pick_runs_dir(root, False, environ=env) == drive / "notebooks"
    assert pnb.pick_runs_dir(root, False, runs_dir=tmp_path / "x", environ=env) == tmp_path / "x" / "notebooks"
    monkeypatch.setenv(pnb.RUNS_ENV, str(drive))
    nb = pnb.setup(fast=False, preset="cpu-tiny", quiet=True, cwd=tmp_path)
    assert nb.runs_dir == drive / "notebooks" and nb.config("pretrain").run_dir == str(drive / "notebooks/pretrain")
    if not (pnb.COLAB_DRIVE / "MyDrive").is_dir():  # Drive not mounted: refused rather than filling the VM's disk
        with pytest.raises(pnb.PacekitError, match="drive.mount"):
            pnb.pick_runs_dir(root, False, runs_dir="/content/drive/MyDrive/pacekit-runs")


# ------------------------------------------------------------------ preset facts stated in the prose
#
# Markdown cannot compute, so the facts about a preset that the notebooks state in words (epochs, labelled
# videos per class, RGB or residual input, colour jitter, the optimiser) are checked here against
# pacekit.config.get_config(<preset>). A fact is tied to the presets named in the same clause (a sentence,
# split at ";", or a table row): `paper`, `cpu-tiny`, `gpu-demo` (in backticks), "CPU preset", "GPU preset".
# A clause about fast mode (PACEKIT_FAST=1) is checked with fast mode's overrides, and so is an aside
# "(N in fast mode)". A kind stated with two different values in one clause is ambiguous and skipped:
# write such contrasts as two clauses.

_PRESET_NAMES = [(re.compile(r"`(paper|cpu-tiny|gpu-demo)`"), None),
                 (re.compile(r"\bCPU preset"), "cpu-tiny"), (re.compile(r"\bGPU preset"), "gpu-demo")]
_FACTS = {  # kind -> [(pattern, value: a constant, or None to take the number the pattern captured)]
    "epochs": [(re.compile(r"\b(\d+) (?:short |more )?epochs\b"), None)],
    "labels_per_class": [(re.compile(r"\b(\d+) labell?ed (?:training )?videos per class"), None)],
    "input_mode": [(re.compile(r"\bRGB\b"), "rgb"), (re.compile(r"\bresidual (?:clips|input)"), "residual")],
    "jitter": [(re.compile(r"\bper[- ]frame (?:colou?r )?jitter|\bjitter per frame"), "frame"),
               (re.compile(r"\bper[- ]clip (?:colou?r )?jitter|\bjitter per clip"), "clip"),
               (re.compile(r"\bno (?:colou?r )?jitter|\b(?:colou?r )?jitter off\b"), None.__class__)],
    "optimizer": [(re.compile(r"\bSGD\b"), "sgd"), (re.compile(r"\bAdamW\b"), "adamw")],
}
_FAST_ASIDE = re.compile(r"\((\d+) in fast mode\)")
_FAST_CLAUSE = re.compile(r"PACEKIT_FAST=1|\bfast mode\b", re.IGNORECASE)


def _clauses(markdown: str):
    """Table rows, then sentences split at ';', of one Markdown cell (code spans and LaTeX kept)."""
    for paragraph in re.split(r"\n\s*\n", markdown):
        lines = paragraph.split("\n")
        rows = [line for line in lines if line.lstrip().startswith("|")]
        yield from rows
        prose = " ".join(line.strip() for line in lines if not line.lstrip().startswith("|"))
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z*(])", prose):
            yield from sentence.split(";")


def _stated_facts(clause: str):
    """``(kind, value)`` of each unambiguous fact in the clause."""
    for kind, patterns in _FACTS.items():
        values = set()
        for pattern, value in patterns:
            for match in pattern.finditer(clause):
                if value is None:
                    values.add(int(match.group(1)))
                else:
                    values.add(None if value is type(None) else value)
        if len(values) == 1:
            yield kind, values.pop()


def _presets_in(clause: str) -> set:
    return {fixed or m.group(1) for pattern, fixed in _PRESET_NAMES for m in pattern.finditer(clause)}


def preset_fact_errors(markdown: str, where: str = "") -> list:
    """Every preset fact of ``markdown`` that disagrees with pacekit.config, as readable lines."""
    from pacekit.config import get_config
    from pacekit.teaching.notebook import FAST_OVERRIDES

    errors = []
    for clause in _clauses(markdown):
        presets = _presets_in(clause)
        if not presets:
            continue
        checks = []  # (fast?, kind, value)
        for match in _FAST_ASIDE.finditer(clause):
            checks.append((True, "labels_per_class" if "per class" in clause else "epochs", int(match.group(1))))
        rest = _FAST_ASIDE.sub("", clause)
        fast = bool(_FAST_CLAUSE.search(rest))
        checks += [(fast, kind, value) for kind, value in _stated_facts(rest)]
        for is_fast, kind, value in checks:
            for preset in sorted(presets):
                actual = getattr(get_config(preset, **(FAST_OVERRIDES if is_fast else {})), kind)
                if actual != value:
                    mode = " in fast mode" if is_fast else ""
                    errors.append(f"{where}: says {kind}={value!r} for {preset!r}{mode}, the config has "
                                  f"{actual!r}: {clause.strip()[:160]!r}")
    return errors


def test_the_preset_fact_checker_reads_the_kinds_of_statement_the_notebooks_make():
    good = ("| Colab / a GPU | `gpu-demo`: R(2+1)D, 16x112x112 clips, 12 epochs | minutes |\n"
            "| `PACEKIT_FAST=1` (tests) | `cpu-tiny`, 2 short epochs | seconds |\n\n"
            "The `paper` preset feeds RGB clips with per-frame jitter and SGD; the `gpu-demo` preset feeds "
            "standardized clips with per-frame jitter and SGD; the `cpu-tiny` preset feeds standardized clips with "
            "per-frame jitter and AdamW. With the CPU preset's 4 labelled videos per class (2 in fast mode) "
            "fine-tuning is hard.")
    assert preset_fact_errors(good) == []
    for bad in ("| Colab / a GPU | `gpu-demo`: R(2+1)D, 16x112x112 clips, 6 epochs | minutes |",
                "The `paper` and `gpu-demo` presets keep RGB clips and per-frame jitter.",
                "The `gpu-demo` preset trains with AdamW.",
                "The `cpu-tiny` preset trains with SGD.",
                "With the CPU preset's 2 labelled videos per class, fine-tuning is hard.",
                "The `cpu-tiny` preset has 4 labelled videos per class (4 in fast mode).",
                "The `paper` preset turns colour jitter off."):
        assert preset_fact_errors(bad), bad


@pytest.mark.parametrize("name", NAMES)
def test_preset_facts_in_the_notebook_text_match_the_config(name):
    """What a notebook's text says about a preset is what pacekit.config sets (sources and notebooks)."""
    errors = []
    for i, cell in enumerate(load(name).cells):
        if cell.cell_type == "markdown":
            errors += preset_fact_errors(cell.source, f"{name}.ipynb cell {i}")
    source = builder().parse_cells((NOTEBOOKS / "_src" / f"{name}.py").read_text())
    for i, (kind, text) in enumerate(source):
        if kind == "markdown":
            errors += preset_fact_errors(text, f"_src/{name}.py cell {i}")
    assert not errors, "\n".join(errors)


# ------------------------------------------------------------- preset facts are generated, never typed
#
# The check above catches a preset fact that disagrees with pacekit.config -- once someone names the preset
# in the same clause. The drift issue 13 found was worse: "2 labelled videos per class", "6 epochs",
# "SGD with momentum" typed in prose that named no preset, and right until a preset changed. So in the
# lessons whose text is generated from the config (every notebook but 02, whose text is edited
# elsewhere), the kinds of fact a preset sets are not typed at all in Markdown: a code cell prints them
# from pacekit.config. A clause about the paper itself (the paper, a section, table or figure of it, the
# authors' code) may state the paper's values. And no clause may cite Table 1 for per-frame colour jitter:
# Table 1 compares jitter on and off; the per-frame finding is in the text of Sec. 3.1.

GENERATED_PROSE = ["01_pace_sampling", "03_pretrain_on_gpu", "04_contrastive_variants", "05_finetune_and_retrieval",
                   "06_attention_maps"]
_TYPED_PRESET_FACTS = {
    "an epoch count": re.compile(r"\b\d+ (?:short |more )?epochs\b"),
    "a number of labelled videos per class": re.compile(r"\b\d+ labell?ed (?:training )?videos per class"),
    "an optimiser": re.compile(r"\b(?:SGD|AdamW?)\b"),
}
_ABOUT_THE_PAPER = re.compile(r"(?<!`)\bpaper(?!`)|\bSec\. ?\d|\bTables? \d|\bFig\. ?\d|\bthe authors\b")
_TABLE_1 = re.compile(r"\bTable 1\b")
_PER_FRAME_JITTER = re.compile(r"\bper[- ]frame\b|\bjitter(?:ing)? (?:applied )?(?:to )?(?:each|every) frame|"
                               r"\bjitter per frame\b", re.IGNORECASE)


def typed_fact_errors(markdown: str, where: str = "") -> list:
    """Preset facts typed in ``markdown`` (see above) and Table 1 cited for per-frame jitter, as lines."""
    errors = []
    for clause in _clauses(markdown):
        text = clause.strip()
        if _TABLE_1.search(text) and _PER_FRAME_JITTER.search(text):
            errors.append(f"{where}: cites Table 1 for per-frame jitter (that finding is in Sec. 3.1's text; "
                          f"Table 1 compares jitter on and off): {text[:160]!r}")
        if _ABOUT_THE_PAPER.search(text):
            continue
        for kind, pattern in _TYPED_PRESET_FACTS.items():
            if pattern.search(text):
                errors.append(f"{where}: types {kind} ({pattern.search(text).group(0)!r}); print it from "
                              f"pacekit.config in a code cell instead: {text[:160]!r}")
    return errors


def test_the_typed_fact_checker_catches_the_drift_issue_13_found():
    for bad in ("The fine-tuning uses 2 labelled videos per class.",
                "| Colab / a GPU | `gpu-demo`: R(2+1)D, 16x112x112 clips, 12 epochs | minutes |",
                "The presets that run here train with AdamW; both then fine-tune.",
                "Colour jitter per frame works much better than per clip (Table 1).",
                "It applies jitter to each frame, which Table 1 shows beats jitter on the whole clip."):
        assert typed_fact_errors(bad), bad
    for good in ("The paper trains with SGD (Sec. 4.1) for 18 epochs.",
                 "Per-frame jitter works much better, a finding of the text; Table 1 only compares jitter on and off.",
                 "Fine-tuning on the labelled videos per class printed above stays near chance.",
                 "The `paper` column of Table 2 reads 73.9."):
        assert typed_fact_errors(good) == [], good


@pytest.mark.parametrize("name", GENERATED_PROSE)
def test_no_preset_fact_is_typed_in_the_lessons_prose(name):
    errors = []
    for i, (kind, text) in enumerate(builder().parse_cells((NOTEBOOKS / "_src" / f"{name}.py").read_text())):
        if kind == "markdown":
            errors += typed_fact_errors(text, f"_src/{name}.py cell {i}")
    assert not errors, "\n".join(errors)


# ------------------------------------------------------------- how a lesson ends
#
# Every lesson ends with the same three sections, headed exactly "## Summary" (five numbered lines),
# "## Exercises" (each answer checkable: an answer cell that asserts, or a solution in <details>) and
# "## Further reading" (works with their venue and year). Notebook 02 is held to it once it has a
# "## Summary" heading.

ENDING = ["## Summary", "## Exercises", "## Further reading"]
_VENUE = re.compile(r"\b(?:CVPR|ICCV|ECCV|AAAI|ICLR|ICML|NeurIPS|TPAMI) (?:19|20)\d\d\b")


def _sections(nb) -> dict:
    """``{"## Heading": {"markdown": text under it, "code": [code cells under it]}}``, split at the line
    level (a Markdown cell may end one section and start the next)."""
    sections, current = {}, None
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            if current is not None:
                sections[current]["code"].append(cell.source)
            continue
        for line in cell.source.splitlines():
            if line.startswith("## "):
                current = line.strip()
                sections[current] = {"markdown": "", "code": []}
            elif current is not None:
                sections[current]["markdown"] += line + "\n"
    return sections


def ending_errors(nb) -> list:
    """What is missing from a notebook's ending (see above)."""
    sections = _sections(nb)
    headings = list(sections)
    missing = [h for h in ENDING if h not in sections]
    if missing:
        return [f"no {h!r} section" for h in missing]
    errors = []
    if headings[-3:] != ENDING:
        errors.append(f"the lesson must end with {ENDING}, it ends with {headings[-3:]}")
    if len(re.findall(r"(?m)^\d\. \S", sections["## Summary"]["markdown"])) != 5:
        errors.append("the summary is not five numbered lines")
    exercises = sections["## Exercises"]
    solutions = exercises["markdown"].count("<details>")
    checks = sum(1 for code in exercises["code"] if "assert " in code)
    if max(solutions, checks) < 2:
        errors.append(f"fewer than 2 checkable exercises ({solutions} hidden solutions, {checks} answer checks)")
    items = re.split(r"(?m)^- ", sections["## Further reading"]["markdown"])[1:]  # an item may wrap over lines
    if len([item for item in items if _VENUE.search(" ".join(item.split()))]) < 3:
        errors.append("further reading lists fewer than 3 works with venue and year")
    return errors


def test_the_ending_checker_finds_what_is_missing():
    good = nbformat.v4.new_notebook()
    good.cells = [
        nbformat.v4.new_markdown_cell("## Summary\n\n" + "\n".join(f"{i}. point" for i in range(1, 6))),
        nbformat.v4.new_markdown_cell("## Exercises\n\n**1.** q\n<details>a</details>\n**2.** q\n<details>a</details>"),
        nbformat.v4.new_code_cell("answer = None\nif answer is not None:\n    assert answer == 1"),
        nbformat.v4.new_markdown_cell("## Further reading\n\n- A, *X*, CVPR 2019\n- B, *Y*, AAAI\n  2021\n- C, *Z*, ICCV 2017"),
    ]
    assert ending_errors(good) == []
    short = nbformat.v4.new_notebook()
    short.cells = [good.cells[1], good.cells[3]]
    assert ending_errors(short) == ["no '## Summary' section"]
    four = nbformat.from_dict(good)
    four.cells[0] = nbformat.v4.new_markdown_cell("## Summary\n\n1. a\n2. b\n3. c\n4. d")
    four.cells[1] = nbformat.v4.new_markdown_cell("## Exercises\n\n**1.** q")
    four.cells[3] = nbformat.v4.new_markdown_cell("## Further reading\n\n- A, *X*, CVPR 2019\n- B, *Y*\n- C, *Z*, ICCV 2017")
    assert ending_errors(four) == ["the summary is not five numbered lines",
                                   "fewer than 2 checkable exercises (0 hidden solutions, 1 answer checks)",
                                   "further reading lists fewer than 3 works with venue and year"]


@pytest.mark.parametrize("name", NAMES)
def test_every_lesson_ends_with_summary_exercises_and_further_reading(name):
    nb = builder().build(NOTEBOOKS / "_src" / f"{name}.py")
    if name == "02_guess_the_pace" and "## Summary" not in _sections(nb):
        pytest.skip("notebook 02 is held to the ending once it has a '## Summary' section")
    assert ending_errors(nb) == []


REPRODUCING = ("01_pace_sampling", "02_guess_the_pace", "03_pretrain_on_gpu", "04_contrastive_variants", "05_finetune_and_retrieval", "06_attention_maps")


@pytest.mark.parametrize("name", REPRODUCING)
def test_each_result_notebook_states_its_reproduction_table_from_its_own_numbers(name):
    """The "Does it reproduce here?" table and takeaway are a code cell's output, so they cannot drift from
    what the notebook computed; the prose quotes no number of this run (only the paper's)."""
    cells = load(name).cells
    heading = next(i for i, c in enumerate(cells) if c.cell_type == "markdown" and "## Does it reproduce here?" in c.source)
    table = next(c for c in cells[heading + 1:] if c.cell_type == "code")
    shown = "".join(o.get("data", {}).get("text/markdown", "") for o in table.get("outputs", []))
    assert shown.startswith("| claim | the paper | this notebook | verdict |"), shown[:200]
    assert "one run" in shown or "no bar" in shown
    for cell in cells[1:]:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if re.search(r"\d%", line) and not line.startswith(">"):
                assert re.search(r"paper|Table|Fig\.|R\(2\+1\)D|\b10%", line), f"{name}: a number of this run typed in prose: {line}"



def test_the_readme_lessons_table_gives_each_notebooks_measured_time():
    readme = (NOTEBOOKS.parent / "README.md").read_text()
    for name in NAMES:
        run = load(name).metadata["pacekit"]["run"]
        line = next(line for line in readme.splitlines() if line.startswith("| [") and f"({NOTEBOOKS.name}/{name}.ipynb)" in line)
        assert f"| {builder().short_run_time(run)} |" in line, (name, line)
