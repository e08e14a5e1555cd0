"""Scoring a trained network: action recognition on whole test videos (:mod:`.recognition`), nearest-neighbour
retrieval (:mod:`.retrieval`), and where it looks (:mod:`.attention`).

Layer: may use the core modules, :mod:`pacekit.data`, :mod:`pacekit.models`, :mod:`pacekit.config` and
:mod:`pacekit.training`; nothing here trains a network.
"""
