"""The paper's recipes as functions that write a run folder: pace pretraining and fine-tuning
(:mod:`.train`) and the linear probe on a frozen backbone (:mod:`.linear_probe`), each ending with its
evaluation.

Layer: may use everything below it (core, data, models, config, training, evaluation).
"""
