"""The shipped pretrained networks (pacekit.teaching.shipped, `pacekit ship-weights`) and the notebooks'
PACEKIT_PRETRAINED.

Tiny builds check what `build_shipped` writes; each real package file, when present, must load with
weights_only=True, match its record byte for byte and still score exactly its recorded pretext accuracy on
the synthetic test split regenerated from the record.
"""

from __future__ import annotations

import json

import pytest
import torch

from pacekit.cli import main as cli_main
from pacekit.config import get_config, run_differences
from pacekit.data.synthetic import FORMAT_VERSION
from pacekit.errors import PacekitError
from pacekit.evaluation.recognition import pace_accuracy
from pacekit.pace import PaceSet
from pacekit.study.quickstart import SYNTHETIC_SIZE
from pacekit.teaching import notebook, shipped
from pacekit.training.checkpoint import load_checkpoint
from pacekit.training.loading import model_from_checkpoint

#: A build of seconds (the settings of tests/test_experiment.py's TINY that pretraining reads).
TINY = dict(synthetic_classes=3, synthetic_videos=6, frame_size=(32, 43), clip_len=4, crop=32, epoch_repeat=2,
            epochs=1, batch_size=4, num_workers=0, threads=1)


@pytest.fixture(scope="module")
def tiny_build(tmp_path_factory):
    base = tmp_path_factory.mktemp("shipped")
    built = shipped.build_shipped(base / "weights", base / "synthetic", command="pacekit ship-weights --test",
                                  **TINY)
    return base, built


def test_build_writes_a_slim_checkpoint_that_loads_with_weights_only(tiny_build):
    _, built = tiny_build
    state = torch.load(built.weights, map_location="cpu", weights_only=True)
    assert sorted(state) == sorted(shipped.SLIM_ENTRIES)  # no optimizer, rng, metrics, epoch
    assert state["stage"] == "pretrain"
    model, cfg = model_from_checkpoint(state)
    assert cfg.backbone == "tiny-fine" and cfg.clip_len == TINY["clip_len"] and cfg.epochs == TINY["epochs"]
    assert set(model.state_dict()) == set(state["model"])


def test_build_records_how_the_file_was_made(tiny_build):
    base, built = tiny_build
    record = json.loads(built.record_path.read_text())
    assert record == built.record
    assert record["sha256"] == shipped.file_sha256(built.weights)
    assert record["size_bytes"] == built.weights.stat().st_size
    assert record["command"] == "pacekit ship-weights --test"
    assert record["config"] == load_checkpoint(built.weights)["config"]
    assert record["config"] == get_config("cpu-tiny", **TINY).replace(
        dataset="synthetic", root=str(base / "synthetic"), name="pretrain").to_dict()
    assert record["seed"] == 0 and record["preset"] == "cpu-tiny"
    assert record["synthetic"]["version"] == FORMAT_VERSION
    params = record["synthetic"]["params"]
    assert (params["num_classes"], params["videos_per_class"], params["seed"]) == (3, 6, 0)
    assert (params["width"], params["height"]) == SYNTHETIC_SIZE
    assert record["torch"] == torch.__version__ and record["machine"]["cpu_count"] >= 1
    assert record["date"].startswith("20")
    epochs = [r for r in record["metrics"] if r["kind"] == "epoch"]
    assert len(epochs) == TINY["epochs"] and record["pretext_train_accuracy"] == epochs[-1]["acc"]


def test_recorded_pretext_accuracy_is_what_the_loaded_file_scores(tiny_build):
    base, built = tiny_build
    record = built.record
    model, cfg = model_from_checkpoint(load_checkpoint(built.weights))
    fresh = pace_accuracy(model, cfg, "test", batch_size=record["pretext_batch_size"])
    assert fresh == record["pretext_accuracy"]
    assert fresh * record["pretext_test_videos"] == pytest.approx(round(fresh * record["pretext_test_videos"]))


def test_build_refuses_to_replace_shipped_files_without_overwrite(tiny_build):
    base, built = tiny_build
    before = built.weights.read_bytes()
    with pytest.raises(FileExistsError, match="--overwrite"):
        shipped.build_shipped(base / "weights", base / "synthetic", **TINY)
    assert built.weights.read_bytes() == before


def test_loading_checks_the_file_against_its_record(tiny_build, tmp_path):
    _, built = tiny_build
    folder = tmp_path / "copy"
    folder.mkdir()
    (folder / shipped.WEIGHTS_FILE).write_bytes(built.weights.read_bytes())
    (folder / shipped.RECORD_FILE).write_text(built.record_path.read_text())
    model = shipped.load_shipped_pretrained("cpu", folder=folder)
    expected = load_checkpoint(built.weights)["model"]
    assert all(torch.equal(model.state_dict()[k], v) for k, v in expected.items())

    record = dict(built.record, sha256="0" * 64)
    (folder / shipped.RECORD_FILE).write_text(json.dumps(record))
    with pytest.raises(PacekitError, match="does not match its record"):
        shipped.load_shipped_pretrained("cpu", folder=folder)
    with pytest.raises(PacekitError, match="ship-weights"):
        shipped.shipped_record(tmp_path / "nowhere")


def test_ship_weights_command_writes_both_files(tmp_path, capsys, monkeypatch):
    # The command passes its flags to build_shipped; the build itself is the test above.
    calls = {}

    def fake_build(out, data, command, overwrite, progress, network, threads):
        calls.update(out=out, data=data, command=command, overwrite=overwrite, network=network, threads=threads)
        record = {"size_bytes": 1024, "sha256": "ab" * 32, "pretext_accuracy": 0.5, "pretext_test_videos": 12}
        return shipped.ShippedBuild(tmp_path / shipped.WEIGHTS_FILE, tmp_path / shipped.RECORD_FILE, record, 3.0)

    monkeypatch.setattr("pacekit.commands.ship.build_shipped", fake_build)
    assert cli_main(["ship-weights", "--out", str(tmp_path), "--data", "elsewhere", "--overwrite",
                     "--no-progress"]) == 0
    assert calls["out"] == str(tmp_path) and calls["data"] == "elsewhere" and calls["overwrite"]
    assert calls["command"] == f"pacekit ship-weights --out {tmp_path} --data elsewhere --overwrite"
    assert "50.0%" in capsys.readouterr().out
    assert cli_main(["ship-weights", "--no-progress"]) == 0
    assert calls["out"] == shipped.WEIGHTS_DIR and calls["command"] == "pacekit ship-weights"
    assert calls["network"] == "quickstart"
    assert cli_main(["ship-weights", "--network", "r21d-quarter", "--no-progress"]) == 0
    assert calls["network"] == "r21d-quarter" and calls["command"] == "pacekit ship-weights --network r21d-quarter"
    assert calls["threads"] is None
    assert cli_main(["ship-weights", "--network", "same-pace", "--threads", "1", "--no-progress"]) == 0
    assert calls["threads"] == 1
    assert calls["command"] == "pacekit ship-weights --network same-pace --threads 1"
    capsys.readouterr()
    with pytest.raises(SystemExit) as refused:
        cli_main(["ship-weights", "--threads", "0"])
    assert refused.value.code == 2 and "--threads: expected an integer >= 1, got 0" in capsys.readouterr().err


def test_each_shipped_network_is_a_preset_and_its_own_files():
    stems = {net.stem for net in shipped.NETWORKS.values()}
    assert len(stems) == len(shipped.NETWORKS)  # no two networks share files
    assert shipped.NETWORKS["game"].config().pace_set == "absolute"  # notebook 02's game
    r21d = shipped.NETWORKS["r21d-quarter"].config()
    assert (r21d.backbone, r21d.width) == ("r21d", 0.25) and r21d.epochs == get_config("claims").epochs  # C1's arm
    assert [shipped.NETWORKS[n].config().contrastive for n in ("same-pace", "same-context")] == ["pace", "context"]
    with pytest.raises(PacekitError, match="pick one of quickstart, same-pace, same-context, game, r21d-quarter"):
        shipped.shipped_network("c3d")


# ------------------------------------------------------------------------------------ the real file


@pytest.fixture(scope="module", params=list(shipped.NETWORKS))
def real_record(request):
    name = request.param
    if not shipped.shipped_available(network=name):
        pytest.skip(f"this checkout has no shipped weights ({shipped.NETWORKS[name].display_path}); write them with "
                    f"`{shipped.ship_command(name)}`")
    return name, shipped.shipped_record(network=name)


@pytest.fixture(scope="module")
def regenerated_set(tmp_path_factory):
    """One folder for the synthetic set the real records name (all three are pretrained on the same set)."""
    return tmp_path_factory.mktemp("shipped-set") / "synthetic"


def test_shipped_file_loads_with_weights_only_and_matches_its_record(real_record):
    name, record = real_record
    path = shipped.weights_path(network=name)
    state = torch.load(path, map_location="cpu", weights_only=True)
    assert sorted(state) == sorted(shipped.SLIM_ENTRIES)
    assert path.stat().st_size < 5_000_000 and path.stat().st_size == record["size_bytes"]
    assert shipped.file_sha256(path) == record["sha256"]
    assert state["config"] == record["config"]
    assert record["command"] == shipped.ship_command(name) + " --overwrite"
    # (records written before there were three networks name none: the quickstart's)
    assert record.get("network", shipped.DEFAULT_NETWORK) == name and record["file"] == shipped.NETWORKS[name].weights_file


def test_shipped_file_is_its_current_network(real_record):
    # A change to the network's preset or to the synthetic set leaves the shipped network behind: ship again.
    name, record = real_record
    again = f"run `{shipped.ship_command(name)} --overwrite`"
    current = shipped.NETWORKS[name].config().replace(name="pretrain")
    stale = run_differences(record["config"], current, "pretrain")
    assert not stale, f"the shipped weights predate the {record['preset']} preset's {stale}; {again}"
    assert record["synthetic"]["version"] == FORMAT_VERSION, again


def test_shipped_file_still_scores_its_recorded_pretext_accuracy(real_record, regenerated_set):
    # The synthetic set is regenerated from the record's parameters (about 30 s for the default set, once).
    name, record = real_record
    accuracy = shipped.measure_shipped(regenerated_set, network=name)
    assert accuracy == record["pretext_accuracy"]
    assert accuracy > 1 / len(PaceSet.from_spec(record["config"]["pace_set"]))  # above chance: it learned


# ------------------------------------------------------------------------------------ PACEKIT_PRETRAINED


def test_the_shipped_weights_are_loaded_on_a_cpu_unless_asked_to_train():
    on, off = {"PACEKIT_PRETRAINED": "Yes"}, {"PACEKIT_PRETRAINED": " off "}
    for fast in (False, True):
        for gpu in (False, True):  # said explicitly, the variable wins everywhere
            assert notebook.shipped_mode(on, fast=fast, gpu=gpu) and not notebook.shipped_mode(off, fast=fast, gpu=gpu)
    assert notebook.shipped_mode({}, fast=False, gpu=False)  # unset: a CPU outside fast mode loads them
    assert notebook.shipped_mode({"PACEKIT_PRETRAINED": ""}, fast=False, gpu=False)
    assert not notebook.shipped_mode({}, fast=False, gpu=True)  # a GPU pretrains its own preset
    assert not notebook.shipped_mode({}, fast=True, gpu=False)  # fast mode's runs take seconds
    assert not notebook.shipped_mode({"PACEKIT_FAST": "1"}, gpu=False)  # fast mode read from the same environment
    with pytest.raises(PacekitError, match=r"PACEKIT_PRETRAINED='maybe': set it to 1 .* 0 to pretrain"):
        notebook.shipped_mode({"PACEKIT_PRETRAINED": "maybe"}, fast=False, gpu=False)


def test_pretrained_hook_hands_out_the_shipped_model(tiny_build, tmp_path, monkeypatch, capsys):
    _, built = tiny_build
    for name in ("shipped_available", "shipped_record", "shipped_train_result"):  # the notebook's view of it
        original = getattr(shipped, name)
        monkeypatch.setattr(notebook, name, lambda *a, _f=original, **k: _f(*a, folder=built.weights.parent, **k))
    assert not shipped.shipped_available(built.weights.parent, network="game")  # the quickstart's network only
    monkeypatch.setenv("PACEKIT_PRETRAINED", "0")
    nb = notebook.setup(shipped=True, quiet=True, cwd=tmp_path, runs_dir=tmp_path / "runs")
    assert nb.shipped and nb.preset == "cpu-tiny"
    assert "shipped weights stand in for pretraining where they fit (PACEKIT_PRETRAINED=0 trains)" in nb.summary()

    cfg = nb.config("pretrain", **TINY)
    result = notebook.load_or_train(cfg, "pretrain")
    out = capsys.readouterr().out
    assert "loaded the shipped pace-pretrained network pacekit/weights/cpu_tiny_pace.pt" in out
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("last.pt"))  # nothing trained
    expected = load_checkpoint(built.weights)["model"]
    assert all(torch.equal(result.model.state_dict()[k].cpu(), v) for k, v in expected.items())
    assert result.checkpoint.resolve() == built.weights.resolve() and result.config.root == cfg.root
    assert result.final("acc") == built.record["pretext_train_accuracy"]


def test_pretrained_hook_trains_a_run_the_shipped_network_cannot_stand_in_for(tiny_build, tmp_path, monkeypatch,
                                                                            capsys):
    _, built = tiny_build
    monkeypatch.setattr(notebook, "shipped_available", lambda network: network == "quickstart")
    monkeypatch.setattr(notebook, "shipped_record", lambda network: built.record)
    cfg = get_config("cpu-tiny", contrastive="context", **TINY)
    assert notebook.shipped_mismatch(cfg, built.record) == ["contrastive"]
    assert notebook.shipped_pretraining(cfg) is None
    assert "the closest, cpu_tiny_pace.pt, was pretrained with other contrastive" in capsys.readouterr().out
    monkeypatch.setenv("PACEKIT_PRETRAINED", "0")
    assert notebook.shipped_mismatch(get_config("cpu-tiny", **TINY), built.record) == []


def _ship_tiny_networks(tmp_path, monkeypatch, names) -> None:
    """Tiny builds of ``names`` in one folder, which the notebooks' hook then reads as the package's."""
    folder = tmp_path / "weights"
    for name in names:
        shipped.build_shipped(folder, tmp_path / "synthetic", network=name, **TINY)
    for name in ("shipped_available", "shipped_record", "shipped_train_result"):
        original = getattr(shipped, name)
        monkeypatch.setattr(notebook, name, lambda *a, _f=original, **k: _f(*a, folder=folder, **k))


def test_pretrained_hook_picks_the_shipped_network_that_fits(tmp_path, monkeypatch, capsys):
    # Two networks shipped in one folder (tiny builds): the game's five paces load the game's, the default
    # paces the quickstart's; a run neither fits is trained.
    _ship_tiny_networks(tmp_path, monkeypatch, ("quickstart", "game"))
    game = notebook.shipped_pretraining(get_config("cpu-tiny", pace_set="absolute", **TINY))
    assert "pacekit/weights/game_pace.pt" in capsys.readouterr().out
    assert game.config.pace_set == "absolute" and game.checkpoint.name == "game_pace.pt"
    quick = notebook.shipped_pretraining(get_config("cpu-tiny", **TINY))
    assert "pacekit/weights/cpu_tiny_pace.pt" in capsys.readouterr().out and quick.checkpoint.name == "cpu_tiny_pace.pt"
    assert notebook.shipped_pretraining(get_config("cpu-tiny", backbone="r21d", width=0.25, **TINY)) is None
    assert "other backbone, width" in capsys.readouterr().out
    # asked for by the cell rather than by PACEKIT_PRETRAINED: the message says how that cell trains instead
    notebook.shipped_pretraining(get_config("cpu-tiny", pace_set="absolute", **TINY), "set TRAIN = True to train it")
    said = capsys.readouterr().out
    assert said.startswith("loaded the shipped") and said.rstrip().endswith("set TRAIN = True to train it")


def test_a_contrastive_run_loads_its_own_shipped_variant_and_only_with_the_same_loss(tmp_path, monkeypatch, capsys):
    # Notebook 04's variants: same context loads the same-context network, never the pace-only one; a run that
    # changes the contrastive loss's weight (its exercise) is trained, though network and input still match.
    _ship_tiny_networks(tmp_path, monkeypatch, ("quickstart", "same-context"))
    context = notebook.shipped_pretraining(get_config("cpu-tiny", contrastive="context", **TINY))
    assert "pacekit/weights/cpu_tiny_pace_same_context.pt" in capsys.readouterr().out
    assert context.config.contrastive == "context" and context.checkpoint.name == "cpu_tiny_pace_same_context.pt"
    assert notebook.shipped_pretraining(get_config("cpu-tiny", contrastive="context", lambda_ctr=1.0, **TINY)) is None
    assert "other lambda_ctr" in capsys.readouterr().out
    assert notebook.shipped_pretraining(get_config("cpu-tiny", contrastive="pace", **TINY)) is None
    assert "other contrastive" in capsys.readouterr().out
    # a pace-only run ignores the contrastive loss's settings: they play no part in its training
    quick = notebook.shipped_pretraining(get_config("cpu-tiny", temperature=0.1, **TINY))
    assert quick is not None and quick.checkpoint.name == "cpu_tiny_pace.pt"
