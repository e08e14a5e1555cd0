"""Loading checkpoints in the authors' key layout (laura-wang/video-pace) into pacekit's ClipModel.

The expected layouts are generated here from a short description of the authors' networks (module
names, channels, kernel sizes), independently of pacekit's model code.
"""

from __future__ import annotations

import warnings

import pytest
import torch

from pacekit.models import build_model
from pacekit.models.authors import (
    convert_authors_state_dict,
    detect_arch,
    load_authors_checkpoint,
    to_authors_state_dict,
)

BN = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def bn_shapes(prefix: str, channels: int) -> dict[str, tuple]:
    return {f"{prefix}.{p}": (() if p == "num_batches_tracked" else (channels,)) for p in BN}


def conv_shapes(kind: str, prefix: str, cin: int, cout: int, k: tuple, stem_mid: int | None = None) -> dict:
    """One conv of the authors' R3D (a wrapped Conv3d) or R(2+1)D (spatial conv, BN, temporal conv)."""
    t, h, w = k
    if kind == "r3d":
        return {f"{prefix}.temporal_spatial_conv.weight": (cout, cin, t, h, w)}
    mid = stem_mid or (t * h * w * cin * cout) // (h * w * cin + t * cout)
    return {f"{prefix}.spatial_conv.weight": (mid, cin, 1, h, w), **bn_shapes(f"{prefix}.bn", mid),
            f"{prefix}.temporal_conv.weight": (cout, mid, t, 1, 1)}


def resnet_layout(kind: str, classes: int = 4, layer_sizes=(1, 1, 1, 1), stem_mid=None) -> dict[str, tuple]:
    shapes = {**conv_shapes(kind, "conv1", 3, 64, (3, 7, 7), stem_mid), **bn_shapes("bn1", 64)}
    stages = (("conv2", 64, 64, False), ("conv3", 64, 128, True), ("conv4", 128, 256, True),
              ("conv5", 256, 512, True))
    for (stage, cin, cout, down), n_blocks in zip(stages, layer_sizes):
        names = ["block1"] + [f"blocks.{i}" for i in range(n_blocks - 1)]
        for i, block in enumerate(names):
            p, block_in = f"{stage}.{block}", cin if i == 0 else cout
            shapes |= conv_shapes(kind, f"{p}.conv1", block_in, cout, (3, 3, 3)) | bn_shapes(f"{p}.bn1", cout)
            shapes |= conv_shapes(kind, f"{p}.conv2", cout, cout, (3, 3, 3)) | bn_shapes(f"{p}.bn2", cout)
            if down and i == 0:
                shapes |= conv_shapes(kind, f"{p}.downsampleconv", cin, cout, (1, 1, 1))
                shapes |= bn_shapes(f"{p}.downsamplebn", cout)
    return shapes | {"linear.weight": (classes, 512), "linear.bias": (classes,)}


def c3d_layout(classes: int = 4) -> dict[str, tuple]:
    shapes = {}
    for name, cin, cout in (("1", 3, 64), ("2", 64, 128), ("3a", 128, 256), ("3b", 256, 256),
                            ("4a", 256, 512), ("4b", 512, 512), ("5a", 512, 512), ("5b", 512, 512)):
        shapes |= {f"conv{name}.weight": (cout, cin, 3, 3, 3), f"conv{name}.bias": (cout,)}
        shapes |= bn_shapes(f"bn{name}", cout)
    return shapes | {"linear.weight": (classes, 512), "linear.bias": (classes,)}


LAYOUTS = {"r3d": lambda: resnet_layout("r3d"), "r21d": lambda: resnet_layout("r21d"), "c3d": c3d_layout}


def filled_state(layout: dict[str, tuple]) -> dict[str, torch.Tensor]:
    """A state dict in ``layout`` whose tensors each hold their own constant (cheap, and tells keys apart)."""
    state = {}
    for i, (key, shape) in enumerate(layout.items()):
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(1000 + i)
        else:
            state[key] = torch.full(shape, 0.5 + 1e-3 * i)  # > 0, so valid as a running_var too
    return state


def authors_file(state: dict[str, torch.Tensor]) -> dict:
    """What their train.py saves: DataParallel keys, epoch, optimizer state."""
    params = [torch.nn.Parameter(torch.zeros(2))]
    optimizer = torch.optim.SGD(params, lr=1e-3, momentum=0.9)
    params[0].grad = torch.ones(2)
    optimizer.step()
    return {"epoch": 17, "state_dict": {f"module.{k}": v for k, v in state.items()},
            "opt_dict": optimizer.state_dict()}


@pytest.mark.parametrize("arch", sorted(LAYOUTS))
def test_pacekit_models_have_exactly_the_authors_keys_and_shapes(arch):
    exported = to_authors_state_dict(build_model(arch, num_classes=4), arch)
    assert {k: tuple(v.shape) for k, v in exported.items()} == LAYOUTS[arch]()


@pytest.mark.parametrize("arch", sorted(LAYOUTS))
def test_every_authors_tensor_lands_in_its_place(arch):
    state = filled_state(LAYOUTS[arch]())
    model, report = convert_authors_state_dict(authors_file(state))
    assert report.arch == arch
    assert not report.unexpected and not report.missing and not report.skipped
    assert len(report.mapped) == len(state)
    loaded = model.state_dict()
    for key, value in state.items():
        target = "head." + key[len("linear."):] if key.startswith("linear.") else "backbone." + key
        assert report.mapped[key] == target
        assert torch.equal(loaded[target], value), key


def _perturb_bn_stats(model: torch.nn.Module) -> None:
    """Non-trivial running statistics, so eval-mode outputs depend on them being carried over."""
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm3d):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)


@pytest.mark.parametrize("arch,width,via_file", [
    ("r21d", 1.0, True), ("r3d", 0.25, False), ("c3d", 0.25, False), ("s3d_g", 0.25, False),
])
def test_round_trip_through_the_authors_layout_keeps_the_outputs(arch, width, via_file, tmp_path):
    # the paper's R(2+1)D at full size through a file; the others narrower (extra builder keywords
    # such as width reach build_backbone), to keep the test fast
    torch.manual_seed(0)
    original = build_model(arch, num_classes=4, width=width).eval()
    _perturb_bn_stats(original)
    checkpoint = authors_file(to_authors_state_dict(original, arch))
    if via_file:
        torch.save(checkpoint, tmp_path / "epoch-18.pth.tar")
        checkpoint = tmp_path / "epoch-18.pth.tar"

    loaded = load_authors_checkpoint(checkpoint, width=width)
    assert not loaded.training
    x = torch.randn(1, 3, 8, 32, 32)
    with torch.no_grad():
        expected, got = original(x), loaded(x)
        fresh = build_model(arch, num_classes=4, width=width).eval()(x)
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    assert not torch.allclose(fresh, expected)  # the comparison can fail


def test_detect_arch_and_unknown_layouts():
    assert detect_arch(dict.fromkeys(LAYOUTS["r21d"]())) == "r21d"
    assert detect_arch(dict.fromkeys(LAYOUTS["r3d"]())) == "r3d"
    assert detect_arch(dict.fromkeys(LAYOUTS["c3d"]())) == "c3d"
    from torchvision.models.video import r2plus1d_18

    with pytest.raises(ValueError, match=r"conv1.spatial_conv.weight \(r21d\)"):
        convert_authors_state_dict(r2plus1d_18().state_dict())
    with pytest.raises(ValueError, match="pacekit ClipModel state dict"):
        convert_authors_state_dict(build_model("tiny", 4).state_dict())


def test_wrong_arch_names_the_right_one():
    state = filled_state(LAYOUTS["r3d"]())
    with pytest.raises(ValueError, match="arch='r21d' but the state dict has the layout of 'r3d'"):
        convert_authors_state_dict(state, "r21d")
    with pytest.raises(ValueError, match="choose one of: r21d, r3d, c3d, s3d_g"):
        convert_authors_state_dict(state, "i3d")


def test_shape_mismatch_names_the_key():
    state = filled_state(LAYOUTS["r3d"]())
    state["conv4.block1.bn2.weight"] = torch.ones(255)
    with pytest.raises(ValueError, match=r"conv4.block1.bn2.weight: checkpoint \(255,\), model \(256,\)"):
        convert_authors_state_dict(state)


def test_strict_refuses_extra_keys_and_lenient_reports_them():
    state = filled_state(LAYOUTS["c3d"]())
    state["contrastive_fc.weight"] = torch.zeros(8, 512)
    with pytest.raises(ValueError, match="(?s)1 unexpected: contrastive_fc.weight.*strict=False"):
        convert_authors_state_dict(state)
    model, report = convert_authors_state_dict(state, strict=False)
    assert report.unexpected == ["contrastive_fc.weight"] and len(report.mapped) == len(state) - 1
    with pytest.warns(UserWarning, match="contrastive_fc.weight"):
        load_authors_checkpoint(state, "c3d", strict=False)


def test_missing_weights_are_refused_but_missing_bn_counters_are_not():
    state = filled_state(LAYOUTS["r21d"]())
    without_counters = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    _, report = convert_authors_state_dict(without_counters)
    assert report.missing and all(k.endswith("num_batches_tracked") for k in report.missing)
    del state["conv5.block1.bn2.running_var"]
    with pytest.raises(ValueError, match=r"1 missing: backbone.conv5.block1.bn2.running_var"):
        convert_authors_state_dict(state)


def test_r21d_variants_are_read_off_the_checkpoint():
    # a 45-channel stem (as in some R(2+1)D code) and two blocks per stage
    state = filled_state(resnet_layout("r21d", classes=101, layer_sizes=(2, 2, 2, 2), stem_mid=45))
    model, report = convert_authors_state_dict(state)
    assert not report.unexpected and not report.missing_weights
    assert model.backbone.conv1.spatial_conv.out_channels == 45
    assert all(len(getattr(model.backbone, f"conv{i}").blocks) == 1 for i in range(2, 6))
    assert model.num_classes == 101


def test_num_classes_override_keeps_a_fresh_head():
    state = filled_state(LAYOUTS["r3d"]())
    model, report = convert_authors_state_dict(state, num_classes=101)
    assert model.head.weight.shape == (101, 512)
    assert set(report.skipped) == {"linear.weight", "linear.bias"}
    assert torch.equal(model.backbone.conv5.block1.bn2.weight, state["conv5.block1.bn2.weight"])
    backbone_only = {k: v for k, v in state.items() if not k.startswith("linear.")}
    with pytest.raises(ValueError, match="no 'linear.weight' to size the head; pass num_classes="):
        convert_authors_state_dict(backbone_only)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = load_authors_checkpoint(backbone_only, num_classes=51)
    assert model.head.out_features == 51


def test_load_errors_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="epoch-99.pth"):
        load_authors_checkpoint(tmp_path / "epoch-99.pth")
    junk = tmp_path / "notes.pth"
    junk.write_text("not a checkpoint")
    with pytest.raises(ValueError, match="notes.pth"):
        load_authors_checkpoint(junk)
