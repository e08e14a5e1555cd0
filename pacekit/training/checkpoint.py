"""Checkpoints: atomic save, weights_only load, RNG capture, and backbone transfer with a key report.

A pacekit checkpoint is a dict with the keys ``model``, ``optimizer``, ``scheduler``, ``rng``,
``config`` (a plain dict), ``epoch``, ``step`` and ``metrics`` (docs/architecture.md). It holds only
tensors and plain Python values (dict, list, tuple, str, int, float, bool, None), so it loads with
``torch.load(..., weights_only=True)``: opening a checkpoint never runs code from the file.
:func:`save_checkpoint` checks this before writing and names the offending key.
"""

from __future__ import annotations

import errno
import os
import random
import re
import tempfile
import warnings
from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..atomic import current_umask
from ..errors import PacekitError


class CheckpointError(PacekitError, RuntimeError):
    """A file exists but is not a checkpoint pacekit can load safely."""


class CheckpointSaveError(PacekitError, OSError):
    """A checkpoint could not be written (disk full, no permission, ...); the previous file is intact."""


class TransferError(PacekitError, ValueError):
    """Backbone weights could not be transferred (none fit, or only part with a strict transfer)."""


class NonFiniteError(PacekitError, ValueError):
    """Weights, a loss or gradients hold NaN or infinity."""


#: What rebuilding a model or restoring a run from a checkpoint's entries raises when they are not of the shape
#: pacekit writes (a file edited or damaged, or written by other code): turned into a :class:`CheckpointError`.
DAMAGED_ENTRY_ERRORS = (TypeError, ValueError, AttributeError, KeyError, IndexError, RuntimeError)


def nonfinite_keys(state_dict: Mapping[str, Any]) -> list[str]:
    """The keys of a state dict whose floating-point tensors hold NaN or +-inf."""
    bad = []
    for key, value in state_dict.items():
        if isinstance(value, torch.Tensor) and value.is_floating_point() and not bool(torch.isfinite(value).all()):
            bad.append(key)
    return bad


def require_finite(state_dict: Mapping[str, Any], source: str) -> None:
    """Raise :class:`NonFiniteError` naming ``source`` and the keys when weights hold NaN or infinity."""
    bad = nonfinite_keys(state_dict)
    if bad:
        raise NonFiniteError(
            f"{source}: {len(bad)} of {len(state_dict)} tensors hold NaN or infinity ({_short_list(bad, 4)}); "
            "the run that wrote them diverged. Use an earlier checkpoint or retrain with a lower learning rate."
        )


def require_entries(state: Mapping[str, Any], keys, source: str, purpose: str) -> None:
    """Raise :class:`CheckpointError` naming the entries of ``keys`` that ``state`` lacks."""
    missing = [k for k in keys if k not in state]
    if missing:
        raise CheckpointError(
            f"{source} lacks {', '.join(repr(k) for k in missing)}, which {purpose} needs; it holds "
            f"{_short_list(sorted(map(str, state)), 10)}. Was it written by pacekit pretrain/finetune?"
        )


_ERRNO_WORDS = {
    errno.ENOSPC: "the disk is full (no space left on device)",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "the operation is not permitted",
    errno.EROFS: "the file system is read-only",
}


def _save_error(path: Path, err: OSError) -> CheckpointSaveError:
    cause = _ERRNO_WORDS.get(err.errno) or (err.strerror or str(err))
    hint = {errno.ENOSPC: "free some space or pick another --out-dir",
            errno.EDQUOT: "free some space or pick another --out-dir",
            errno.EROFS: "pick another --out-dir"}.get(err.errno, "check the folder's permissions or pick another "
                                                               "--out-dir")
    return CheckpointSaveError(err.errno or 0, f"could not save the checkpoint {path}: {cause}; {hint}. "
                               "Any previous file at that path is unchanged.")


# --------------------------------------------------------------------------------------------
# Save / load
# --------------------------------------------------------------------------------------------

# Types torch's weights_only unpickler rebuilds. Exact types: subclasses such as numpy.float64
# (a float subclass) or a namedtuple pickle as their own class and are refused at load time.
_PLAIN_LEAVES = (str, bytes, bytearray, int, float, bool, complex, type(None), torch.device, torch.dtype)
_PLAIN_CONTAINERS = (dict, OrderedDict, Counter, list, tuple, set, torch.Size)


def _check_plain(value: Any, where: str) -> None:
    """Raise TypeError naming ``where`` if value (recursively) would not load with weights_only."""
    kind = type(value)
    if kind in (torch.Tensor, nn.Parameter) or kind in _PLAIN_LEAVES:
        return
    if kind in (dict, OrderedDict, Counter):
        for key, item in value.items():
            _check_plain(key, f"{where} key {key!r}")
            _check_plain(item, f"{where}[{key!r}]")
        return
    if kind in _PLAIN_CONTAINERS:
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]")
        return
    hint = "convert it to plain Python values first"
    if isinstance(value, np.ndarray):
        hint = "use torch.from_numpy(x) or x.tolist()"
    elif isinstance(value, np.generic):
        hint = "use x.item()"
    elif isinstance(value, os.PathLike):
        hint = "use str(path)"
    elif hasattr(value, "__dataclass_fields__"):
        hint = "use dataclasses.asdict(cfg)"
    elif isinstance(value, torch.Tensor):
        hint = "store a plain tensor, e.g. x.as_subclass(torch.Tensor)"
    raise TypeError(
        f"{where} is a {kind.__module__}.{kind.__qualname__}, which a weights_only load refuses; "
        f"{hint}. Checkpoints hold only tensors, dict/list/tuple and str/int/float/bool/None."
    )


def save_checkpoint(path: str | os.PathLike, state: Mapping[str, Any]) -> Path:
    """Write ``state`` to ``path`` atomically and return the path.

    The dict is written to a temp file in the same folder, flushed and fsynced, then renamed over
    ``path`` with ``os.replace``: a crash mid-write leaves the previous file intact and no temp file
    behind. Parent folders are created. Every value must load with ``weights_only=True`` (see the
    module docstring); otherwise a TypeError names the key before anything is written.
    """
    path = Path(path)
    if not isinstance(state, Mapping):
        raise TypeError(
            f"save_checkpoint({str(path)!r}) expects a dict of state, got {type(state).__name__}."
        )
    _check_plain(dict(state), "state")
    model_state = state.get("model")
    if isinstance(model_state, Mapping):
        bad = nonfinite_keys(model_state)
        if bad:
            raise NonFiniteError(
                f"refusing to save {path}: {len(bad)} of {len(model_state)} model tensors hold NaN or infinity "
                f"({_short_list(bad, 4)}); the run diverged"
            )
    tmp_name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            torch.save(dict(state), f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_name, 0o666 & ~current_umask())  # mkstemp makes 0600; a checkpoint gets the user's umask
        os.replace(tmp_name, path)
    except OSError as err:
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)
        raise _save_error(path, err) from err
    except RuntimeError as err:  # torch's writer turns a failed write into "[enforce fail ...] unexpected pos"
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)
        if "unexpected pos" in str(err):
            raise CheckpointSaveError(errno.EIO, f"could not save the checkpoint {path}: a write failed part-way "
                                      "(usually a full disk); free some space or pick another --out-dir. Any "
                                      "previous file at that path is unchanged.") from err
        raise
    except BaseException:
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    return path


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """Load a checkpoint dict with ``torch.load(weights_only=True)``.

    Raises:
        FileNotFoundError: no file at ``path`` (the message names it and, for a folder, points to
            :func:`latest_checkpoint`).
        CheckpointError: the file is not a torch checkpoint, is truncated, holds objects other than
            tensors and plain values, or is not a dict.
    """
    path = Path(path)
    if path.is_dir():
        raise FileNotFoundError(
            f"{path} is a folder, not a checkpoint file; use pacekit.training.checkpoint.latest_checkpoint("
            f"{str(path)!r}) to pick the newest epoch_*.pt / last.pt in it."
        )
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; check the path (or the run folder's name).")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises UnpicklingError, RuntimeError, EOFError, ... by case
        raise CheckpointError(_explain_load_error(path, err)) from None
    if not isinstance(state, dict):
        raise CheckpointError(
            f"{path} holds a {type(state).__name__}, not a checkpoint dict; pacekit checkpoints are "
            "written by pacekit.training.checkpoint.save_checkpoint (or torch.save(model.state_dict(), path))."
        )
    return state


def _explain_load_error(path: Path, err: Exception) -> str:
    text = str(err)
    unsafe = re.search(r"GLOBAL ([\w.]+)", text)
    if unsafe:
        return (
            f"{path} holds Python objects other than tensors and plain values (it needs "
            f"{unsafe.group(1)}), so pacekit refuses to load it: loading would run code from the file. "
            "If you trust the file, open it with torch.load(path, weights_only=False), convert the "
            "state to plain values and save it again with pacekit.training.checkpoint.save_checkpoint."
        )
    detail = re.search(r"WeightsUnpickler error:\s*(.+)", text)
    if detail:
        reason = detail.group(1).strip()
    else:
        reason = text.strip().splitlines()[0] if text.strip() else "no message"
    return (
        f"{path} is not a readable torch checkpoint ({type(err).__name__}: {reason}); it may be "
        "truncated or another kind of file. Re-create it, or pick another file with latest_checkpoint()."
    )


def run_checkpoints(folder: str | os.PathLike) -> list[Path]:
    """A run folder's ``last.pt`` and ``epoch_*.pt``, newest first; ``[]`` if none.

    Newest means the latest modification time; on a tie ``last.pt`` wins, then the higher epoch
    number (``epoch_10.pt`` beats ``epoch_9.pt``). Temp files of an interrupted save are ignored.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    candidates = []
    for p in folder.iterdir():
        match = re.fullmatch(r"epoch_(\d+)\.pt", p.name)
        if p.is_file() and (match or p.name == "last.pt"):
            epoch = int(match.group(1)) if match else -1
            candidates.append((p.stat().st_mtime_ns, p.name == "last.pt", epoch, p))
    return [c[3] for c in sorted(candidates, reverse=True)]


def latest_checkpoint(folder: str | os.PathLike) -> Path | None:
    """The newest checkpoint of a run folder (see :func:`run_checkpoints`), for ``--resume``; None if none."""
    found = run_checkpoints(folder)
    return found[0] if found else None


# --------------------------------------------------------------------------------------------
# Random number generator state
# --------------------------------------------------------------------------------------------


def capture_rng_state() -> dict[str, Any]:
    """The state of Python's ``random``, numpy's global RNG, torch CPU and (if present) CUDA.

    Everything is stored as tensors and plain values so the result can go into a checkpoint
    (``state["rng"]``) and load with ``weights_only=True``.
    """
    version, internal, gauss_next = random.getstate()
    kind, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    state: dict[str, Any] = {
        "python": {
            "version": version,
            "state": torch.tensor(internal, dtype=torch.int64),  # (625,)
            "gauss_next": gauss_next,
        },
        "numpy": {
            "kind": str(kind),
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: Mapping[str, Any]) -> None:
    """Restore the generators saved by :func:`capture_rng_state`.

    A CUDA state is restored when CUDA is available (for as many devices as both sides have);
    on a machine without CUDA it is skipped with a warning.
    """
    missing = {"python", "numpy", "torch"} - set(state)
    if missing:
        raise KeyError(f"RNG state lacks {sorted(missing)}; it should come from capture_rng_state().")
    py = state["python"]
    random.setstate((int(py["version"]), tuple(int(x) for x in py["state"].tolist()), py["gauss_next"]))
    npy = state["numpy"]
    np.random.set_state(
        (npy["kind"], npy["keys"].numpy().astype(np.uint32), int(npy["pos"]), int(npy["has_gauss"]),
         float(npy["cached_gaussian"]))
    )
    torch.set_rng_state(state["torch"].cpu())
    cuda_states = state.get("cuda")
    if cuda_states:
        if not torch.cuda.is_available():
            warnings.warn("the checkpoint holds CUDA RNG states but CUDA is unavailable; skipped them.")
            return
        count = min(len(cuda_states), torch.cuda.device_count())
        for device in range(count):
            torch.cuda.set_rng_state(cuda_states[device].cpu(), device)


# --------------------------------------------------------------------------------------------
# Backbone transfer (pretraining -> fine-tuning)
# --------------------------------------------------------------------------------------------

_WRAPPER_PREFIXES = ("module.", "_orig_mod.")  # DDP / DataParallel, torch.compile


@dataclass
class TransferReport:
    """What :func:`load_backbone_weights` did, key by key (keys as named in the model).

    Attributes:
        loaded: model keys that received the checkpoint's tensor.
        skipped: checkpoint key -> reason it was not copied (not backbone, unknown, shape mismatch).
        missing: backbone keys of the model that the checkpoint did not provide (left at init).
    """

    loaded: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        """Whether backbone keys were skipped (not in the model, wrong shape) or model weights left missing."""
        skipped = [r for r in self.skipped.values() if not r.startswith("not under")]
        return bool(skipped) or any(not k.endswith("num_batches_tracked") for k in self.missing)

    def __str__(self) -> str:
        lines = [
            f"loaded {len(self.loaded)} backbone tensors, skipped {len(self.skipped)}, "
            f"missing {len(self.missing)}"
        ]
        by_reason: dict[str, list[str]] = {}
        for key, reason in self.skipped.items():
            by_reason.setdefault(reason, []).append(key)
        for reason, keys in by_reason.items():
            lines.append(f"  skipped ({reason}): {_short_list(keys)}")
        if self.missing:
            lines.append(f"  missing (left at their initial values): {_short_list(self.missing)}")
        return "\n".join(lines)


def _short_list(keys: list[str], limit: int = 6) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f", ... (+{len(keys) - limit} more)" if len(keys) > limit else "")


def _strip_wrappers(key: str) -> str:
    stripped = True
    while stripped:
        stripped = False
        for wrapper in _WRAPPER_PREFIXES:
            if key.startswith(wrapper):
                key, stripped = key[len(wrapper):], True
    return key


def load_backbone_weights(
    model: nn.Module,
    checkpoint_or_state_dict: Mapping[str, Any] | str | os.PathLike,
    prefix: str = "backbone.",
    strict: bool = False,
    source_name: str = "the checkpoint",
) -> TransferReport:
    """Copy the backbone weights of a pretraining checkpoint into ``model`` and report each key.

    Args:
        model: the fine-tuning model, e.g. a ``ClipModel`` (parameters ``backbone.*``, ``head.*``),
            or a bare backbone (no ``backbone.`` in its names; ``prefix`` is then stripped).
        checkpoint_or_state_dict: a checkpoint dict (its ``"model"`` entry is used), a state dict,
            or a path to a checkpoint file.
        prefix: the checkpoint keys to transfer. ``module.`` (DDP) and ``_orig_mod.``
            (torch.compile) in front of keys are removed first.

    Only keys under ``prefix`` are copied; head / projector weights, keys the model lacks and
    tensors whose shape differs are skipped with a reason. Parameters and buffers (BatchNorm
    statistics) are both transferred; the model's other weights keep their values.

        strict: refuse a partial transfer: a backbone key of the checkpoint that does not fit the model
            (unknown, shape mismatch) or a backbone weight of the model the checkpoint lacks
            (BatchNorm's ``num_batches_tracked`` counters excepted) raises :class:`TransferError`
            with the report. Fine-tuning passes ``strict=True`` unless ``--allow-partial-load``.
        source_name: how messages name the checkpoint (its path).

    Raises:
        TransferError: nothing could be transferred (usually the wrong ``prefix``; the message shows
            the first checkpoint keys), or ``strict`` and the transfer is partial.
        NonFiniteError: the checkpoint's backbone tensors hold NaN or infinity.
    """
    source = checkpoint_or_state_dict
    if isinstance(source, (str, os.PathLike)):
        source_name = str(source)
        source = load_checkpoint(source)
    if "model" in source and isinstance(source["model"], Mapping):
        source = source["model"]
    source = {_strip_wrappers(k): v for k, v in source.items()}

    target = model.state_dict()
    model_has_prefix = any(k.startswith(prefix) for k in target)
    report = TransferReport()
    to_load: dict[str, torch.Tensor] = {}
    for key, tensor in source.items():
        if not key.startswith(prefix):
            report.skipped[key] = f"not under {prefix!r}"
            continue
        name = key if model_has_prefix else key[len(prefix):]
        if name not in target:
            report.skipped[key] = "not in the model"
        elif not isinstance(tensor, torch.Tensor):
            report.skipped[key] = f"not a tensor ({type(tensor).__name__})"
        elif tensor.shape != target[name].shape:
            report.skipped[key] = (
                f"shape {tuple(tensor.shape)} in checkpoint vs {tuple(target[name].shape)} in model"
            )
        else:
            to_load[name] = tensor
    if not to_load:
        raise TransferError(
            f"no backbone weight could be transferred from {source_name} with prefix {prefix!r}; its keys "
            f"start {_short_list(list(source), 4)}. Pass the prefix its backbone keys use."
        )
    require_finite(to_load, f"the backbone of {source_name}")
    report.loaded = list(to_load)
    backbone_keys = [k for k in target if k.startswith(prefix)] if model_has_prefix else list(target)
    report.missing = [k for k in backbone_keys if k not in to_load]
    if strict and report.partial:
        raise TransferError(
            f"only part of the backbone could be transferred from {source_name}: {report}\n"
            "the checkpoint and this model's backbone disagree (another backbone, width or version?); pass "
            "--allow-partial-load (allow_partial_load=True) to fine-tune from the part that fits anyway"
        )
    model.load_state_dict(to_load, strict=False)
    return report
