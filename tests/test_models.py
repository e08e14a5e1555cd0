"""Backbones, registry, layers and ClipModel: parameter counts against the paper, stage shapes, the interface."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest
import torch
from torch import nn

import pacekit.models as models
from pacekit.evaluation.attention import fig5_stage
from pacekit.models import (
    ClipModel,
    build_backbone,
    build_model,
    list_backbones,
    register_backbone,
    registry,
    stage_shapes,
)
from pacekit.models.heads import build_projector
from pacekit.models.layers import (
    FullConv3d,
    ResBlock,
    SamePadMaxPool3d,
    SpatioTemporalConv,
    STConv3d,
    r21d_mid_channels,
)

ALL = ["c3d", "r21d", "r3d", "r3d_18", "s3d_g", "tiny", "tiny-fine"]


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def small(name: str) -> nn.Module:
    """Every backbone at a width that runs in milliseconds on CPU, in eval mode."""
    return build_backbone(name, width=1.0 if name.startswith("tiny") else 0.125).eval()


# -- parameter counts (Table 3) --------------------------------------------------------------------

# name: (exact count without fc, extra fc the paper's figure includes (in, out) or None, Table 3's figure or
# None where Table 3 has none for the network)
PARAMS = {
    "c3d": (27_661_440, None, 27.7e6),
    # The authors' code's R3D, one block per stage. Sec. 3.3 says R3D-18; Table 3 has no figure for it.
    "r3d": (14_361_792, None, None),
    "r21d": (14_365_303, None, 14.4e6),
    "r3d_18": (33_166_272, (512, 400), 33.6e6),  # Table 3's R3D-18; torchvision's count with its K-400 fc
    "s3d_g": (9_125_072, (1024, 512), 9.6e6),  # with the authors' default 512-d fc
}


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_parameter_count_matches_paper_table_3(name):
    exact, fc, paper = PARAMS[name]
    count = n_params(build_backbone(name))
    assert count == exact
    if fc is not None:
        count += fc[0] * fc[1] + fc[1]
    if paper is None:
        return
    assert abs(count - paper) / paper < 0.01, f"{name}: {count:,} vs paper {paper:,.0f}"


def test_parameter_counts_with_a_pace_head_still_round_to_the_paper():
    # the authors' checkpoints carry a 4-way pace fc: 512*4 + 4 = 2,052 parameters. r3d's 14.4M is no
    # Table 3 figure (Table 3 lists R(2+1)D at 14.4M; the paper's R3D is R3D-18), only its rounded count.
    for name, paper in (("c3d", 27.7e6), ("r3d", 14.4e6), ("r21d", 14.4e6)):
        count = n_params(build_model(name, num_classes=4))
        assert count == PARAMS[name][0] + 2_052
        assert round(count / 1e5) / 10 == paper / 1e6


def test_s3d_g_gates_hold_1_2m_parameters():
    gated = build_backbone("s3d_g", width=0.125)
    plain = build_backbone("s3d_g", width=0.125, gating=False)
    gate_params = sum(p.numel() for k, p in gated.named_parameters() if "gating" in k)
    assert n_params(gated) - n_params(plain) == gate_params
    full = build_backbone("s3d_g")
    assert sum(p.numel() for k, p in full.named_parameters() if "gating" in k) == 1_225_008


# -- R(2+1)D factorisation ------------------------------------------------------------------------

def test_r21d_mid_channels_follow_the_formula():
    assert r21d_mid_channels(64, 64, 3) == 144  # 27*64*64 // (9*64 + 3*64)
    assert r21d_mid_channels(3, 64, (3, 7, 7)) == 83  # the stem
    assert r21d_mid_channels(64, 128, 1) == 42  # the 1x1x1 shortcut: 64*128 // 192
    assert r21d_mid_channels(512, 512, 3) == 1152


def test_r21d_factorised_conv_keeps_the_3d_conv_parameter_count():
    conv = SpatioTemporalConv(64, 64, 3, padding=1)
    weights = conv.spatial_conv.weight.numel() + conv.temporal_conv.weight.numel()
    assert weights == 64 * 64 * 27  # 144*64*9 + 64*144*3 = 110,592 exactly


def test_r21d_factorises_stem_blocks_and_shortcuts():
    state = build_backbone("r21d").state_dict()
    assert state["conv1.spatial_conv.weight"].shape == (83, 3, 1, 7, 7)
    assert state["conv1.temporal_conv.weight"].shape == (64, 83, 3, 1, 1)
    assert state["conv3.block1.downsampleconv.spatial_conv.weight"].shape == (42, 64, 1, 1, 1)
    assert state["conv3.block1.downsampleconv.temporal_conv.weight"].shape == (128, 42, 1, 1, 1)
    assert state["conv5.block1.conv2.spatial_conv.weight"].shape == (1152, 512, 1, 3, 3)
    assert not any(k.endswith(".bias") and "conv" in k.split(".")[-2] for k in state)  # convs: no bias


def test_r21d_strides_split_between_spatial_and_temporal_convs():
    block = build_backbone("r21d", width=0.125).conv3.block1
    assert block.conv1.spatial_conv.stride == (1, 2, 2)
    assert block.conv1.temporal_conv.stride == (2, 1, 1)
    assert block.downsampleconv.spatial_conv.stride == (1, 2, 2)
    assert block.downsampleconv.temporal_conv.stride == (2, 1, 1)


# -- forward, stages, pooled vectors --------------------------------------------------------------

X = (2, 3, 8, 32, 32)
RESNET_SHAPES = {"conv1": (2, 8, 8, 16, 16), "conv2": (2, 8, 8, 16, 16), "conv3": (2, 16, 4, 8, 8),
                 "conv4": (2, 32, 2, 4, 4), "conv5": (2, 64, 1, 2, 2), "p4": (2, 32), "p5": (2, 64)}
STAGE_SHAPES = {
    "r3d": RESNET_SHAPES,
    "r21d": RESNET_SHAPES,
    "r3d_18": RESNET_SHAPES,
    "c3d": {"conv1": (2, 8, 8, 32, 32), "conv2": (2, 16, 8, 16, 16), "conv3": (2, 32, 4, 8, 8),
            "conv4": (2, 64, 2, 4, 4), "conv5": (2, 64, 1, 2, 2), "p4": (2, 64), "p5": (2, 64)},
    "s3d_g": {"conv1": (2, 8, 4, 16, 16), "conv2": (2, 24, 4, 8, 8), "conv3": (2, 60, 4, 4, 4),
              "conv4": (2, 104, 2, 2, 2), "conv5": (2, 128, 1, 1, 1), "p4": (2, 104), "p5": (2, 128)},
    "tiny": {"conv1": (2, 8, 8, 8, 8), "conv2": (2, 8, 8, 8, 8), "conv3": (2, 16, 4, 4, 4),
             "conv4": (2, 24, 2, 2, 2), "conv5": (2, 32, 1, 1, 1), "p4": (2, 24), "p5": (2, 32)},
    # tiny's maps with conv4 and conv5 keeping conv3's height and width
    "tiny-fine": {"conv1": (2, 8, 8, 8, 8), "conv2": (2, 8, 8, 8, 8), "conv3": (2, 16, 4, 4, 4),
                  "conv4": (2, 24, 2, 4, 4), "conv5": (2, 32, 1, 4, 4), "p4": (2, 24), "p5": (2, 32)},
}


@pytest.mark.parametrize("name", ALL)
def test_forward_stages_shapes_and_pooled_vectors(name):
    torch.manual_seed(0)
    model, x = small(name), torch.randn(X)
    with torch.no_grad():
        stages = model.forward_stages(x)
        embedding = model(x)
    assert {k: tuple(v.shape) for k, v in stages.items()} == STAGE_SHAPES[name]
    assert model.embed_dim == stages["p5"].shape[1]
    torch.testing.assert_close(embedding, stages["p5"])
    torch.testing.assert_close(stages["p4"], stages["conv4"].mean(dim=(2, 3, 4)))
    torch.testing.assert_close(stages["p5"], stages["conv5"].mean(dim=(2, 3, 4)))


@pytest.mark.parametrize("name", ALL)
def test_stage_shapes_are_those_of_one_clip_and_leave_the_mode_alone(name):
    expected = {stage: (1, *shape[1:]) for stage, shape in STAGE_SHAPES[name].items()}  # batch of one
    model = small(name).train()
    assert stage_shapes(model, X[1:]) == expected and model.training
    wrapped = build_model(name, 4, width=1.0 if name == "tiny" else 0.125).eval()  # a ClipModel: its backbone is probed, eval mode kept
    assert stage_shapes(wrapped, X[1:])["conv5"][-3:] == expected["conv5"][-3:] and not wrapped.training


def test_full_size_stage_shapes_at_16x112x112():
    model = build_backbone("r21d", width=0.125).eval()  # width does not change T, H, W
    with torch.no_grad():
        stages = model.forward_stages(torch.randn(1, 3, 16, 112, 112))
    assert [tuple(stages[f"conv{i}"].shape[2:]) for i in range(1, 6)] == [
        (16, 56, 56), (16, 56, 56), (8, 28, 28), (4, 14, 14), (2, 7, 7)]


@pytest.mark.parametrize("name", ALL)
def test_stage_module_output_is_the_stage_map(name):
    torch.manual_seed(0)
    model, x = small(name), torch.randn(X)
    seen = {}
    for stage in ("conv1", "conv2", "conv3", "conv4", "conv5"):
        module = model.stage_module(stage)
        module.register_forward_hook(lambda m, i, o, stage=stage: seen.setdefault(stage, o))
    with torch.no_grad():
        stages = model.forward_stages(x)
    for stage, out in seen.items():
        torch.testing.assert_close(out, stages[stage], msg=f"{name}.{stage}")
    assert len(seen) == 5


def test_stage_module_rejects_unknown_names():
    with pytest.raises(KeyError, match="conv1, conv2, conv3, conv4, conv5"):
        small("r3d").stage_module("p5")


@pytest.mark.parametrize("name", ALL)
def test_no_relu_is_in_place(name):
    relus = [m for m in small(name).modules() if isinstance(m, nn.ReLU)]
    assert relus and not any(m.inplace for m in relus)


@pytest.mark.parametrize("name", ["r21d", "c3d", "s3d_g", "r3d_18"])
def test_channels_last_3d_gives_the_same_embedding(name):
    torch.manual_seed(0)
    model, x = small(name), torch.randn(X)
    with torch.no_grad():
        expected = model(x)
        model = model.to(memory_format=torch.channels_last_3d)
        got = model(x.contiguous(memory_format=torch.channels_last_3d))
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)


def test_gradcam_runs_on_a_stage_module():
    from captum.attr import LayerGradCam

    torch.manual_seed(0)
    model = build_model("tiny", num_classes=4).eval()
    x = torch.randn(2, 3, 8, 32, 32)
    cam = LayerGradCam(model, model.backbone.stage_module("conv4")).attribute(x, target=1)
    assert cam.shape == (2, 1, 2, 2, 2)
    assert torch.isfinite(cam).all() and cam.abs().sum() > 0


# -- widths, registry ----------------------------------------------------------------------------

@pytest.mark.parametrize("name,width,embed", [
    ("c3d", 0.25, 128), ("r3d", 0.25, 128), ("r21d", 0.25, 128), ("r3d_18", 0.25, 128),
    ("s3d_g", 0.25, 256), ("tiny", 0.5, 16), ("r3d", 1.5, 768),
])
def test_width_scales_channels(name, width, embed):
    model = build_backbone(name, width=width)
    assert model.embed_dim == embed
    with torch.no_grad():
        assert model.eval()(torch.randn(1, 3, 8, 32, 32)).shape == (1, embed)


def test_width_quarters_the_parameters_at_half_width():
    full, half = n_params(build_backbone("r3d")), n_params(build_backbone("r3d", width=0.5))
    assert 0.24 < half / full < 0.26  # conv weights scale with width squared


@pytest.mark.parametrize("width", [0, -1.0])
def test_width_must_be_positive(width):
    with pytest.raises(ValueError, match="width must be a positive multiplier"):
        build_backbone("r3d", width=width)


def test_unknown_backbone_lists_the_names():
    with pytest.raises(ValueError,
                       match=r"unknown backbone 'r50'; choose one of: c3d, r21d, r3d, r3d_18, s3d_g, tiny, tiny-fine"):
        build_backbone("r50")
    assert list_backbones() == ALL


@pytest.fixture
def scratch_registry(monkeypatch):
    """The registry's own table, copied, so that a test's registrations vanish after it."""
    monkeypatch.setattr(registry, "_BACKBONES", dict(registry._BACKBONES))


def test_a_user_registered_backbone_builds_by_name(scratch_registry):
    @register_backbone("tiny_wide")
    def tiny_wide(width=1.0):
        return build_backbone("tiny", width=2 * width)

    assert build_backbone("tiny_wide").embed_dim == 64
    assert build_backbone("tiny_wide", width=0.5).embed_dim == 32
    assert build_model("tiny_wide", num_classes=4).head.weight.shape == (4, 64)
    assert "tiny_wide" in list_backbones()
    with pytest.raises(ValueError, match="unknown backbone 'r50'; choose one of: .*tiny, tiny-fine, tiny_wide"):
        build_backbone("r50")
    with pytest.raises(ValueError, match="already registered"):
        register_backbone("r3d")(tiny_wide)


# which built-in backbones each module registers
BUILTIN_MODULES = {"c3d": ["c3d"], "r3d": ["r3d", "r3d_18"], "r21d": ["r21d"], "s3d_g": ["s3d_g"],
                   "tiny": ["tiny", "tiny-fine"]}


def test_the_builtin_modules_register_every_builtin_name():
    assert sorted(name for names in BUILTIN_MODULES.values() for name in names) == ALL == list_backbones()


@pytest.mark.parametrize("module_name", sorted(BUILTIN_MODULES))
def test_a_builtin_backbone_registers_itself_with_register_backbone(monkeypatch, module_name):
    # Run a fresh copy of the module against an empty registry: only its own decorators can fill it,
    # so no table elsewhere is needed (or allowed: a second registration of a name would raise).
    monkeypatch.setattr(registry, "_BACKBONES", {})
    path = Path(models.__file__).with_name(f"{module_name}.py")
    spec = importlib.util.spec_from_file_location(f"pacekit.models._fresh_{module_name}", path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    assert list_backbones() == BUILTIN_MODULES[module_name]
    for name in BUILTIN_MODULES[module_name]:
        assert isinstance(build_backbone(name, width=0.125).embed_dim, int)


# -- layers -----------------------------------------------------------------------------------------

def _pacekit_imports(path: Path) -> set[str]:
    """The pacekit modules a file imports at its top level, as written (``.layers``, ``.registry``, ...)."""
    tree = ast.parse(path.read_text())
    return {"." * node.level + (node.module or "") for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.level > 0}


def test_layers_and_registry_import_no_backbone():
    folder = Path(models.__file__).parent
    assert _pacekit_imports(folder / "layers.py") == set()
    assert _pacekit_imports(folder / "registry.py") == set()


@pytest.mark.parametrize("module_name", sorted(BUILTIN_MODULES))
def test_backbones_take_shared_blocks_from_layers(module_name):
    imports = _pacekit_imports(Path(models.__file__).with_name(f"{module_name}.py"))
    assert {".layers", ".registry"} <= imports
    # R(2+1)D and tiny are the R3D network with other convs or widths: they build on r3d's ResNet3d.
    assert imports <= {".layers", ".registry", ".r3d"}
    if module_name in ("c3d", "s3d_g"):
        assert ".r3d" not in imports


def test_res_block_downsamples_with_a_projection_shortcut():
    block = ResBlock(8, 16, FullConv3d, downsample=True)
    assert block(torch.randn(1, 8, 4, 8, 8)).shape == (1, 16, 2, 4, 4)
    assert block.downsampleconv.temporal_spatial_conv.weight.shape == (16, 8, 1, 1, 1)
    with pytest.raises(ValueError, match="keeps its width"):
        ResBlock(8, 16, FullConv3d, downsample=False)


def test_st_conv_splits_a_3d_kernel_only_when_separable():
    full, separable = STConv3d(4, 8, 3, padding=1), STConv3d(4, 8, 3, padding=1, separable=True)
    assert full.conv1.weight.shape == (8, 4, 3, 3, 3) and not hasattr(full, "conv2")
    assert separable.conv1.weight.shape == (8, 4, 1, 3, 3) and separable.conv2.weight.shape == (8, 8, 3, 1, 1)
    assert not STConv3d(4, 8, 1, separable=True).separable  # a 1x1x1 kernel has nothing to split
    x = torch.randn(1, 4, 4, 6, 6)
    assert full(x).shape == separable(x).shape == (1, 8, 4, 6, 6)


def test_same_pad_max_pool_gives_ceil_divided_sizes():
    pool = SamePadMaxPool3d((3, 3, 3), (2, 2, 2))
    assert pool(torch.rand(1, 1, 5, 7, 8)).shape == (1, 1, 3, 4, 4)


def test_layer_sizes_add_blocks():
    model = build_backbone("r3d", width=0.125, layer_sizes=(2, 1, 1, 3))
    assert len(model.conv2.blocks) == 1 and len(model.conv5.blocks) == 2


def test_tiny_is_tiny_and_takes_16x112x112():
    model = build_backbone("tiny").eval()
    assert 1_000 < n_params(model) < 100_000
    with torch.no_grad():
        assert model(torch.randn(2, 3, 16, 112, 112)).shape == (2, 32)


def test_tiny_fine_is_tiny_with_conv5_at_fig5s_7x7_on_the_quickstarts_crops():
    # the same parameters drawn in the same order: one seed gives tiny-fine exactly tiny's weights
    torch.manual_seed(3)
    tiny = build_backbone("tiny").eval()
    torch.manual_seed(3)
    fine = build_backbone("tiny-fine").eval()
    a, b = tiny.state_dict(), fine.state_dict()
    assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)
    x = torch.randn(2, 3, 8, 56, 56)
    with torch.no_grad():
        coarse, fine_maps = tiny.forward_stages(x), fine.forward_stages(x)
    assert torch.equal(coarse["conv3"], fine_maps["conv3"])          # the first three stages are tiny's own
    assert coarse["conv5"].shape[-2:] == (2, 2) and fine_maps["conv5"].shape == (2, 32, 1, 7, 7)
    assert fig5_stage(tiny, (3, 8, 56, 56)) == "conv3" and fig5_stage(fine, (3, 8, 56, 56)) == "conv5"


def test_r3d_18_is_torchvisions_network():
    from torchvision.models.video import r3d_18

    torch.manual_seed(0)
    reference = r3d_18(weights=None).eval()
    ours = build_backbone("r3d_18").eval()
    state = {k: v for k, v in reference.state_dict().items() if not k.startswith("fc.")}
    ours.load_state_dict(state)  # strict: same names and shapes
    reference.fc = nn.Identity()
    x = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x))


# -- ClipModel ------------------------------------------------------------------------------------

def test_clip_model_outputs():
    torch.manual_seed(0)
    model = build_model("tiny", num_classes=4, projection="linear", proj_dim=16).eval()
    x = torch.randn(3, 3, 8, 32, 32)
    logits, embedding, z = model(x, return_all=True)
    assert logits.shape == (3, 4) and embedding.shape == (3, 32) and z.shape == (3, 16)
    with torch.no_grad():
        torch.testing.assert_close(model(x), model.head(model.backbone(x)))
        torch.testing.assert_close(z, model.projector(embedding))


def test_clip_model_without_projector_returns_none_for_z():
    logits, embedding, z = build_model("tiny", num_classes=5)(torch.randn(2, 3, 8, 32, 32), return_all=True)
    assert z is None and logits.shape == (2, 5) and embedding.shape == (2, 32)


@pytest.mark.parametrize("projection,prefixes", [
    (None, {"backbone", "head"}), ("linear", {"backbone", "head", "projector"}),
    ("mlp", {"backbone", "head", "projector"}),
])
def test_clip_model_parameter_prefixes(projection, prefixes):
    model = build_model("tiny", num_classes=4, projection=projection)
    assert {k.split(".")[0] for k in model.state_dict()} == prefixes


def test_projector_sizes_and_the_plus_fc_cost():
    linear, mlp = build_projector("linear", 512, 128), build_projector("mlp", 512, 128)
    assert n_params(linear) == 512 * 128 + 128
    assert n_params(mlp) - n_params(linear) == 262_656  # 512*512 + 512: the "+ fc" of Table 2
    assert [type(m) for m in mlp] == [nn.Linear, nn.ReLU, nn.Linear]
    assert build_projector(None, 512) is None
    with pytest.raises(ValueError, match="use None, 'linear' or 'mlp'"):
        build_projector("cosine", 512)


def test_dropout_acts_on_the_head_only_in_training():
    torch.manual_seed(0)
    model = build_model("tiny", num_classes=4, dropout=0.5, projection="linear")
    x = torch.randn(2, 3, 8, 32, 32)
    model.eval()
    with torch.no_grad():
        clean = model(x, return_all=True)
        model.train()
        model.backbone.eval()  # freeze BN so only dropout can differ
        noisy = model(x, return_all=True)
    torch.testing.assert_close(noisy[1], clean[1])  # embedding
    torch.testing.assert_close(noisy[2], clean[2])  # z: dropout does not touch the projector
    assert not torch.allclose(noisy[0], clean[0])


def test_build_model_forwards_width_and_backbone_keywords():
    model = build_model("r3d", num_classes=101, width=0.25, layer_sizes=(2, 1, 1, 1))
    assert model.head.weight.shape == (101, 128)
    assert len(model.backbone.conv2.blocks) == 1


def test_clip_model_needs_an_embed_dim():
    with pytest.raises(TypeError, match="embed_dim"):
        ClipModel(nn.Conv3d(3, 8, 3), num_classes=4)


def test_parameter_figures_are_cited_as_table_3_gives_them():
    """Table 3: R(2+1)D 14.4M, R3D-18 33.6M, no figure for the paper's own R3D (Sec. 3.3: R3D-18); r3d is
    the authors' code's one-block network, 14.36M."""
    import pacekit.models as models
    import pacekit.models.r3d as r3d

    assert "14.4M (R(2+1)D)" in models.__doc__ and "/ 33.6M" in models.__doc__
    assert "R3D-18" in r3d.__doc__ and "14.4M" not in r3d.__doc__.splitlines()[0]
    assert "33.6M" in r3d.R3D18.__doc__ and '"33.4M" quoted' not in r3d.R3D18.__doc__
    assert PARAMS["r3d_18"][2] == 33.6e6 and PARAMS["r3d"][2] is None


def test_evaluating_gives_the_module_back_in_the_mode_it_was_in_however_the_block_ends():
    from torch import nn

    from pacekit.models.modes import evaluating

    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
    for training in (True, False):
        net.train(training)
        with pytest.raises(RuntimeError):
            with evaluating(net):
                assert not net.training and not net[1].training
                raise RuntimeError("a failed batch")
        assert net.training is training and net[1].training is training
