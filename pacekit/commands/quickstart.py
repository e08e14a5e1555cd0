"""``pacekit quickstart``: the whole method on synthetic data, as a report (:mod:`pacekit.study.quickstart`)."""

from __future__ import annotations

from ..atomic import ensure_writable
from ..data.synthetic import FORMAT_VERSION, MASKED_VERSIONS, check_speed_spread
from ..study.quickstart import check_quickstart_folders, run_quickstart
from .config_flags import add_config_arguments, config_from_args
from .flags import positive_int


def cmd_quickstart(args) -> int:
    cfg = config_from_args(args)
    # Before the synthetic set is written (minutes): the speed spread and the folders it writes into.
    check_speed_spread(args.pretrain_speed_spread)
    ensure_writable(args.out)
    check_quickstart_folders(args.out, args.data, args.pretrain_speed_spread)
    result = run_quickstart(cfg, out=args.out, data=args.data, finetune_seeds=args.finetune_seeds,
                            overwrite=args.overwrite, pretrain_speed_spread=args.pretrain_speed_spread,
                            synthetic_version=args.synthetic_version)
    print(result.report.read_text().split("![pace strip]")[0].rstrip())
    print(f"\nreport: {result.report} ({result.seconds['total']:.0f} s)")
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "quickstart", help="synthetic data -> pace pretraining -> fine-tuning vs random init -> report",
        description="The whole method in minutes on a CPU: writes <out>/report.md with a table and figures.")
    p.add_argument("--out", default="runs/quickstart", help="output folder (default: runs/quickstart)")
    p.add_argument("--data", default="data/synthetic", help="synthetic dataset folder (default: data/synthetic)")
    p.add_argument("--finetune-seeds", type=positive_int, default=5,
                   help="train each initialisation and protocol with this many seeds and average (default: 5)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the runs an earlier quickstart left in --out (--resume reuses its finished stages)")
    p.add_argument("--pretrain-speed-spread", type=float, default=None, metavar="RATIO",
                   help="pretrain on a companion of the synthetic set written beside it (<data>_spread<RATIO>): the "
                        "same videos with the actions' natural speeds pulled together so the fastest is RATIO times "
                        "the slowest (1: one speed); fine-tuning, probe, retrieval and attention stay on --data. "
                        "Default: pretrain on --data itself")
    p.add_argument("--synthetic-version", type=int, choices=MASKED_VERSIONS, default=FORMAT_VERSION,
                   help=f"the synthetic set's format version (default {FORMAT_VERSION}; see pacekit make-synthetic "
                        "--version); a set of another version in --data is redrawn")
    # The quickstart picks the dataset, run folders and initialisations itself.
    add_config_arguments(p, exclude=("name", "out_dir", "dataset", "root", "pretrained", "freeze_backbone"),
                         default_preset="cpu-tiny")
    p.set_defaults(func=cmd_quickstart)
