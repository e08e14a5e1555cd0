"""The GPU time estimate: FLOPs counted on pacekit's own network, and minutes that follow from them."""

import pytest

from pacekit.config import get_config
from pacekit.data.subsets import UCF101_MINI
from pacekit.study.estimate import PEAK_TFLOPS, REFERENCE_FRACTION_OF_PEAK, clip_flops, estimate_run


def test_pacekits_r21d_costs_what_the_authors_r21d_was_counted_at():
    # 127 GFLOPs a 16x112x112 clip forward and backward: the count of the authors' R(2+1)D (14.4M parameters)
    # in a reference measurement, made apart from pacekit.
    assert clip_flops(get_config("paper")) / 1e9 == pytest.approx(127, abs=0.5)


def test_the_estimate_is_the_counted_work_over_the_assumed_rate():
    cfg = get_config("colab-t4", backbone="tiny", clip_len=8, crop=56)
    est = estimate_run(cfg, UCF101_MINI.train_videos, UCF101_MINI.test_videos, finetunes=2)
    rate = PEAK_TFLOPS["t4-fp16"] * 1e12 * REFERENCE_FRACTION_OF_PEAK
    assert est.pretrain_clips == cfg.epochs * cfg.epoch_repeat * 1006
    assert est.finetune_clips == 2 * cfg.ft_epochs * cfg.ft_epoch_repeat * 1006
    assert est.eval_clips == 2 * cfg.num_clips * 389
    assert est.minutes["pretrain"] == pytest.approx(est.pretrain_clips * est.train_gflops_per_clip * 1e9 / rate / 60)
    assert est.minutes["total"] == pytest.approx(sum(v for k, v in est.minutes.items() if k != "total"))
    assert est.eval_gflops_per_clip < est.train_gflops_per_clip
    with pytest.raises(ValueError, match="unknown device"):
        estimate_run(cfg, 1, 1, device="a100")
