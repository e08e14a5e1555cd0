"""``pacekit claims``: a small-scale study of each of the paper's claims, as a ledger (:mod:`pacekit.study.claims`)."""

from __future__ import annotations

from ..atomic import ensure_writable
from ..data.synthetic import check_companion_folder, check_synthetic_folder, ensure_synthetic
from ..evaluation.attention import ATTENTION_VIDEOS
from ..study.claims import CLAIM_IDS, check_seeds, comparison_label, default_jobs, get_claims, run_ledger
from .config_flags import add_config_arguments, config_from_args
from .flags import positive_int

#: (width, height) of the synthetic videos the ledger writes, as the quickstart's.
SYNTHETIC_SIZE = (160, 120)


def cmd_claims(args) -> int:
    cfg = config_from_args(args)
    seeds = [cfg.seed + k for k in range(args.seeds)]
    claims = args.claims.split(",") if args.claims else None
    # Before the synthetic set is written (minutes): the claims named, the device, the output folder, the seeds
    # it records, and that every folder it writes into is new, empty or pacekit's.
    selected = get_claims(claims)
    jobs = args.jobs if args.jobs is not None else default_jobs(cfg)
    ensure_writable(args.out)
    check_seeds(args.out, seeds)
    check_synthetic_folder(args.data)
    for spread in sorted({arm.get("pretrain_speed_spread") for claim in selected for arm in claim.arms.values()}
                         - {None}):
        check_companion_folder(args.data, spread)
    root = ensure_synthetic(args.data, num_classes=cfg.synthetic_classes, videos_per_class=cfg.synthetic_videos,
                            seed=cfg.seed, width=SYNTHETIC_SIZE[0], height=SYNTHETIC_SIZE[1], progress=cfg.progress)
    cfg = cfg.replace(dataset="synthetic", root=str(root), out_dir=args.out, pretrained=None)
    print(f"seeds {seeds} (recorded in {args.out}/seeds.json before any result); {jobs} cell(s) at a time")
    ledger = run_ledger(cfg, args.out, claims, seeds, preset=args.preset, attention_videos=args.attention_videos,
                        log=print, command=args.command_line, jobs=jobs)
    for claim in ledger["claims"]:
        for comp in claim["comparisons"]:
            print(f"{claim['id']}: {comparison_label(comp)} ({comp['metric']}): {comp['verdict']}")
    print(f"\nledger: {args.out}/ledger.md, {args.out}/ledger.json ({ledger['seconds']['total']:.0f} s)")
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "claims", help="the paper's claims, shown: a seeded small-scale study of each, as <out>/ledger.md",
        description="Runs each selected claim's arms over fixed seeds on the synthetic set and writes "
                    "<out>/ledger.md, <out>/ledger.json and one figure per claim. Finished runs are reused, so "
                    "an interrupted ledger resumes when run again with the same --out and --seeds.")
    p.add_argument("--out", default="runs/claims", help="output folder (default: runs/claims)")
    p.add_argument("--data", default="data/synthetic", help="synthetic dataset folder (default: data/synthetic)")
    p.add_argument("--claims", default=None,
                   help=f"comma-separated claims to run, e.g. C1,C6 (default: all of {','.join(CLAIM_IDS)})")
    p.add_argument("--seeds", type=positive_int, default=3,
                   help="seeds per arm: --seed, --seed+1, ... (default: 3, each one a pretraining per arm); "
                        "recorded before any result")
    p.add_argument("--jobs", type=positive_int, default=None,
                   help="cells (and pretrainings) run side by side, each in its own process on --threads torch "
                        "threads (default: one per --threads of the CPUs; the claims preset sets --threads 1, so two "
                        "on 2 cores; --threads none runs one at a time on torch's default threads). A cell's numbers "
                        "depend on its threads, not on --jobs (docs/performance.md has what side by side gains)")
    p.add_argument("--attention-videos", type=positive_int, default=ATTENTION_VIDEOS,
                   help="the first this many test videos the attention claim (C6) scores, each at Fig. 5's paces 1-4 "
                        "(default: every test video)")
    add_config_arguments(p, exclude=("name", "out_dir", "dataset", "root", "pretrained", "freeze_backbone"),
                         default_preset="claims")
    p.set_defaults(func=cmd_claims, interrupt_hint="interrupted; run the same command again to resume the ledger")
