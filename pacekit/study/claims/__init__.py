"""The paper's claims, shown: a small-scale study of each claim, with paired statistics and a stated verdict rule.

Each claim is data: a :class:`Claim` names the paper's section, quotes what the paper says, lists its
**arms** (config overrides of the ledger's base config, plus two reserved keys: ``"init"``, ``"pretrained"``
by default or ``"random"``; and ``"pretrain_speed_spread"``, which pretrains on a companion of the synthetic set
with the actions' speeds pulled together, :func:`pacekit.data.synthetic.ensure_companion`), the **metrics**
measured on every arm, and the **comparisons** that decide it.

:func:`run_ledger` (:mod:`.ledger`) runs every (claim, arm, seed) **cell** through :func:`pacekit.study.experiment.run_experiment`
with ``reuse=True``, so an interrupted ledger resumes where it stopped:

- a pretrained arm first pretrains (seed ``s``) with the arm's pretraining overrides, in
  ``<out>/pretrain/<key>_s<seed>``; arms whose pretraining configs are equal share it, across claims;
- it then transfers (linear probe / fine-tuning, seed ``s``) with the ledger's one transfer recipe, so
  two arms differ only in what the claim varies (``labels_per_class`` is the only transfer override);
- each cell's numbers are kept in ``<cell>/cell.json`` and read back on the next run, with the seconds
  the cell took (its pretraining's are in that pretraining's ``experiment.json``): the ledger sums them
  (:func:`recorded_compute`), so a ledger read back still says what its cells cost.

With ``jobs`` above 1 the cells and pretrainings run side by side in worker processes
(:mod:`pacekit.study.parallel`), the costliest first, each on ``cfg.threads`` torch threads; with ``threads`` set, a
cell's numbers are the same whatever ``jobs`` is (a test compares ``jobs=2`` with ``jobs=1``), but they
differ from those of runs on another number of threads (which sum in another order).

The seeds are fixed up front and written to ``<out>/seeds.json`` before any cell runs; a later run into the
same folder with other seeds is refused. Statistics are paired over seeds: for a comparison ``A vs B``
the differences ``d_s = A_s - B_s`` give a mean and a 95 % t-interval
``mean(d) +- t_{0.975, n-1} * sd(d) / sqrt(n)``. The verdict is computed by :func:`verdict` (rule in
:data:`VERDICT_RULE`), never written by hand.
"""

from .cells import cell_dir, pretrain_arm, pretrain_key, recorded_compute, run_cell
from .ledger import check_seeds, claim_rows, default_jobs, record_seeds, run_ledger, write_ledger
from .report import format_ledger, plot_claim
from .statistics import DEFAULT_MARGIN, VERDICT_RULE, VERDICTS, PairedStats, paired_ci, t_critical_975, verdict
from .table import (
    CLAIM_IDS,
    CLAIMS,
    LABEL_COUNTS,
    METRICS,
    MODEL_FIELDS,
    PAPER_BACKBONE_ARM,
    RETRIEVAL_FEATURES,
    TRANSFER_FIELDS,
    Claim,
    Comparison,
    comparison_label,
    get_claims,
)

__all__ = ["CLAIMS", "CLAIM_IDS", "Claim", "Comparison", "DEFAULT_MARGIN", "LABEL_COUNTS", "METRICS", "MODEL_FIELDS", "PAPER_BACKBONE_ARM", "PairedStats", "RETRIEVAL_FEATURES", "TRANSFER_FIELDS", "VERDICTS", "VERDICT_RULE", "cell_dir", "check_seeds", "claim_rows", "comparison_label", "default_jobs", "format_ledger", "get_claims", "paired_ci", "plot_claim", "pretrain_arm", "pretrain_key", "record_seeds", "recorded_compute", "run_cell", "run_ledger", "t_critical_975", "verdict", "write_ledger"]
