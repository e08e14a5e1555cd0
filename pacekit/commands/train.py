"""``pacekit pretrain`` and ``pacekit finetune`` (:mod:`pacekit.recipes.train`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..atomic import write_json_atomic
from ..recipes.train import evaluate_on_test, finetune, pretrain
from .config_flags import add_config_arguments, config_from_args


def cmd_pretrain(args) -> int:
    cfg = config_from_args(args)
    result = pretrain(cfg, overwrite=args.overwrite)
    if result.checkpoint is not None:
        print(f"pretraining done: final pace accuracy {100 * result.final('acc'):.1f}% (train); "
              f"checkpoint {result.checkpoint}")
    return 0


def cmd_finetune(args) -> int:
    cfg = config_from_args(args)
    if cfg.pretrained and not Path(cfg.pretrained).is_file():
        raise FileNotFoundError(f"--pretrained {cfg.pretrained}: no such checkpoint file (a pretraining run "
                                "writes <run folder>/last.pt)")
    result = finetune(cfg, overwrite=args.overwrite, allow_partial_load=args.allow_partial_load)
    if result.checkpoint is None:  # a non-zero DDP rank
        return 0
    print(f"fine-tuning done: final train accuracy {100 * result.final('acc'):.1f}%; checkpoint {result.checkpoint}")
    if args.eval:
        device = next(result.model.parameters()).device
        evaluation = evaluate_on_test(result.model, cfg, device)
        out = Path(cfg.run_dir) / "eval.json"
        print(f"test split, {cfg.num_clips}-clip evaluation: {evaluation.summary(listed_in=str(out))}")
        write_json_atomic(out, {"top1": evaluation.top1, "top5": evaluation.top5, **evaluation.coverage_json()},
                          indent=2)
    return 0


def _add_run_folder_flags(p) -> None:
    p.add_argument("--overwrite", action="store_true",
                   help="delete the checkpoints and logs of a previous run in this run folder and start again "
                        "(without it, reusing --name needs --resume)")


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "pretrain", help="pace-pretrain a backbone (Sec. 3); runs under torchrun for DDP",
        description="Pace prediction pretraining. Start from --preset and override any config field.")
    add_config_arguments(p)
    _add_run_folder_flags(p)
    p.set_defaults(func=cmd_pretrain)

    p = subparsers.add_parser(
        "finetune", help="fine-tune a (pretrained) backbone on action labels (Sec. 4.1)",
        description="Supervised fine-tuning: --pretrained CKPT keeps its backbone and re-initialises the fc.")
    add_config_arguments(p)
    p.add_argument("--eval", action=argparse.BooleanOptionalAction, default=True,
                   help="run the 10-clip test-split evaluation after training (default: on)")
    _add_run_folder_flags(p)
    p.add_argument("--allow-partial-load", action="store_true",
                   help="fine-tune even when only part of the --pretrained backbone fits this model (the "
                        "transfer report still lists what was skipped or left missing)")
    p.set_defaults(func=cmd_finetune)
