"""What the notebooks and the classroom use: the notebook set-up cell (:mod:`.notebook`), the shipped
weights (:mod:`.shipped`), the pace game (:mod:`.game`, :mod:`.widgets`, :mod:`.classroom`).

Layer: may use everything below it, :mod:`pacekit.study` included; never :mod:`pacekit.commands`.
"""
