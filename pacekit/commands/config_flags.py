"""One ``--flag`` per :class:`pacekit.config.Config` field, for the commands that take a configuration.

Each flag's help is the field's help with its preset value and, where the paper states one, the paper's
value; a bad value fails while the flags are parsed, naming its flag.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from typing import Any

from ..config import PRESETS, Config, ConfigError, config_field, get_config


def _parser_for(hint: Any, name: str):
    """A string -> value function for one field's type (Optional, bool, int, float, str, tuple)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union and type(None) in args:
        inner = _parser_for(next(a for a in args if a is not type(None)), name)

        def optional(text: str):
            return None if text.strip().lower() in ("none", "null", "") else inner(text)

        optional.__name__ = getattr(inner, "__name__", "value") + " or none"
        return optional
    if hint is bool:
        return _parse_bool
    if hint in (int, float, str):
        return hint
    if hint is tuple or origin is tuple:
        return _parse_int_tuple
    raise TypeError(f"config field {name} has a type the CLI cannot parse: {hint}")


def _parse_int_tuple(text: str) -> tuple:
    try:
        return tuple(int(v) for v in text.replace("x", ",").split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers like 128,171 (or 128x171), got {text!r}") from None


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _as_flag_value(value: Any) -> str:
    """``value`` as a user types it after its flag: ``none``, ``true``, ``128,171``, ``0.001``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def field_help(name: str, preset: str = "paper") -> str:
    """``--help`` text of field ``name``: its help, ``preset``'s value and, where the paper states one, the
    paper's value, e.g. ``"frames per clip (default: 16; paper: 16)"``."""
    f = config_field(name)
    facts = f"default: {_as_flag_value(getattr(get_config(preset), name))}"
    if "paper" in f.metadata:
        facts += f"; paper: {_as_flag_value(f.metadata['paper'])}"
    return f"{f.metadata['help']} ({facts})"


def add_config_arguments(parser: argparse.ArgumentParser, exclude: tuple[str, ...] = (),
                         default_preset: str = "paper") -> None:
    """Add ``--preset`` and one ``--field-name`` flag per :class:`Config` field to ``parser``.

    Flags left out keep the preset's value. Booleans are ``--flag`` / ``--no-flag``; optional fields take
    ``none``; ``--frame-size`` takes ``128,171``. ``exclude`` leaves fields out (a command that fixes them).
    Each flag's help is :func:`field_help` of ``default_preset``.
    """
    parser.add_argument("--preset", default=default_preset, choices=list(PRESETS),
                        help=f"starting configuration; flags override its fields (default: {default_preset})")
    hints = typing.get_type_hints(Config)
    group = parser.add_argument_group("configuration (pacekit.config.Config fields)")
    for f in dataclasses.fields(Config):
        if f.name in exclude:
            continue
        flag = "--" + f.name.replace("_", "-")
        help_text = field_help(f.name, default_preset).replace("%", "%%")  # argparse formats % itself
        if hints[f.name] is bool:
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction,
                               default=argparse.SUPPRESS, help=help_text)
        else:
            group.add_argument(flag, dest=f.name, type=_parser_for(hints[f.name], f.name),
                               default=argparse.SUPPRESS, metavar=f.name.upper(), help=help_text)


def config_from_args(args: argparse.Namespace, **forced: Any) -> Config:
    """The :class:`Config` of parsed CLI flags: the ``--preset``, then the flags given, then ``forced``.

    It validates every field before a command builds anything; an invalid value is a :class:`ConfigError`
    that names its ``--flag`` (``--seed -1: expected an integer >= 0``) where the flag was given."""
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(Config) if hasattr(args, f.name)}
    if "name" in given and given["name"].strip() in ("", ".", ".."):
        # the run folder <out_dir>/<name> would be --out-dir itself (or its parent), among other runs' folders
        raise ConfigError(f"--name {given['name']!r}: expected a run folder name such as 'pace' (the run is written "
                          "to <out-dir>/<name>)", field="name")
    try:
        return get_config(getattr(args, "preset", "paper"), **{**given, **forced})
    except ConfigError as exc:
        if exc.field is None or exc.field not in given:
            raise
        flag = "--" + exc.field.replace("_", "-")
        raise ConfigError(f"{flag} {_as_flag_value(given[exc.field])}: expected {exc.expected}", field=exc.field,
                          expected=exc.expected) from None


__all__ = ["add_config_arguments", "config_from_args", "field_help"]
