"""``pacekit retrieve``: nearest-neighbour video retrieval (:mod:`pacekit.evaluation.retrieval`)."""

from __future__ import annotations

from pathlib import Path

from ..atomic import ensure_writable, write_json_atomic
from ..evaluation.recognition import coverage_json, left_out_note
from ..evaluation.retrieval import (
    FEATURES,
    PAPER_FEATURES,
    RETRIEVAL_FOLDER,
    TOPK,
    describe_feature,
    format_table,
    plot_retrieval_examples,
    run_retrieval,
)
from ..owned import check_folder, mark_folder
from ..training.loading import eval_split, load_model, resolve_device
from .flags import add_dataset_arguments, add_model_arguments, add_system_arguments, positive_int


def cmd_retrieve(args) -> int:
    import matplotlib.pyplot as plt

    device = resolve_device(args.device)
    loaded = load_model(args.checkpoint, args.authors_checkpoint, args.arch, device)
    gallery = eval_split(loaded, args.dataset, args.root, "train", args.split, args.max_videos, args.num_clips)
    queries = eval_split(loaded, args.dataset, args.root, "test", args.split, args.max_videos, args.num_clips)
    source = Path(args.checkpoint or args.authors_checkpoint)
    out = Path(args.out) if args.out else source.parent / f"retrieval_{args.dataset}{args.split}"
    check_folder(out, RETRIEVAL_FOLDER, "Choose another --out.")  # before the features, not after them
    out = mark_folder(ensure_writable(out), RETRIEVAL_FOLDER)
    print(f"retrieval with {loaded.source} on {args.dataset} split {args.split}: {len(queries)} test videos query "
          f"{len(gallery)} train videos, {args.num_clips} clips each; features:")
    for name in args.features:
        print(f"  {name}: {describe_feature(name)}")
    results = run_retrieval(loaded.model, queries, gallery, args.features, TOPK, device, args.batch_size,
                            args.num_workers, loaded.transform(), args.chunk_size)
    table = format_table(list(results.values()))
    print(table)
    first = results[args.features[0]]
    write_json_atomic(out / "retrieval.json", {
        "num_queries": first.num_queries, "num_gallery": first.num_gallery, "table": table,
        "features": {name: r.feature for name, r in results.items()},
        "topk": {layer: {str(k): v for k, v in r.topk.items()} for layer, r in results.items()},
        "queries": coverage_json(first.queries_listed, first.num_queries, first.query_left_out),
        "gallery": coverage_json(first.gallery_listed, first.num_gallery, first.gallery_left_out),
    }, indent=1)
    if first.left_out:
        print(f"queries and gallery together: {left_out_note(first.left_out, str(out / 'retrieval.json'))}")
    fig = plot_retrieval_examples(first, queries, gallery)
    fig.savefig(out / "examples.png", dpi=110)
    plt.close(fig)
    print(f"wrote {out / 'retrieval.json'} and {out / 'examples.png'}")
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "retrieve", help="nearest-neighbour video retrieval with VCOP's, p5 or p4 features, top-1..50 (paper 4.4)",
        description="Test videos query train videos by cosine similarity of their features (mean over 10 clips); "
                    "a query is a hit at k if one of its k neighbours has its class. Writes retrieval.json and "
                    "examples.png (queries and their top-3 neighbours).")
    add_model_arguments(p)
    add_dataset_arguments(p)
    p.add_argument("--feature", "--layers", dest="features", nargs="+", default=list(PAPER_FEATURES),
                   choices=FEATURES,
                   help="features, one table row each: vcop (VCOP's conv5 max-pooled (1,2,2) and flattened, "
                        "9,216-d for R(2+1)D at 16x112x112: the paper's p5 rows), p5 (pacekit's 512-d global "
                        "average of conv5), p4 (global average of conv4). Default: vcop p4, as Tables 4/5")
    p.add_argument("--num-clips", type=positive_int, default=10, help="clips per video (paper: 10)")
    p.add_argument("--chunk-size", type=positive_int, default=1024, help="similarity block size (memory ~ chunk^2 floats)")
    p.add_argument("--out", default=None, help="output folder (default: beside the checkpoint)")
    add_system_arguments(p)
    p.set_defaults(func=cmd_retrieve)
