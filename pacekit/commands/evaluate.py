"""``pacekit evaluate``: 10-clip video-level accuracy of a fine-tuned checkpoint (:mod:`pacekit.evaluation.recognition`)."""

from __future__ import annotations

from pathlib import Path

from ..atomic import ensure_writable
from ..evaluation.recognition import EVAL_FOLDER, evaluate_videos, save_result
from ..owned import check_folder, mark_folder
from ..training.loading import eval_split, load_model, resolve_device
from .flags import add_dataset_arguments, add_system_arguments, positive_int


def cmd_evaluate(args) -> int:
    device = resolve_device(args.device)
    loaded = load_model(args.checkpoint, device=device)
    if loaded.stage != "finetune":
        raise ValueError(
            f"{args.checkpoint} is a pretraining checkpoint: its head predicts paces, not actions. Fine-tune it "
            "first (`pacekit finetune --pretrained CKPT`), or use `pacekit retrieve` on its features"
        )
    dataset = eval_split(loaded, args.dataset, args.root, args.subset, args.split, args.max_videos, args.num_clips)
    if loaded.classes is not None and list(loaded.classes) != list(dataset.classes):
        raise ValueError(
            f"{args.checkpoint} was fine-tuned on {len(loaded.classes)} classes ({', '.join(loaded.classes[:3])}, ...) "
            f"but {args.dataset} at {args.root} has {len(dataset.classes)} ({', '.join(dataset.classes[:3])}, ...); "
            "evaluate on the dataset it was fine-tuned on"
        )
    out = Path(args.out) if args.out else Path(args.checkpoint).parent / f"eval_{args.dataset}_{args.subset}{args.split}"
    check_folder(out, EVAL_FOLDER, "Choose another --out.")  # before the evaluation, not after it
    mark_folder(ensure_writable(out), EVAL_FOLDER)
    absent = f" ({len(dataset.missing):,} more listed but missing on disk)" if dataset.missing else ""
    print(f"evaluating {loaded.source} on {args.dataset} {args.subset} split {args.split}: {len(dataset)} videos"
          f"{absent}, {args.num_clips} clips each, centre crop {loaded.crop}")
    result = evaluate_videos(loaded.model, dataset, device, args.batch_size, args.num_workers, loaded.transform())
    print(result.summary(listed_in=str(out / "eval.json")))
    paths = save_result(result, out)
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate", help="10-clip video-level top-1/top-5, per-class accuracy and confusion matrix (paper 4.1)",
        description="Average the softmax over 10 clips per test video, centre crop (paper 4.1). Writes eval.json, "
                    "confusion.png and per_class_accuracy.png.")
    p.add_argument("--checkpoint", required=True, help="a pacekit fine-tuning checkpoint (e.g. runs/NAME/last.pt)")
    add_dataset_arguments(p)
    p.add_argument("--subset", default="test", help="which list to evaluate (default test)")
    p.add_argument("--num-clips", type=positive_int, default=10, help="clips per video (paper: 10)")
    p.add_argument("--out", default=None, help="output folder (default: beside the checkpoint)")
    add_system_arguments(p)
    p.set_defaults(func=cmd_evaluate)
