"""The ``pacekit`` sub-commands: argument parsing and printing, over the library's functions.

Each module here offers ``add_commands(subparsers)`` for :mod:`pacekit.cli` and turns parsed arguments
into calls of the library (:mod:`pacekit.recipes.train`, :mod:`pacekit.evaluation.recognition`, ...), which itself neither
prints nor parses argv. Flags that several commands share are defined once, in :mod:`.flags`.
"""
