"""``pacekit linear-probe``: a linear classifier on a frozen pretrained backbone (:func:`pacekit.study.experiment.linear_probe`)."""

from __future__ import annotations

from pathlib import Path

from ..atomic import write_json_atomic
from ..evaluation.recognition import format_comparison
from ..study.experiment import linear_probe
from .config_flags import add_config_arguments, config_from_args


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
    # predicted_counts[c]: test videos predicted as class c (a constant predictor has one non-zero count).
    write_json_atomic(out, {"results": {name: {"top1": r.top1, "top5": r.top5,
                                               "predicted_counts": r.confusion.sum(0).tolist(), **r.coverage_json()}
                                        for name, r in results.items()}}, indent=1)
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
