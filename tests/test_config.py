"""The config dataclass: the paper's defaults, presets, dict round trips and the CLI flags built from it."""

import argparse
import io

import pytest
import torch

from pacekit.config import PRESETS, Config, add_config_arguments, config_from_args, get_config


def test_paper_preset_holds_the_papers_pretraining_and_finetuning_values():
    cfg = get_config("paper")
    # Sec. 4.1: batch 30, SGD momentum 0.9, lr 1e-3 divided by 10 every 6 epochs, 18 epochs, 16x112^2 clips,
    # an UCF101 epoch is the list x10, lambda_cls 1 and lambda_ctr 0.1.
    assert (cfg.batch_size, cfg.momentum, cfg.lr, cfg.lr_gamma, cfg.lr_step, cfg.epochs) == (30, 0.9, 1e-3, 0.1, 6, 18)
    assert (cfg.clip_len, cfg.crop, cfg.frame_size, cfg.epoch_repeat) == (16, 112, (128, 171), 10)
    assert (cfg.lambda_cls, cfg.lambda_ctr) == (1.0, 0.1)
    assert cfg.weight_decay == 5e-3  # the authors' code; the paper is silent
    assert cfg.pace_set == "relative" and cfg.jitter == "frame"
    assert cfg.finetune_lr == 3e-3
    assert cfg.replace(backbone="s3d_g").finetune_lr == 1e-2
    assert cfg.replace(ft_lr=0.05).finetune_lr == 0.05


def test_every_preset_builds_and_cpu_tiny_is_small():
    for name in PRESETS:
        assert isinstance(get_config(name), Config)
    tiny = get_config("cpu-tiny")
    assert tiny.backbone == "tiny" and tiny.device == "cpu" and tiny.dataset == "synthetic"
    assert tiny.clip_len < 16 and tiny.crop < 112


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
