"""The config dataclass: the paper's defaults, presets, dict round trips and the CLI flags built from it."""

import argparse
import dataclasses
import inspect
import io
import re
import subprocess
import sys

import pytest
import torch

from pacekit.commands.config_flags import add_config_arguments, config_from_args, field_help
from pacekit.config import GROUPS, PRESETS, Config, config_default, field_names, get_config, paper_values


def test_paper_preset_holds_the_papers_pretraining_and_finetuning_values():
    cfg = get_config("paper")
    # Sec. 4.1: batch 30, SGD, lr 1e-3 divided by 10 every 6 epochs, 18 epochs, 16x112^2 clips, an UCF101
    # epoch is the list x10, lambda_cls 1 and lambda_ctr 0.1.
    assert (cfg.batch_size, cfg.lr, cfg.lr_gamma, cfg.lr_step, cfg.epochs) == (30, 1e-3, 0.1, 6, 18)
    assert (cfg.clip_len, cfg.crop, cfg.epoch_repeat) == (16, 112, 10)
    assert (cfg.lambda_cls, cfg.lambda_ctr) == (1.0, 0.1)
    # The paper is silent on these: the authors' code's momentum and weight decay, C3D's frame size.
    assert (cfg.momentum, cfg.weight_decay, cfg.frame_size) == (0.9, 5e-3, (128, 171))
    assert cfg.pace_set == "relative" and cfg.jitter == "frame"
    assert cfg.finetune_lr == 3e-3
    assert cfg.replace(backbone="s3d_g").finetune_lr == 1e-2
    assert cfg.replace(ft_lr=0.05).finetune_lr == 0.05


def test_every_preset_builds_and_cpu_tiny_is_small():
    for name in PRESETS:
        assert isinstance(get_config(name), Config)
    tiny = get_config("cpu-tiny")
    assert tiny.backbone == "tiny-fine" and tiny.device == "cpu" and tiny.dataset == "synthetic"
    assert tiny.clip_len == 16 and tiny.crop < 112  # the paper's clip length, small crops
    # the ledger's recipe keeps the clip length, memory format and schedule its committed numbers were computed with
    claims = get_config("claims")
    assert (claims.clip_len, claims.channels_last, claims.epochs, claims.lr_step) == (8, None, 15, 12)


def test_overrides_apply_and_unknown_names_are_refused():
    assert get_config("cpu-tiny", epochs=3).epochs == 3
    with pytest.raises(ValueError, match="unknown config field"):
        get_config("paper", epoch=3)
    with pytest.raises(ValueError, match="unknown preset 'fast'"):
        get_config("fast")


@pytest.mark.parametrize("field,value,fragment", [
    ("contrastive", "infonce", "contrastive='infonce'"),
    ("projection", "deep", "projection='deep'"),
    ("batch_size", 0, "batch_size=0"),
    ("lr", -1.0, "lr=-1.0"),
    ("labels_per_class", 0, "labels_per_class=0"),
    ("input_mode", "flow", "input_mode='flow'"),
    ("optimizer", "adam", "optimizer='adam'"),
    ("threads", 0, "threads=0"),
])
def test_invalid_fields_raise_value_errors_that_name_them(field, value, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(")):
        get_config("paper", **{field: value})


def test_frame_size_smaller_than_the_crop_is_refused_with_a_fix():
    with pytest.raises(ValueError, match="frame_size=.*smaller than crop=112"):
        get_config("paper", frame_size=(100, 120))


def test_dict_round_trip_survives_a_weights_only_checkpoint():
    cfg = get_config("cpu-tiny", projection="mlp", contrastive="context", labels_per_class=3)
    buffer = io.BytesIO()
    torch.save({"config": cfg.to_dict()}, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)["config"]
    assert Config.from_dict(loaded) == cfg
    assert Config.from_dict(loaded).frame_size == (64, 85)


def test_from_dict_drops_unknown_keys_with_a_warning():
    values = get_config("paper").to_dict()
    values["old_option"] = 1
    with pytest.warns(UserWarning, match="old_option"):
        assert Config.from_dict(values) == get_config("paper")


def test_clips_per_video_follows_the_contrastive_objective():
    assert get_config("paper").clips_per_video == 1
    assert get_config("paper", contrastive="pace").clips_per_video == 1
    assert get_config("paper", contrastive="context").clips_per_video == 2  # Eq. 2: two clips per video


def _parse(*argv):
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    return parser.parse_args(list(argv))


def test_cli_flags_map_onto_the_dataclass_and_only_given_flags_override_the_preset():
    args = _parse("--preset", "cpu-tiny", "--epochs", "2", "--frame-size", "70,90", "--no-progress",
                  "--projection", "mlp", "--labels-per-class", "none", "--lr", "0.2")
    cfg = config_from_args(args)
    assert (cfg.epochs, cfg.frame_size, cfg.progress, cfg.projection, cfg.labels_per_class, cfg.lr) == \
        (2, (70, 90), False, "mlp", None, 0.2)
    assert cfg.batch_size == get_config("cpu-tiny").batch_size  # not given: the preset's value


def test_cli_defaults_to_the_paper_preset_and_forced_values_win():
    cfg = config_from_args(_parse("--batch-size", "8"), name="forced")
    assert cfg.batch_size == 8 and cfg.name == "forced" and cfg.lr == 1e-3


def test_every_field_has_a_flag_with_help_text():
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    help_text = parser.format_help()
    for name in Config.__dataclass_fields__:
        assert "--" + name.replace("_", "-") in help_text
    assert "paper: 30" in help_text  # the batch-size flag shows the paper's value


def test_the_authors_wrap_is_a_config_value_and_typos_are_refused():
    assert get_config("paper", wrap="restart").wrap == "restart"
    with pytest.raises(ValueError, match="wrap"):
        get_config("paper", wrap="loop")


# ------------------------------------------------------------------------------ field facts, declared once

# What the paper states, read from its text (Sec. 4.1 unless noted); fields it is silent on are absent.
PAPER = {
    "dataset": "ucf101",  # "we use training split 1 as pre-training dataset"
    "split": 1,
    "clip_len": 16,  # "a consecutive 16-frame video clip"
    "crop": 112,  # "randomly crop the video clip to 112x112"
    "epoch_repeat": "10 on UCF101, 1 on K-400",  # UCF101: "we set epoch size to be around 90k"; K-400: one clip per video
    "pace_set": "relative",  # Sec. 4.2: "we use sampling pace p = [1, 4] ... by default"
    "wrap": "modulo",  # Sec. 3.1: "will loop over the video sample"
    "slow_fill": "repeat",  # Sec. 3.1: "we use the preceding frame for the blank frames"
    "jitter": "frame",  # Sec. 3.1: "color jittering applied to each frame achieves much better performance"
    "input_mode": "rgb",
    "backbone": "r21d",  # Tables 1-3: R(2+1)D, 14.4M parameters
    "width": 1.0,
    "contrastive": "context",  # Table 2's best, the "Ours" of Table 3
    "projection": "mlp",  # Table 2's "+ fc": "a nonlinear layer between the embedding space and ..."
    "temperature": 1.0,  # Eq. 2/3: sim is "the dot product z_i^T z_j"
    "normalize": False,
    "lambda_cls": 1.0,  # "lambda_cls is set to 1 and lambda_ctr is set to 0.1"
    "lambda_ctr": 0.1,
    "epochs": 18,  # "stopped after 18 epochs"
    "batch_size": 30,  # "The batch size is 30"
    "lr": 1e-3,  # "an initial learning rate 1x10^-3"
    "optimizer": "sgd",  # "SGD is used as optimizer"
    "lr_step": 6,  # "divided by 10 for every 6 epochs"
    "lr_gamma": 0.1,
    # Fine-tuning: "training strategy [is] the same as the self-supervised pre-training stage, except that
    # the initial learning rate is set to 0.01 for S3D-G and 3x10^-3 for the others".
    "ft_epochs": 18,
    "ft_batch_size": 30,
    "ft_lr": "0.003, 0.01 for S3D-G",
    "ft_lr_step": 6,
    "ft_epoch_repeat": 10,
    "labels_per_class": None,  # the whole training split
    "freeze_backbone": False,  # "The whole network is then trained"
    "num_clips": 10,  # "we sample 10 clips uniformly from each video"
}


def test_every_field_declares_its_help_group_and_reuse_flag():
    for f in dataclasses.fields(Config):
        assert isinstance(f.metadata.get("help"), str) and len(f.metadata["help"]) > 10, f.name
        assert f.metadata.get("group") in GROUPS, f.name
        assert isinstance(f.metadata.get("compared"), bool) and isinstance(f.metadata.get("path"), bool), f.name
        assert "[paper" not in f.metadata["help"] and "paper:" not in f.metadata["help"], f.name
    assert all(field_names(group) for group in GROUPS)


def test_paper_values_are_exactly_what_the_paper_states():
    assert paper_values() == PAPER
    silent = {"frame_size", "momentum", "weight_decay", "proj_dim", "start_policy", "probe_lr", "seed"}
    assert not silent & set(paper_values())


def _command_parser(command):
    from pacekit.cli import build_parser

    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices[command]


def _field_actions(parser):
    return {a.dest: a for a in parser._actions if a.dest in Config.__dataclass_fields__}


def _typed(value):
    """A value as the CLI takes it: none, true/false, numbers and words as they are."""
    return "none" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


@pytest.mark.parametrize("command", ["pretrain", "finetune"])
def test_help_shows_each_flag_once_and_the_papers_value_only_where_it_states_one(command):
    parser = _command_parser(command)
    text = parser.format_help()
    assert "[paper" not in text
    options = text[text.index("configuration (pacekit.config.Config fields)"):]
    for name, action in _field_actions(parser).items():
        flag = "--" + name.replace("_", "-")
        assert len(re.findall(rf"^\s+{flag}(?=[\s,])", options, flags=re.M)) == 1, flag
        papers = re.findall(r"paper: ([^)]*)\)$", action.help)
        if name in PAPER:
            assert papers == [_typed(PAPER[name])], (flag, action.help)
        else:
            assert papers == [] and "paper:" not in action.help, (flag, action.help)
        assert "(default: " in action.help
    assert len(_field_actions(parser)) == len(dataclasses.fields(Config))


def test_help_of_the_temperature_states_default_and_paper_apart():
    help_text = field_help("temperature")
    assert help_text.endswith("(default: 0.5; paper: 1.0)")
    assert field_help("crop", "cpu-tiny").endswith("(default: 56; paper: 112)")  # the command's own preset
    assert field_help("momentum").endswith("(default: 0.9)")  # the paper is silent


def test_the_same_run_rule_ignores_system_fields_and_the_other_stage():
    from pacekit.config import run_differences

    system = set(field_names(compared=False))
    assert set(field_names("system")) - system == {"seed"} and "threads" in system
    cfg = get_config("cpu-tiny")
    assert run_differences(cfg.to_dict(), cfg.replace(seed=1), "pretrain") == ["seed"]  # it changes what a run learns
    changed = cfg.replace(threads=1, probe_lr=0.5)
    assert run_differences(cfg.to_dict(), changed, "pretrain") == []
    assert run_differences(cfg.to_dict(), changed, "finetune") == ["probe_lr"]


def test_the_same_run_rule_reads_a_copied_pretrained_checkpoint_as_the_same(tmp_path):
    """A run folder copied with its pretraining (a ledger copied to a new folder) names the old checkpoint path; the
    same bytes at another path are the same start, other bytes or a checkpoint gone are not."""
    from pacekit.config import run_differences

    first, copy, other = tmp_path / "a" / "last.pt", tmp_path / "b" / "last.pt", tmp_path / "c" / "last.pt"
    for path, data in ((first, b"weights"), (copy, b"weights"), (other, b"weightz")):
        path.parent.mkdir()
        path.write_bytes(data)
    stored = get_config("cpu-tiny", pretrained=str(first)).to_dict()
    cfg = get_config("cpu-tiny")
    assert run_differences(stored, cfg.replace(pretrained=str(copy)), "finetune") == []
    assert run_differences(stored, cfg.replace(pretrained=str(other)), "finetune") == ["pretrained"]
    assert run_differences(stored, cfg.replace(pretrained=None), "finetune") == ["pretrained"]
    first.unlink()  # moved away: nothing left to compare with
    assert run_differences(stored, cfg.replace(pretrained=str(copy)), "finetune") == ["pretrained"]
    # a data folder is compared by place: two folders with the same files are two sets
    (tmp_path / "b" / "x").write_text("same")
    (tmp_path / "c" / "x").write_text("same")
    assert run_differences(get_config("cpu-tiny", root=str(tmp_path / "b")).to_dict(),
                           cfg.replace(root=str(tmp_path / "c")), "finetune") == ["root"]


def _defaults(function):
    return {k: p.default for k, p in inspect.signature(function).parameters.items()
            if p.default is not inspect.Parameter.empty}


def test_losses_heads_schedule_and_notebook_defaults_are_the_config_defaults():
    from pacekit import losses
    from pacekit.models import heads
    from pacekit.teaching import notebook
    from pacekit.training.loop import Schedule

    cfg = Config()
    for function in (losses.similarity_matrix, losses.contrastive_loss, losses.same_context_loss,
                     losses.same_pace_loss, losses.SameContextLoss, losses.SamePaceLoss):
        assert _defaults(function)["temperature"] == cfg.temperature == 0.5
        assert _defaults(function)["normalize"] is cfg.normalize is True
    assert _defaults(losses.total_loss) == {"lambda_cls": cfg.lambda_cls, "lambda_ctr": cfg.lambda_ctr}
    for function in (heads.build_projector, heads.ClipModel, heads.build_model):
        assert _defaults(function)["proj_dim"] == cfg.proj_dim == 128
    assert heads.PROJECTIONS == (None, "linear", "mlp")
    schedule = Schedule(epochs=1, batch_size=1, lr=1.0)
    for name in ("momentum", "weight_decay", "lr_step", "lr_gamma", "optimizer"):
        assert getattr(schedule, name) == getattr(cfg, name) == config_default(name), name
    assert _defaults(notebook.setup)["seed"] == cfg.seed


def test_the_losses_and_heads_own_their_defaults_and_the_config_reads_them():
    code = ("import sys, pacekit.losses, pacekit.models.heads; "
            "print('pacekit.config' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    from pacekit import losses
    from pacekit.models import heads
    cfg = get_config("paper")
    assert (cfg.temperature, cfg.normalize, cfg.lambda_cls, cfg.lambda_ctr, cfg.proj_dim) == (
        losses.DEFAULT_TEMPERATURE, losses.DEFAULT_NORMALIZE, losses.LAMBDA_CLS, losses.LAMBDA_CTR, heads.DEFAULT_PROJ_DIM)


def test_epoch_repeat_is_ucf101s_x10_only_unless_set():
    """Sec. 4.1: the ~90k-clip epoch is UCF101's (~9k videos x 10); K-400 samples one clip per video."""
    assert get_config("paper").epoch_repeat == 10
    assert get_config("paper", dataset="kinetics400").epoch_repeat == 1
    assert get_config("paper", dataset="hmdb51").epoch_repeat == 1
    assert get_config("paper", dataset="kinetics400", epoch_repeat=3).epoch_repeat == 3
    assert get_config("paper").replace(dataset="kinetics400").epoch_repeat == 1
    assert get_config("paper", epoch_repeat=4).replace(dataset="kinetics400").epoch_repeat == 4
    assert Config(dataset="kinetics400").epoch_repeat == 1


@pytest.mark.parametrize("field,value,expected", [
    ("seed", -1, "an integer >= 0"), ("momentum", 1.5, "[0, 1)"), ("momentum", -0.1, "[0, 1)"),
    ("weight_decay", -1e-3, ">= 0"), ("lr_gamma", 0.0, "(0, 1]"), ("split", 0, ">= 1"), ("probe_lr", 0.0, "positive"),
])
def test_invalid_numbers_are_config_errors_naming_the_field_and_the_flag(field, value, expected):
    from pacekit.config import ConfigError
    with pytest.raises(ConfigError, match=field) as info:
        get_config("paper", **{field: value})
    assert info.value.field == field and expected in info.value.expected
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    args = parser.parse_args(["--" + field.replace("_", "-"), str(value)])
    with pytest.raises(ConfigError, match="^--" + field.replace("_", "-") + " "):
        config_from_args(args)


def test_one_same_run_rule_for_reuse_resume_and_cached_results():
    from pacekit.config import get_config, run_differences

    cfg = get_config("cpu-tiny")
    stored = cfg.to_dict()
    # system fields never make another run; each stage ignores the other stage's group
    assert run_differences(stored, cfg.replace(num_workers=7, progress=True, name="other", device="cpu")) == []
    assert run_differences(stored, cfg.replace(lr=0.5, ft_lr=0.5)) == ["ft_lr", "lr"]
    assert run_differences(stored, cfg.replace(lr=0.5, ft_lr=0.5), "pretrain") == ["lr"]
    assert run_differences(stored, cfg.replace(lr=0.5, ft_lr=0.5), "finetune") == ["ft_lr"]
    # shared fields (the data, the network) count for both stages; tuples and lists are one value
    assert run_differences(stored, cfg.replace(crop=48), "finetune") == ["crop"]
    assert run_differences({**stored, "frame_size": tuple(stored["frame_size"])}, cfg, "pretrain") == []
    # a field a run recorded before it existed counts as equal
    assert run_differences({k: v for k, v in stored.items() if k != "jitter"}, cfg.replace(jitter="clip")) == []
    with pytest.raises(ValueError, match="stage must be"):
        run_differences(stored, cfg, "probe")


def test_a_path_field_is_the_same_run_however_it_is_typed(tmp_path, monkeypatch):
    """``root`` and ``pretrained`` compare what they resolve to: the relative path, ``./`` and a trailing slash,
    the absolute path and a symbolic link name one folder; another folder is another run."""
    from pacekit.config import comparable_config, get_config, run_differences

    (tmp_path / "data" / "synthetic").mkdir(parents=True)
    (tmp_path / "data" / "copy").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "data" / "synthetic", target_is_directory=True)
    (tmp_path / "pre.pt").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    stored = get_config("cpu-tiny", root="data/synthetic", pretrained="pre.pt").to_dict()
    for root in ("./data/synthetic/", str(tmp_path / "data" / "synthetic"), "link", "data/../data/synthetic"):
        for stage in ("pretrain", "finetune", None):
            assert run_differences(stored, get_config("cpu-tiny", root=root, pretrained="pre.pt"), stage) == [], root
    assert run_differences(stored, get_config("cpu-tiny", root="data/copy", pretrained="pre.pt")) == ["root"]
    assert run_differences(stored, get_config("cpu-tiny", root="link", pretrained=str(tmp_path / "pre.pt")),
                           "finetune") == []
    other = get_config("cpu-tiny", root="link", pretrained="other.pt")
    assert run_differences(stored, other, "finetune") == ["pretrained"]
    assert run_differences(stored, get_config("cpu-tiny", root="link", pretrained=None), "finetune") == ["pretrained"]
    # a cache keyed by a whole config (a claims cell) sees the same
    typed = get_config("cpu-tiny", root=str(tmp_path / "link") + "/", pretrained="./pre.pt", num_workers=3)
    assert comparable_config(stored) == comparable_config(typed.to_dict())
    assert comparable_config(stored) != comparable_config(typed.replace(root="data/copy").to_dict())
    # only path fields are resolved: a name is not a path
    assert "name" not in comparable_config(stored) and comparable_config(stored)["backbone"] == "tiny-fine"


def test_the_path_fields_are_declared_as_paths():
    assert [f.name for f in dataclasses.fields(Config) if f.metadata["path"]] == ["root", "pretrained"]
