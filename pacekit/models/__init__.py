"""Backbones by name: ``build_backbone('r21d')``, ``list_backbones()``, and the models built on them.

Every backbone takes a float clip batch (B, 3, T, H, W) and follows one interface:

- ``backbone(x)`` -> the pooled p5 embedding (B, ``backbone.embed_dim``);
- ``backbone.forward_stages(x)`` -> ``{'conv1': ..., 'conv5': (B, C, T', H', W'), 'p4': (B, C4), 'p5': (B, C5)}``,
  where p4 is the global average of the conv4 map (the paper's "second last pooling layer", Sec. 4.4)
  and p5 that of conv5;
- ``backbone.stage_module(name)`` -> the module whose output is stage ``name`` (for captum's LayerGradCam).

Every backbone takes ``width`` (a channel multiplier, e.g. 0.25). Names and sizes at width 1:

========  ======================================================  ==========================================
name      network                                                 params (no fc) / the paper's Table 3
========  ======================================================  ==========================================
c3d       C3D with BN (:mod:`.c3d`)                                27.66M / 27.7M (C3D)
r3d       3D-ResNet, one block per stage (:mod:`.r3d`)             14.36M / - (see below)
r21d      R(2+1)D, one block per stage (:mod:`.r21d`)              14.37M / 14.4M (R(2+1)D)
r3d_18    torchvision's R3D-18, two blocks per stage               33.17M; 33.37M with a 400-way fc / 33.6M
s3d_g     S3D-G, separable Inception with gating (:mod:`.s3d_g`)   9.13M / 9.6M with a 512-d fc
tiny      narrow R3D for CPU tests (:mod:`.tiny`)                  0.09M / -
========  ======================================================  ==========================================

``r3d`` is the R3D the authors' code trains: one basic block per stage, 14.36M parameters. The paper's
Sec. 3.3 names R3D-18 ("we use 3D-ResNet18"), two blocks per stage, which Table 3 lists at 33.6M for
other methods (RotNet3D, ST-puzzle); Table 3 gives no R3D figure of the paper's own. ``r3d_18`` is that
two-block network (torchvision's; 33.37M with its 400-way fc, 0.7% below Table 3's 33.6M).

Each backbone module registers its builders with :func:`register_backbone` (:mod:`.registry`), the
decorator a new backbone uses too; the blocks they share (convolutions, residual blocks, the stage
interface) are in :mod:`.layers`.
"""

from __future__ import annotations

# Importing a backbone module registers its builders (``@register_backbone`` beside each builder).
from . import c3d, r3d, r21d, s3d_g, tiny  # noqa: F401
from .heads import ClipModel, backbone_of, build_model, stage_shapes
from .registry import build_backbone, list_backbones, register_backbone

__all__ = ["build_backbone", "list_backbones", "register_backbone", "ClipModel", "backbone_of", "build_model",
           "stage_shapes"]
