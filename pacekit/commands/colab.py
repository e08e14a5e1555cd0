"""``pacekit colab-bundle``: the pacekit wheel a student uploads to Colab (:mod:`pacekit.teaching.colab`)."""

from __future__ import annotations

from ..teaching.colab import WHEEL_PLACES, build_bundle


def cmd_colab_bundle(args) -> int:
    wheel = build_bundle(args.out)
    print(f"wrote {wheel}: upload it to Colab's {WHEEL_PLACES[0]} (the Files panel) or to {WHEEL_PLACES[1]} on "
          "your Drive; a notebook's setup cell installs it from there (--no-deps, keeping Colab's torch)")
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "colab-bundle", help="write the pacekit wheel (with its shipped weights) to upload to Colab",
        description="Build one wheel of this pacekit clone (the package and its shipped weights) into --out. "
                    "Uploaded to Colab's /content or to MyDrive, it is what the notebooks' setup cell installs "
                    "on Colab while the project declares no home to install from.")
    p.add_argument("--out", required=True, help="folder to write the wheel into")
    p.set_defaults(func=cmd_colab_bundle)


__all__ = ["add_commands", "cmd_colab_bundle"]
