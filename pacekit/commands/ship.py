"""``pacekit ship-weights``: pretrain one of the shipped networks and write it as package data
(:mod:`pacekit.teaching.shipped`), with the record of how it was made."""

from __future__ import annotations

import shlex

from ..teaching.shipped import DEFAULT_NETWORK, NETWORKS, WEIGHTS_DIR, build_shipped, ship_command
from .flags import positive_int

DEFAULT_DATA = "data/synthetic"


def command_line(args) -> str:
    """The command as typed, up to defaults: the flags that differ from them (a folder given with --out is
    written as given)."""
    words = shlex.split(ship_command(args.network))
    if args.out is not None:
        words += ["--out", args.out]
    if args.data != DEFAULT_DATA:
        words += ["--data", args.data]
    if args.threads is not None:
        words += ["--threads", str(args.threads)]
    if args.overwrite:
        words.append("--overwrite")
    return shlex.join(words)


def cmd_ship_weights(args) -> int:
    out = args.out if args.out is not None else WEIGHTS_DIR
    network = NETWORKS[args.network]
    print(f"pretraining {network.about} ({network.preset} preset) on {args.data} ...", flush=True)
    built = build_shipped(out, args.data, command=command_line(args), overwrite=args.overwrite,
                          progress=not args.no_progress, network=args.network, threads=args.threads)
    record = built.record
    where = network.display_path if args.out is None else str(built.weights)
    print(f"wrote {where} ({record['size_bytes'] / 1024:.0f} KB, sha256 {record['sha256'][:16]}...) and "
          f"{network.record_file} beside it")
    print(f"pretext (pace) accuracy on the synthetic test split: {100 * record['pretext_accuracy']:.1f}% "
          f"({record['pretext_test_videos']} videos); built in {built.seconds:.0f} s")
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "ship-weights", help="pretrain a shipped network and write it as the package's shipped weights",
        description="Pace-pretrain one of the shipped networks on the quickstart's synthetic set and write a slim "
                    "checkpoint (model, config, stage) and a JSON record (command, config, seed, synthetic set, "
                    "pretext accuracy, torch, date, machine, size, sha256) that notebooks load on a "
                    "CPU instead of pretraining (PACEKIT_PRETRAINED=0 trains).")
    p.add_argument("--network", choices=list(NETWORKS), default=DEFAULT_NETWORK,
                   help="which network: " + "; ".join(f"{k}: {v.about} ({v.weights_file})" for k, v in NETWORKS.items())
                   + f" (default: {DEFAULT_NETWORK})")
    p.add_argument("--out", default=None,
                   help="folder for the network's .pt and .json files (default: the package's weights folder)")
    p.add_argument("--data", default=DEFAULT_DATA, help=f"synthetic dataset folder (default: {DEFAULT_DATA})")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="torch threads (default: every core this process may use; give 1 to each of two builds "
                        "run side by side on 2 cores, or they wait on each other's threads)")
    p.add_argument("--overwrite", action="store_true", help="replace shipped weights already in the folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_ship_weights)
