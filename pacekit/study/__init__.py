"""Experiments over the recipes: one pretrain-then-transfer experiment (:mod:`.experiment`), the quickstart
(:mod:`.quickstart`), the claims ledger (:mod:`.claims`), runs side by side (:mod:`.parallel`) and the
figures they draw (:mod:`.plots`).

Layer: may use everything below it; never :mod:`pacekit.teaching` or :mod:`pacekit.commands`.
"""
