"""The linear probe: a linear classifier trained on a frozen pretrained backbone, beside fine-tuning.

``pacekit linear-probe`` fits only a new fc on ``--pretrained``'s frozen backbone (in eval mode, its BatchNorm
statistics frozen; the clip features are computed once, :mod:`pacekit.frozen_probe`), then evaluates it
with 10 clips per test video (:mod:`pacekit.evaluate`): one cell of
:func:`pacekit.experiment.run_experiment`, the pipeline it shares with the quickstart and the notebooks.
"""

from __future__ import annotations

from .evaluate import EvalResult, evaluate_videos
from .experiment import ExperimentResult, run_experiment
from .loading import eval_split, load_model
from .training.data import eval_workers


def probe_experiment(cfg) -> ExperimentResult:
    """The linear probe as an experiment: one cell, ``cfg.pretrained``'s backbone (random init without
    one), ``cfg.seed``, the run folder ``cfg.run_dir``, no retrieval."""
    init = "pretrained" if cfg.pretrained else "random"
    return run_experiment(cfg, cfg.out_dir, inits=(init,), protocols=("linear probe",), seeds=(cfg.seed,),
                          retrieval=False, run_name=lambda *_: cfg.name)


def linear_probe(cfg, finetuned=None, device=None) -> dict[str, EvalResult]:
    """Train a linear classifier on ``cfg.pretrained``'s frozen backbone and evaluate it (10 clips).

    The backbone stays in eval mode (its BatchNorm statistics frozen) and only the new fc is fitted, at
    ``cfg.probe_lr``, on its cached clip features (:func:`probe_experiment`). With ``finetuned`` (a fine-tuning checkpoint of the same
    backbone) that model is evaluated on the same test split, so the two read side by side. Returns
    ``{"linear probe": EvalResult, "fine-tuned": EvalResult}`` (the second if asked).
    """
    probe = probe_experiment(cfg).outcomes[0]
    device = device if device is not None else next(probe.run.model.parameters()).device
    results = {"linear probe": probe.evaluation}
    if finetuned is not None:
        loaded = load_model(checkpoint=finetuned, device=device)
        if loaded.stage != "finetune":
            raise ValueError(f"--finetuned {finetuned} is a {loaded.stage} checkpoint; give a fine-tuning checkpoint")
        test = eval_split(loaded, cfg.dataset, cfg.root, "test", cfg.split, cfg.max_videos, cfg.num_clips)
        results["fine-tuned"] = evaluate_videos(loaded.model, test, device, cfg.eval_batch_size,
                                                eval_workers(cfg), loaded.transform())
    return results


__all__ = ["linear_probe", "probe_experiment"]
