"""Writing a synthetic set to disk in UCF101's layout: videos, mover masks, split files and synthetic.json.

``plan_synthetic`` describes a whole set without drawing (every video's class, seeds, frame count, natural
speed and split); ``build_synthetic`` draws and encodes what is missing (``make_synthetic`` everything,
``ensure_synthetic`` only what is missing), in parallel processes. Versions 3 and 4 write each video's
mover masks beside it (``write_mover_masks``, ``load_mover_masks``). A *companion* set is the same set with
the actions' natural speeds pulled together (``ensure_companion``).
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from concurrent.futures import as_completed
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from ...atomic import check_json, damaged, read_json, write_bytes_atomic
from ...errors import one_line
from ...machine import usable_cores
from ...owned import Kind, check_folder
from ...workers import spawn_pool, stop_pool
from .drawing import MASK_SCALE, draw_figure_video, draw_video
from .specs import (
    FORMAT_VERSION,
    MOTION_CLASSES,
    REFERENCE_HEIGHT,
    _check_frame_size,
    _check_version,
    check_speed_spread,
    figure_classes,
    sample_figure_spec,
    sample_spec,
    synthetic_classes,
)

FORMAT_NAME = "pacekit-synthetic"
VIDEOS_DIR = "UCF-101"
SPLITS_DIR = "ucfTrainTestlist"
METADATA_FILE = "synthetic.json"
MASK_SUFFIX = ".masks.npz"
CLIPS_PER_GROUP = 4      # UCF101 cuts 4-7 clips from each long video ("group")
QUANTIZER = 3            # MPEG-4 constant quantiser: 2 is near-lossless, 31 the worst; 3 keeps textures
GOP_SIZE = 12


# ------------------------------------------------------------------------------------ mover masks


def mask_path(video_path) -> Path:
    """Where a video's mover masks lie: ``v_X_g01_c01.avi`` -> ``v_X_g01_c01.masks.npz`` beside it."""
    video_path = Path(video_path)
    return video_path.with_name(video_path.stem + MASK_SUFFIX)


def write_mover_masks(video_path, masks: np.ndarray, frame_size: tuple[int, int]) -> Path:
    """Write ``masks`` (T, h, w) bool beside ``video_path`` (compressed npz; see ``load_mover_masks``)."""
    path = mask_path(video_path)
    masks = np.asarray(masks, bool)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    try:
        np.savez_compressed(tmp, masks=np.packbits(masks, axis=-1), shape=np.asarray(masks.shape),
                            frame_size=np.asarray(frame_size), scale=np.asarray(MASK_SCALE))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def load_mover_masks(video_path, full_size: bool = False) -> np.ndarray:
    """The ground-truth mover masks of a version-3 or -4 synthetic video: (T, H, W) bool, one per frame.

    The file ``<video stem>.masks.npz`` beside the video holds ``masks`` (the (T, h, w) bool masks
    bit-packed along the last axis, ``np.packbits(m, axis=-1)``), ``shape`` (T, h, w), ``frame_size``
    (H, W) of the video, and ``scale`` (h = H // scale, w = W // scale; scale is 2). A mask pixel is set
    when the mover covers at least half of its scale x scale block of the frame. By default the masks
    come at that reduced size; ``full_size=True`` repeats each pixel to the video's size (padding an
    odd remainder with False).
    """
    path = mask_path(video_path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no mover masks beside {Path(video_path).name} (only versions 3 to 6 "
                                "of the synthetic set write them; regenerate with `pacekit make-synthetic`)")
    try:
        with np.load(path) as data:
            shape = tuple(int(v) for v in data["shape"])
            masks = np.unpackbits(data["masks"], axis=-1, count=shape[-1]).astype(bool).reshape(shape)
            frame_size = tuple(int(v) for v in data["frame_size"])
            scale = int(data["scale"])
    except (ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise damaged(path, f"not the mover masks pacekit writes: {one_line(exc)}",
                      "delete it: `pacekit make-synthetic` (or the next quickstart or claims run on this set) draws "
                      "its video and masks again") from None
    if full_size:
        up = masks.repeat(scale, axis=1).repeat(scale, axis=2)
        out = np.zeros((shape[0],) + frame_size, bool)
        out[:, :up.shape[1], :up.shape[2]] = up
        return out
    return masks


# ------------------------------------------------------------------------------------ video files


def write_video(path, frames: np.ndarray, fps: int = 25) -> Path:
    """Encode (T, H, W, 3) uint8 RGB frames as MPEG-4 Part 2 in AVI (yuv420p, like UCF101's XviD).

    The file is written under a temporary name beside ``path`` and renamed, so ``path`` is either
    absent or complete.
    """
    import av

    path = Path(path)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
        raise ValueError(f"{path}: expected frames (T, H, W, 3) uint8 with T >= 1, got "
                         f"{frames.shape} {frames.dtype}")
    _check_frame_size(frames.shape[2], frames.shape[1])
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with av.open(str(tmp), "w", format="avi") as container:
            stream = container.add_stream("mpeg4", rate=int(fps))
            stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
            ctx = stream.codec_context
            ctx.codec_tag = "XVID"
            ctx.gop_size = GOP_SIZE
            ctx.qmin = ctx.qmax = QUANTIZER     # constant quality: textures survive any content
            ctx.bit_rate = 20_000_000            # a ceiling only; the quantiser decides
            ctx.thread_count = 1                 # parallelism is across videos; keeps output exact
            for frame in frames:
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def video_filename(class_name: str, group: int, clip: int) -> str:
    """UCF101's name for clip ``clip`` of group ``group``: ``v_<Class>_g<GG>_c<CC>.avi``."""
    return f"v_{class_name}_g{group:02d}_c{clip:02d}.avi"


# ------------------------------------------------------------------------------------ the dataset


def _params(num_classes, videos_per_class, seed, width, height, fps, duration, test_fraction,
            version=FORMAT_VERSION, speed_spread=None) -> dict:
    """Validated generation parameters, as stored in synthetic.json (``speed_spread`` only when set, so a set
    drawn with the classes' own speeds keeps the description it always had)."""
    names = synthetic_classes(version)
    if not 1 <= int(num_classes) <= len(names):
        raise ValueError(
            f"num_classes={num_classes}: version {version} of pacekit's synthetic set has {len(names)} built-in "
            f"motions ({', '.join(names)}); choose 1..{len(names)}"
        )
    if int(videos_per_class) < 1:
        raise ValueError(f"videos_per_class must be >= 1, got {videos_per_class}")
    _check_frame_size(int(width), int(height))
    if isinstance(duration, (int, float)):
        duration = (float(duration), float(duration))
    duration = tuple(float(d) for d in duration)
    if len(duration) != 2 or not 0 < duration[0] <= duration[1]:
        raise ValueError(f"duration must be seconds or (min, max) seconds with 0 < min <= max, got {duration}")
    if round(duration[0] * fps) < 1:
        raise ValueError(f"duration {duration[0]} s at {fps} fps is under one frame")
    if not 0.0 <= float(test_fraction) < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    if float(test_fraction) > 0 and int(videos_per_class) < 2:
        raise ValueError(f"test_fraction={test_fraction} needs videos_per_class >= 2 (one group for "
                         "train, one for test); pass test_fraction=0 for a train-only set")
    spread = check_speed_spread(speed_spread)
    if spread is not None and version == 1:
        raise ValueError("speed_spread needs format version 3, 4 or 5: version 1's motions have no class speeds to "
                         "pull together")
    params = {"num_classes": int(num_classes), "videos_per_class": int(videos_per_class), "seed": int(seed),
              "width": int(width), "height": int(height), "fps": int(fps), "duration": list(duration),
              "test_fraction": float(test_fraction)}
    if spread is not None:
        params["speed_spread"] = spread
    return params


def _groups(videos_per_class: int) -> list[int]:
    """Clips per group: ~CLIPS_PER_GROUP each, at least two groups whenever there are 2+ videos."""
    n_groups = max(1, round(videos_per_class / CLIPS_PER_GROUP))
    if videos_per_class >= 2:
        n_groups = max(2, n_groups)
    sizes = [videos_per_class // n_groups] * n_groups
    for i in range(videos_per_class % n_groups):
        sizes[i] += 1
    return sizes


def _derived_seed(*entropy: int) -> int:
    return int(np.random.SeedSequence(list(entropy)).generate_state(1, dtype=np.uint32)[0])


def plan_synthetic(num_classes: int = 10, videos_per_class: int = 40, seed: int = 0, width: int = 160,
                   height: int = 120, fps: int = 25, duration=(2.0, 4.0), test_fraction: float = 0.3,
                   version: int = FORMAT_VERSION, speed_spread: Optional[float] = None) -> dict:
    """The full description of a synthetic set (the content of synthetic.json), without drawing.

    Videos of a class are cut into groups of ~4 clips sharing one scene; the first groups of every
    class (``round(test_fraction * groups)``, at least one) are the test split, as in UCF101's split 1.
    Each video's ``seed`` (motion) and ``scene_seed`` (look) reproduce it:
    ``draw_video(sample_spec(class_index, seed, width, height, num_frames, scene_seed))`` for version 1,
    ``draw_figure_video(sample_figure_spec(...))`` (same arguments, and ``version``) for versions 3 to 6, whose
    entries also name each video's ``masks`` file. ``speed_spread`` (versions 3 to 6): the classes' natural
    speeds pulled together (:func:`figure_classes`); the same seed then draws the same videos, scenes and split,
    each video with only its speed and period changed.
    """
    version = _check_version(version)
    params = _params(num_classes, videos_per_class, seed, width, height, fps, duration, test_fraction, version,
                     speed_spread)
    names = synthetic_classes(version)
    table = MOTION_CLASSES if version == 1 else figure_classes(version, params.get("speed_spread"))
    sizes = _groups(params["videos_per_class"])
    n_test = 0
    if params["test_fraction"] > 0:
        n_test = min(max(1, round(params["test_fraction"] * len(sizes))), len(sizes) - 1)
    videos = []
    for ci in range(params["num_classes"]):
        name = names[ci]
        for g, size in enumerate(sizes, start=1):
            scene_seed = _derived_seed(params["seed"], 2, ci, g)
            for c in range(1, size + 1):
                frames_rng = np.random.default_rng([params["seed"], 0, ci, g, c])
                num_frames = int(round(frames_rng.uniform(*params["duration"]) * params["fps"]))
                motion_seed = _derived_seed(params["seed"], 1, ci, g, c)
                if version == 1:
                    spec = sample_spec(ci, motion_seed, params["width"], params["height"], num_frames, scene_seed)
                else:
                    spec = sample_figure_spec(ci, motion_seed, params["width"], params["height"], num_frames,
                                              scene_seed, version=version, speed_spread=params.get("speed_spread"))
                videos.append({
                    "path": f"{name}/{video_filename(name, g, c)}", "class": name, "class_index": ci,
                    "group": g, "clip": c, "split": "test" if g <= n_test else "train",
                    "num_frames": num_frames, "seed": motion_seed, "scene_seed": scene_seed,
                    "natural_speed": round(spec.speed, 6), "period": round(spec.period, 4),
                })
                if version != 1:
                    videos[-1]["masks"] = str(mask_path(videos[-1]["path"]))
    units = {"natural_speed": f"mean tip displacement, px/frame at {REFERENCE_HEIGHT} px height",
             "period": "frames per motion cycle at natural pace"}
    if version != 1:
        units["natural_speed"] = f"mean displacement of the mover's centre, px/frame at {REFERENCE_HEIGHT} px height"
        units["masks"] = (f"<video stem>{MASK_SUFFIX} beside the video: per-frame mover masks at 1/{MASK_SCALE} of "
                          "the frame size (pacekit.data.synthetic.load_mover_masks)")
    return {
        "format": FORMAT_NAME, "version": version, "params": params, "units": units,
        "classes": [{"name": m.name, "description": m.description, "speed_range": list(m.speed_range),
                     "period_range": list(m.period_range)} for m in table[:params["num_classes"]]],
        "videos": videos,
    }


def _split_files(plan: dict) -> dict[str, bytes]:
    """classInd.txt, trainlist01.txt, testlist01.txt exactly as UCF101 writes them (CRLF lines)."""
    classes = [c["name"] for c in plan["classes"]]
    class_ind = "".join(f"{i} {name}\r\n" for i, name in enumerate(classes, start=1))
    train = "".join(f"{v['path']} {v['class_index'] + 1}\r\n" for v in plan["videos"] if v["split"] == "train")
    test = "".join(f"{v['path']}\r\n" for v in plan["videos"] if v["split"] == "test")
    return {"classInd.txt": class_ind.encode(), "trainlist01.txt": train.encode(),
            "testlist01.txt": test.encode()}


def _render_entry(task) -> str:
    """Worker: draw and encode one planned video (module level so that processes can pickle it)."""
    root, entry, params, version = task
    path = Path(root) / VIDEOS_DIR / entry["path"]
    if version == 1:
        spec = sample_spec(entry["class_index"], entry["seed"], params["width"], params["height"],
                           entry["num_frames"], entry["scene_seed"])
        write_video(path, draw_video(spec), params["fps"])
    else:   # masks first: a video on disk then always has its masks beside it
        spec = sample_figure_spec(entry["class_index"], entry["seed"], params["width"], params["height"],
                                  entry["num_frames"], entry["scene_seed"], version=version,
                                  speed_spread=params.get("speed_spread"))
        frames, masks = draw_figure_video(spec)
        write_mover_masks(path, masks, (params["height"], params["width"]))
        write_video(path, frames, params["fps"])
    return entry["path"]


def read_synthetic_metadata(out) -> Optional[dict]:
    """The parsed synthetic.json of ``out``, or None when there is none.

    Raises:
        DamagedFileError: the file is cut short, not JSON or not of the shape pacekit writes (a ValueError).
        ValueError: it is no pacekit synthetic set description.
    """
    path = Path(out) / METADATA_FILE
    if not path.is_file():
        return None
    # Deleting only the description would not do: a folder holding files and no synthetic.json is refused.
    fix = (f"pacekit cannot tell which set the folder holds: delete the folder {out} (a synthetic set is drawn "
           "again from its parameters), or choose another folder")
    meta = read_json(path, fix, shape=(dict, list, str, int, float, bool, type(None)))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ValueError(f"{path} is not a pacekit synthetic set description; choose another output folder")
    check_json(meta, path, fix, keys={"version": int, "params": dict, "videos": list}, optional={"classes": list})
    for i, entry in enumerate(meta["videos"]):
        check_json(entry, path, fix, keys={"path": str}, where=f"videos[{i}]")
    for i, entry in enumerate(meta.get("classes", [])):
        check_json(entry, path, fix, keys={"name": str}, optional={"speed_range": list}, where=f"classes[{i}]")
    return meta


def synthetic_version(root) -> Optional[dict]:
    """``{"format", "version", "params"}`` of the synthetic set at ``root`` (its format version and generation
    parameters, as a result records them); None when ``root`` holds no readable synthetic set."""
    try:
        meta = read_synthetic_metadata(root)
    except ValueError:
        return None
    if meta is None:
        return None
    return {"format": meta["format"], "version": meta["version"], "params": meta["params"]}


def natural_speeds(root, classes: Sequence[str]) -> Optional[list[float]]:
    """Each of ``classes``' natural speed in the synthetic set at ``root``: the middle of the class's
    ``speed_range`` (mean tip speed at pace 1, px/frame at ``REFERENCE_HEIGHT``), in the order given; None
    when ``root`` holds no synthetic set or the set lacks one of the classes."""
    meta = read_synthetic_metadata(root)
    if meta is None:
        return None
    ranges = {c["name"]: c["speed_range"] for c in meta.get("classes", [])}
    if not set(classes) <= set(ranges):
        return None
    return [float(np.mean(ranges[name])) for name in classes]


#: A synthetic set's folder: its synthetic.json marks it (written first, so a folder of pacekit's always has one).
SYNTHETIC_FOLDER = Kind(FORMAT_NAME, "a synthetic set", METADATA_FILE)

#: What to do about a folder pacekit did not write, when asked to write a synthetic set there.
SYNTHETIC_FOLDER_FIX = "Choose another output folder."


def check_synthetic_folder(out, fix: str = SYNTHETIC_FOLDER_FIX) -> Optional[dict]:
    """Refuse ``out`` unless a synthetic set may be written there: a new or empty folder, or one pacekit
    wrote (its synthetic.json, whose parsed contents are returned; None for a new or empty folder). ``fix`` ends
    the refusal of a folder pacekit did not write (:func:`pacekit.owned.check_folder`)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} is a file; give a folder for the synthetic set")
    old = read_synthetic_metadata(out)
    check_folder(out, SYNTHETIC_FOLDER, fix)  # also refuses pacekit's folder of another kind (a prepared copy)
    return old


@dataclass
class SyntheticSummary:
    """What ``build_synthetic`` did: ``root`` (the dataset root), ``num_videos`` in the set,
    ``num_written`` now, ``seconds`` taken, ``cached`` (True when nothing had to be written)."""

    root: Path
    num_videos: int
    num_written: int
    seconds: float

    @property
    def cached(self) -> bool:
        return self.num_written == 0

    def __str__(self) -> str:
        if self.cached:
            return f"synthetic set at {self.root}: {self.num_videos} videos, all present (cached)"
        return (f"synthetic set at {self.root}: wrote {self.num_written} of {self.num_videos} videos "
                f"in {self.seconds:.1f} s")


@dataclass(frozen=True)
class SyntheticParams:
    """What a synthetic set is drawn from (:func:`plan_synthetic`'s arguments; ``synthetic.json`` records them).

    ``duration`` is seconds, or a (min, max) range drawn per video; ``version`` picks the format
    (``FORMAT_VERSIONS``); ``speed_spread`` (versions 3 to 6) pulls the actions' natural speeds together
    (:func:`figure_classes`; 1: one speed for all).
    """

    num_classes: int = 10
    videos_per_class: int = 40
    seed: int = 0
    width: int = 160
    height: int = 120
    fps: int = 25
    duration: Union[float, tuple[float, float]] = (2.0, 4.0)
    test_fraction: float = 0.3
    version: int = FORMAT_VERSION
    speed_spread: Optional[float] = None

    def plan(self) -> dict:
        """The set's full description (:func:`plan_synthetic`)."""
        return plan_synthetic(**{f.name: getattr(self, f.name) for f in fields(self)})


def _with_changes(params: Optional[SyntheticParams], changes: dict) -> SyntheticParams:
    params = params if params is not None else SyntheticParams()
    unknown = sorted(set(changes) - {f.name for f in fields(SyntheticParams)})
    if unknown:
        raise TypeError(f"unknown synthetic set parameter(s) {', '.join(unknown)}; SyntheticParams has "
                        f"{', '.join(f.name for f in fields(SyntheticParams))}")
    return replace(params, **changes)


def build_synthetic(out, params: Optional[SyntheticParams] = None, *, workers: Optional[int] = None,
                    progress: bool = True, force: bool = False, **changes) -> SyntheticSummary:
    """Write (``force``) or complete (default) the synthetic set of ``params`` (with ``changes``, any
    :class:`SyntheticParams` field) in ``out``; see ``make_synthetic``.

    Without ``force``, videos already present (non-empty) under the same parameters are kept and only
    the missing ones are drawn. A folder described by a different synthetic.json is rewritten (its
    old videos removed); a folder that holds anything but no synthetic.json is refused, so a dataset
    or any other folder of the user's is never touched.
    """
    start = time.perf_counter()
    out = Path(out)
    plan = _with_changes(params, changes).plan()
    old = check_synthetic_folder(out)
    same = old is not None and old.get("version") == plan["version"] and old.get("params") == plan["params"]
    if old is not None and not same:   # a different set of ours: drop its videos, keep nothing stale
        for v in old.get("videos", []):
            (out / VIDEOS_DIR / v["path"]).unlink(missing_ok=True)
            mask_path(out / VIDEOS_DIR / v["path"]).unlink(missing_ok=True)

    # The plan goes first: it marks the folder as pacekit's, and an interrupted run is then repaired, not redone.
    if force or not same:
        out.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(out / METADATA_FILE, (json.dumps(plan, indent=1) + "\n").encode())
    video_root = out / VIDEOS_DIR
    for name in (c["name"] for c in plan["classes"]):
        (video_root / name).mkdir(parents=True, exist_ok=True)
    (out / SPLITS_DIR).mkdir(parents=True, exist_ok=True)
    for name, data in _split_files(plan).items():
        path = out / SPLITS_DIR / name
        if force or not same or not path.is_file() or path.read_bytes() != data:
            write_bytes_atomic(path, data)

    def complete(v) -> bool:
        video = video_root / v["path"]
        if not video.is_file() or video.stat().st_size == 0:
            return False
        return plan["version"] == 1 or mask_path(video).is_file()

    todo = [v for v in plan["videos"] if force or not same or not complete(v)]
    tasks = [(str(out), v, plan["params"], plan["version"]) for v in todo]
    workers = usable_cores() if workers is None else max(1, int(workers))
    bar = None
    if progress and tasks:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(tasks), desc="synthetic videos", unit="video")
    if workers == 1 or len(tasks) <= 1:
        for task in tasks:
            _render_entry(task)
            if bar is not None:
                bar.update(1)
    elif tasks:
        pool = spawn_pool(min(workers, len(tasks)))
        done = False
        try:
            for fut in as_completed([pool.submit(_render_entry, t) for t in tasks]):
                fut.result()
                if bar is not None:
                    bar.update(1)
            done = True
        finally:
            if done:
                pool.shutdown(wait=True)
            else:  # an error or Ctrl-C: do not wait for the videos in flight
                stop_pool(pool)
    if bar is not None:
        bar.close()
    return SyntheticSummary(out, len(plan["videos"]), len(tasks), time.perf_counter() - start)


def make_synthetic(out, params: Optional[SyntheticParams] = None, *, workers: Optional[int] = None,
                   progress: bool = True, **changes) -> Path:
    """Write the synthetic action set of ``params`` (default :class:`SyntheticParams`, with ``changes``: any of
    its fields, ``num_classes=3``) into ``out`` (every video drawn anew) and return ``out``.

    Layout (UCF101's): ``out/UCF-101/<Class>/v_<Class>_g<GG>_c<CC>.avi``; ``out/ucfTrainTestlist/``
    with ``classInd.txt`` ("1 Bounce"), ``trainlist01.txt`` ("Bounce/v_Bounce_g04_c01.avi 1") and
    ``testlist01.txt`` (no label), CRLF line ends; ``out/synthetic.json`` with the parameters and
    each video's class, natural speed, period, frame count and seeds. ``workers`` processes draw in parallel
    (default: all cores). Versions 4 (default) and 3 are made for the lesson and write each video's mover
    masks beside it (``load_mover_masks``); 1 is the first, small-object set.
    """
    return build_synthetic(out, params, workers=workers, progress=progress, force=True, **changes).root


def ensure_synthetic(out, params: Optional[SyntheticParams] = None, *, workers: Optional[int] = None,
                     progress: bool = True, **changes) -> Path:
    """Like ``make_synthetic``, but a complete set with the same parameters in ``out`` is reused as
    is, and a partial one (a video missing or empty) is repaired by writing only what is missing."""
    return build_synthetic(out, params, workers=workers, progress=progress, force=False, **changes).root


def companion_folder(root, speed_spread: float) -> Path:
    """Where the companion of the synthetic set in ``root`` with ``speed_spread`` lives: ``<root>_spread<ratio>``
    beside it (``data/synthetic_spread1`` for one speed)."""
    root = Path(root)
    return root.with_name(f"{root.name}_spread{check_speed_spread(speed_spread):g}")


def companion_fix(root, speed_spread: float) -> str:
    """What to do about a companion folder pacekit did not write: the user named ``root``, not the folder beside it."""
    return (f"The companion of {root} with speed spread {check_speed_spread(speed_spread):g} is written beside it, "
            f"in {companion_folder(root, speed_spread)}: move those files away, or give the synthetic set another "
            "folder.")


def check_companion_folder(root, speed_spread: float) -> Optional[dict]:
    """:func:`check_synthetic_folder` of the companion of ``root`` with ``speed_spread``: a command calls it before
    any long work. Reads only."""
    return check_synthetic_folder(companion_folder(root, speed_spread), companion_fix(root, speed_spread))


def ensure_companion(root, speed_spread: float, workers: Optional[int] = None, progress: bool = True) -> Path:
    """The companion of the synthetic set in ``root``: the same parameters and seed (so the same videos, scenes
    and split) with the actions' natural speeds pulled together to ``speed_spread``, written (or reused) in
    :func:`companion_folder`. Returns its folder. A folder there that pacekit did not write is refused
    (:func:`check_companion_folder`)."""
    spread = check_speed_spread(speed_spread)
    if spread is None:
        raise ValueError("speed_spread=None: a companion set needs a speed spread (1: one speed for every action)")
    meta = read_synthetic_metadata(root)
    if meta is None:
        raise FileNotFoundError(f"{Path(root) / METADATA_FILE} is missing: a companion set is drawn from a pacekit "
                                "synthetic set's description; write the set first (pacekit make-synthetic)")
    check_companion_folder(root, spread)
    params = {k: v for k, v in meta["params"].items() if k != "speed_spread"}
    return ensure_synthetic(companion_folder(root, spread), workers=workers, progress=progress,
                            version=meta["version"], speed_spread=spread, **params)
