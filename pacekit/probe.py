"""The linear probe: a linear classifier trained on a frozen pretrained backbone, beside fine-tuning.

``pacekit linear-probe`` trains only a new fc on ``--pretrained``'s backbone (:func:`pacekit.train.finetune`
with ``freeze_backbone=True``: the backbone stays in eval mode, its BatchNorm statistics frozen), then
evaluates it with 10 clips per test video (:mod:`pacekit.evaluate`). It sits above both: it trains, then
evaluates.
"""

from __future__ import annotations

import json
from pathlib import Path

from .config import add_config_arguments, config_from_args
from .evaluate import EvalResult, evaluate_videos, format_comparison
from .loading import eval_split, load_model
from .train import evaluate_on_test, finetune


def linear_probe(cfg, finetuned=None, device=None) -> dict[str, EvalResult]:
    """Train a linear classifier on ``cfg.pretrained``'s frozen backbone and evaluate it (10 clips).

    The backbone stays in eval mode (its BatchNorm statistics frozen) and only the new fc learns, at
    ``cfg.probe_lr`` (:func:`pacekit.train.finetune` with ``freeze_backbone=True``). With ``finetuned`` (a fine-tuning
    checkpoint of the same backbone) that model is evaluated on the same test split, so the two read side
    by side. Returns ``{"linear probe": EvalResult, "fine-tuned": EvalResult}`` (the second if asked).
    """
    probe = finetune(cfg.replace(freeze_backbone=True, ft_lr=cfg.probe_lr))
    device = device if device is not None else next(probe.model.parameters()).device
    results = {"linear probe": evaluate_on_test(probe.model, cfg, device)}
    if finetuned is not None:
        loaded = load_model(checkpoint=finetuned, device=device)
        if loaded.stage != "finetune":
            raise ValueError(f"--finetuned {finetuned} is a {loaded.stage} checkpoint; give a fine-tuning checkpoint")
        test = eval_split(loaded, cfg.dataset, cfg.root, "test", cfg.split, cfg.max_videos, cfg.num_clips)
        results["fine-tuned"] = evaluate_videos(loaded.model, test, device, cfg.eval_batch_size,
                                                min(cfg.num_workers, 4), loaded.transform())
    return results


# --------------------------------------------------------------------------------------------
# Command
# --------------------------------------------------------------------------------------------


def cmd_linear_probe(args) -> int:
    cfg = config_from_args(args, freeze_backbone=True)
    if cfg.pretrained is None:
        print("note: no --pretrained checkpoint; this probes a randomly initialised backbone (a baseline)")
    elif not Path(cfg.pretrained).is_file():
        raise FileNotFoundError(f"--pretrained {cfg.pretrained}: no such checkpoint file")
    if args.finetuned is not None and not Path(args.finetuned).is_file():
        raise FileNotFoundError(f"--finetuned {args.finetuned}: no such checkpoint file")
    results = linear_probe(cfg, args.finetuned)
    print(f"test split, {cfg.num_clips}-clip evaluation:")
    print(format_comparison(results))
    out = Path(cfg.run_dir) / "linear_probe.json"
    out.write_text(json.dumps({name: {"top1": r.top1, "top5": r.top5, **r.coverage_json()}
                               for name, r in results.items()}, indent=1))
    print(f"wrote {out}")
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "linear-probe", help="train a linear classifier on a frozen pretrained backbone; compare with fine-tuning",
        description="Linear probe: --pretrained CKPT's backbone is frozen (eval mode) and only a new fc is trained, "
                    "then evaluated with 10 clips per test video. --finetuned CKPT adds a fully fine-tuned model's "
                    "row to the table.")
    add_config_arguments(p, exclude=("freeze_backbone",))
    p.add_argument("--finetuned", default=None, help="a fine-tuning checkpoint to report beside the probe")
    p.set_defaults(func=cmd_linear_probe)


__all__ = ["add_commands", "cmd_linear_probe", "linear_probe"]
