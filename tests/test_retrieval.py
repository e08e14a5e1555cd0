"""Retrieval (paper 4.4): chunked cosine kNN, top-k hits on planted features, features, the command."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from helpers import BROKEN_TEST, BROKEN_TRAIN

from pacekit.evaluation.retrieval import (
    TOPK,
    clip_features,
    cosine_knn,
    describe_feature,
    format_table,
    retrieve,
    topk_hits,
)


def brute_force_knn(q, g, k):
    sim = torch.nn.functional.normalize(q, dim=1) @ torch.nn.functional.normalize(g, dim=1).T
    s, i = torch.sort(sim, dim=1, descending=True, stable=True)
    return s[:, :k], i[:, :k]


def test_cosine_knn_finds_planted_neighbours():
    # Gallery: the axes e0..e3 at different lengths; cosine ignores the length.
    gallery = torch.tensor([[5.0, 0, 0, 0], [0, 0.1, 0, 0], [0, 0, 3, 0], [0, 0, 0, 7]])
    queries = torch.tensor([[0, 2.0, 0.1, 0], [0.1, 0, 0, -1.0], [1.0, 0, 1.0, 0]])
    sims, idx = cosine_knn(queries, gallery, k=2)
    assert idx[0].tolist() == [1, 2]
    assert idx[1, 0].item() == 0  # e3 has negative similarity, e0 slightly positive
    assert sims[1, 0].item() == pytest.approx(0.1 / np.sqrt(1.01), abs=1e-6)
    # Query 2 is equally close to e0 and e2: the tie goes to the lower gallery index.
    assert idx[2].tolist() == [0, 2]
    assert sims[2].tolist() == pytest.approx([np.sqrt(0.5)] * 2, abs=1e-6)


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 64])
def test_cosine_knn_chunked_equals_brute_force(chunk_size):
    gen = torch.Generator().manual_seed(0)
    q, g = torch.randn(23, 8, generator=gen), torch.randn(41, 8, generator=gen)
    sims, idx = cosine_knn(q, g, k=10, chunk_size=chunk_size)
    ref_s, ref_i = brute_force_knn(q, g, 10)
    assert torch.equal(idx, ref_i)
    assert torch.allclose(sims, ref_s, atol=1e-6)


def test_cosine_knn_ties_across_chunks_keep_gallery_order():
    # Every gallery row is the same vector: all similarities tie, so neighbours are 0, 1, 2, ...
    g = torch.ones(10, 3)
    _, idx = cosine_knn(torch.ones(2, 3), g, k=6, chunk_size=4)
    assert idx.tolist() == [[0, 1, 2, 3, 4, 5]] * 2


def test_cosine_knn_never_allocates_a_full_similarity_matrix(monkeypatch):
    seen = []
    real_matmul = torch.Tensor.__matmul__

    def spy(a, b):
        out = real_matmul(a, b)
        seen.append(tuple(out.shape))
        return out

    monkeypatch.setattr(torch.Tensor, "__matmul__", spy)
    cosine_knn(torch.randn(50, 4), torch.randn(90, 4), k=5, chunk_size=16)
    assert seen and max(r * c for r, c in seen) <= 16 * 16


def test_cosine_knn_rejects_bad_k_and_shapes():
    with pytest.raises(ValueError, match="gallery size 3"):
        cosine_knn(torch.randn(2, 4), torch.randn(3, 4), k=4)
    with pytest.raises(ValueError, match="same D"):
        cosine_knn(torch.randn(2, 4), torch.randn(3, 5), k=1)


def test_topk_hits_counts_any_match_within_k():
    neighbours = torch.tensor([[0, 1, 2, 3], [5, 5, 1, 5], [7, 7, 7, 7]])
    labels = torch.tensor([0, 1, 3])
    # query 0 hit at rank 1, query 1 at rank 3, query 2 never.
    assert topk_hits(neighbours, labels, ks=(1, 2, 3, 4)) == {
        1: pytest.approx(1 / 3), 2: pytest.approx(1 / 3), 3: pytest.approx(2 / 3), 4: pytest.approx(2 / 3)}


def test_retrieve_on_planted_clusters_gives_known_accuracy():
    # Class c lives along axis c. Test videos 0-2 sit on their class axis (top-1 hit); test video 3 is
    # labelled 0 but lies on axis 2, where train videos of class 2 come first, then class 0 ones.
    train = torch.tensor([[1.0, 0, 0], [1.0, 0, 0.2], [0, 1.0, 0], [0, 1.0, 0.1], [0, 0, 1.0], [0.3, 0, 1.0]])
    train_labels = torch.tensor([0, 0, 1, 1, 2, 2])
    test = torch.tensor([[2.0, 0, 0], [0, 3.0, 0], [0, 0, 4.0], [0, 0, 1.0]])
    test_labels = torch.tensor([0, 1, 2, 0])
    result = retrieve(test, test_labels, train, train_labels, ks=(1, 2, 3, 5, 50), chunk_size=2, layer="p5")
    # Query 3 ranks: 4 (class 2, sim 1), 5 (class 2, sim .96), 1 (class 0, sim .2): hit from k = 3.
    assert result.topk == {1: 0.75, 2: 0.75, 3: 1.0, 5: 1.0}
    assert result.skipped_k == [50]
    assert result.neighbours[3, :4].tolist() == [4, 5, 1, 3]
    assert (result.num_queries, result.num_gallery) == (4, 6)
    table = format_table([result], ks=(1, 2, 3, 5, 50))
    assert "p5" in table and "75.0" in table and "100.0" in table and "n/a" in table
    assert "6 gallery videos" in table


class PooledOnly(torch.nn.Module):
    """A stand-in backbone whose p5 is the clip's mean colour and p4 its mean brightness over time."""

    def forward_stages(self, x):  # (B, C, T, H, W)
        return {"p5": x.mean(dim=(2, 3, 4)), "p4": x.mean(dim=(1, 3, 4)), "conv5": x}


def test_clip_features_average_over_clips():
    clips = torch.zeros(2, 3, 3, 4, 2, 2)  # (B, n, C, T, H, W)
    clips[0, 0, 0] = 3.0  # video 0, clip 0 is red; its other clips are black
    clips[1, :, 2] = 1.0  # video 1 is blue in every clip
    feats = clip_features(PooledOnly(), clips, layers=("p5", "p4"))
    assert torch.allclose(feats["p5"], torch.tensor([[1.0, 0, 0], [0, 0, 1.0]]))
    assert feats["p4"].shape == (2, 4)
    with pytest.raises(KeyError, match="conv5"):
        clip_features(PooledOnly(), clips, layers=("conv5",))


def test_topk_constant_matches_the_paper():
    assert TOPK == (1, 5, 10, 20, 50)


# ---------------------------------------------------------------------------------------------
# End to end on the tiny synthetic set (conftest's `flow`, built once a session)
# ---------------------------------------------------------------------------------------------


def test_run_retrieval_uses_every_video_and_matches_brute_force(flow, caplog):
    from pacekit.evaluation.retrieval import extract_features, run_retrieval
    from pacekit.training.loading import eval_split, load_model

    loaded = load_model(flow["pre"])
    gallery = eval_split(loaded, "synthetic", flow["root"], "train")
    queries = eval_split(loaded, "synthetic", flow["root"], "test")
    with caplog.at_level("INFO", logger="pacekit.evaluation"):
        results = run_retrieval(loaded.model, queries, gallery, ("p5", "p4"), transform=loaded.transform(),
                                batch_size=7, chunk_size=5)
    printed = caplog.text
    assert "gallery (train): 12 of 12 videos used" in printed and "queries (test): 12 of 12 videos used" in printed
    assert set(results) == {"p5", "p4"}
    feats_q = extract_features(loaded.model, queries, ("p5", "p4"), transform=loaded.transform(), batch_size=5)
    feats_g = extract_features(loaded.model, gallery, ("p5", "p4"), transform=loaded.transform(), batch_size=5)
    assert feats_q.features["p5"].shape == (12, 32) and feats_q.features["p4"].shape == (12, 24)
    for layer, r in results.items():
        assert sorted(r.topk) == [1, 5, 10] and r.skipped_k == [20, 50]  # 12 gallery videos
        values = [r.topk[k] for k in (1, 5, 10)]
        assert values == sorted(values) and all(0 <= v <= 1 for v in values)
        _, ref = brute_force_knn(feats_q.features[layer], feats_g.features[layer], 10)
        assert torch.equal(r.neighbours, ref)
        hits = (feats_g.labels[ref[:, :1]] == feats_q.labels[:, None]).any(1).float().mean().item()
        assert r.topk[1] == pytest.approx(hits)


def test_retrieve_command_prints_counts_and_writes_table_and_figure(flow, tmp_path, capsys):
    import json

    from pacekit.cli import main

    out = tmp_path / "retrieval"
    rc = main(["retrieve", "--checkpoint", str(flow["pre"]), "--dataset", "synthetic", "--root", str(flow["root"]),
               "--feature", "p5", "p4", "--out", str(out), "--device", "cpu", "--num-workers", "0"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "12 test videos query 12 train videos" in printed
    assert f"p5: {describe_feature('p5')}" in printed and f"p4: {describe_feature('p4')}" in printed
    assert saved_features(out) == {"p5": describe_feature("p5"), "p4": describe_feature("p4")}
    saved = json.loads((out / "retrieval.json").read_text())
    assert saved["num_queries"] == 12 and saved["num_gallery"] == 12
    assert set(saved["topk"]) == {"p5", "p4"} and set(saved["topk"]["p5"]) == {"1", "5", "10"}
    assert saved["table"] in printed and "n/a" in saved["table"]
    assert (out / "examples.png").stat().st_size > 0


def test_retrieval_figure_shows_queries_and_top3(flow):
    from pacekit.evaluation.retrieval import plot_retrieval_examples
    from pacekit.training.loading import eval_split, load_model

    loaded = load_model(flow["pre"])
    gallery = eval_split(loaded, "synthetic", flow["root"], "train", num_clips=2)
    queries = eval_split(loaded, "synthetic", flow["root"], "test", num_clips=2)
    # Planted neighbours: query 0 -> gallery 0, 1, 11; query 1 -> gallery 5, 6, 7.
    from pacekit.evaluation.retrieval import RetrievalResult

    result = RetrievalResult("p5", {1: 0.5}, torch.tensor([[0, 1, 11], [5, 6, 7]]),
                             torch.tensor([[0.9, 0.8, 0.7], [0.6, 0.5, 0.4]]), 2, 12)
    fig = plot_retrieval_examples(result, queries, gallery, queries=[0, 1], num_frames=3, frame_size=(32, 40))
    axes = np.array(fig.axes).reshape(2, 4)
    assert axes[0, 0].get_title().startswith("query: ")
    assert axes[0, 1].get_title().startswith("#1 ") and "(0.90)" in axes[0, 1].get_title()
    assert axes[0, 0].images[0].get_array().shape == (32, 120, 3)  # 3 frames side by side
    same = gallery.records[11].label == queries.records[0].label
    assert axes[0, 3].title.get_color() == ("tab:green" if same else "tab:red")


# ---------------------------------------------------------------------------------------------
# Unreadable videos are left out of both sides and named, never replaced by other videos
# ---------------------------------------------------------------------------------------------


def broken_splits(root):
    from pacekit.data import build_dataset

    kwargs = dict(mode="eval", clip_len=4, num_clips=2, frame_size=(32, 48))
    return build_dataset("ucf101", root, "test", **kwargs), build_dataset("ucf101", root, "train", **kwargs)


def test_retrieval_leaves_unreadable_videos_out_of_queries_and_gallery(broken_ucf_root, caplog):
    from pacekit.data import ClipEval
    from pacekit.evaluation.retrieval import extract_features, plot_retrieval_examples, run_retrieval

    queries, gallery = broken_splits(broken_ucf_root)
    transform = ClipEval(size=None, crop=32)
    feats = extract_features(PooledOnly(), gallery, ("p5", "p4"), transform=transform, batch_size=4)
    assert feats.indices.tolist() == [0, 1, 2, 3, 5] and feats.labels.tolist() == [0, 0, 1, 1, 2]
    assert (feats.num_evaluated, feats.num_listed) == (5, 6) and [v.name for v in feats.left_out] == [BROKEN_TRAIN]
    assert feats.features["p5"].shape == (5, 3)
    with caplog.at_level("INFO", logger="pacekit.evaluation"):
        results = run_retrieval(PooledOnly(), queries, gallery, ("p5", "p4"), ks=(1, 5), transform=transform,
                                batch_size=4)
    printed = caplog.text
    assert f"gallery (train): 5 of 6 videos used (1 left out: 1 undecodable ({BROKEN_TRAIN}))" in printed
    assert f"queries (test): 5 of 6 videos used (1 left out: 1 undecodable ({BROKEN_TEST}))" in printed
    r = results["p5"]
    assert r.query_indices.tolist() == [0, 1, 3, 4, 5] and r.gallery_indices.tolist() == [0, 1, 2, 3, 5]
    assert (r.num_queries, r.num_gallery, r.queries_listed, r.gallery_listed) == (5, 5, 6, 6)
    assert (r.num_evaluated, r.num_listed) == (10, 12)
    assert [v.name for v in r.left_out] == [BROKEN_TEST, BROKEN_TRAIN]
    assert all(reason.startswith("undecodable: ") for _, reason in r.left_out)
    assert r.neighbours.shape == (5, 5) and sorted(r.neighbours[0].tolist()) == [0, 1, 2, 3, 4]  # rows, not records
    # The figure maps rows to records: query row 3 is test record 4 (a Basketball video).
    fig = plot_retrieval_examples(r, queries, gallery, queries=[3], num_neighbours=1, num_frames=2, frame_size=(16, 24))
    assert fig.axes[0].get_title() == "query: Basketball"
    neighbour = gallery.records[r.gallery_record(int(r.neighbours[3, 0]))]
    assert fig.axes[1].get_title().startswith(f"#1 {gallery.classes[neighbour.label]} ")


def test_retrieval_with_an_unreadable_gallery_is_an_error(tmp_path):
    from pacekit.data import VideoDataset, VideoRecord
    from pacekit.evaluation.recognition import NoUsableVideosError
    from pacekit.evaluation.retrieval import extract_features

    (tmp_path / "a.avi").write_bytes(b"garbage" * 50)
    gallery = VideoDataset([VideoRecord(tmp_path / "a.avi", 0, "a.avi")], ["x"], mode="eval", clip_len=4,
                           num_clips=2, frame_size=(32, 48), missing=["b.mp4"])
    with pytest.raises(NoUsableVideosError, match=r"none of the 2 videos.*1 undecodable, 1 missing on disk"):
        extract_features(PooledOnly(), gallery, ("p5",), transform=torch.nn.Identity())


def test_retrieve_command_writes_the_left_out_videos_of_each_side(flow, broken_ucf_root, tmp_path, capsys):
    import json

    from pacekit.cli import main

    out = tmp_path / "retrieval"
    # A pretraining checkpoint retrieves on any dataset: its features need no class list.
    rc = main(["retrieve", "--checkpoint", str(flow["pre"]), "--dataset", "ucf101", "--root", str(broken_ucf_root),
               "--layers", "p5", "--num-clips", "2", "--out", str(out), "--device", "cpu", "--num-workers", "0"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert f"queries and gallery together: 2 left out: 2 undecodable; listed in {out / 'retrieval.json'}" in printed
    saved = json.loads((out / "retrieval.json").read_text())
    assert saved["num_queries"] == 5 and saved["num_gallery"] == 5
    assert saved["features"] == {"p5": describe_feature("p5")}
    assert (saved["queries"]["num_listed"], saved["queries"]["num_evaluated"]) == (6, 5)
    assert [v["name"] for v in saved["queries"]["left_out"]] == [BROKEN_TEST]
    assert [v["name"] for v in saved["gallery"]["left_out"]] == [BROKEN_TRAIN]


# ---------------------------------------------------------------------------------------------
# VCOP's feature: conv5 max-pooled over (1, 2, 2), flattened
# ---------------------------------------------------------------------------------------------


def test_vcop_feature_is_conv5_max_pooled_1_2_2_then_flattened_on_a_tiny_backbone():
    from pacekit.evaluation.retrieval import vcop_feature
    from pacekit.models import build_backbone

    torch.manual_seed(0)
    backbone = build_backbone("tiny").eval()
    clips = torch.randn(2, 3, 3, 8, 80, 112)  # (B, n clips, C, T, H, W)
    with torch.no_grad():
        conv5 = backbone.forward_stages(clips.flatten(0, 1))["conv5"]  # (B*n, C, T', H', W')
    n, c, t, h, w = conv5.shape
    assert (h, w) == (3, 4)  # H' odd: its last row falls outside every 2x2 cell
    # The definition written out: the max of each 2x2 spatial cell (kernel = stride = (1, 2, 2), no
    # padding), at every channel and time step, flattened in (C, T, H'', W'') order.
    expected = torch.empty(n, c, t, h // 2, w // 2)
    for i in range(h // 2):
        for j in range(w // 2):
            expected[..., i, j] = conv5[..., 2 * i:2 * i + 2, 2 * j:2 * j + 2].amax(dim=(-2, -1))
    expected = expected.reshape(n, c * t * (h // 2) * (w // 2))
    torch.testing.assert_close(vcop_feature(conv5), expected)
    feats = clip_features(backbone, clips, layers=("vcop", "p5"))
    assert feats["vcop"].shape == (2, c * t * 1 * 2) and feats["p5"].shape == (2, c)
    torch.testing.assert_close(feats["vcop"], expected.unflatten(0, (2, 3)).mean(1))


def test_vcop_feature_size_for_the_papers_clips():
    """9,216 = 512 x 2 x 3 x 3 for R(2+1)D at 16x112x112 (conv5 512 x 2 x 7 x 7); an odd row is dropped."""
    from pacekit.evaluation.retrieval import vcop_feature

    assert vcop_feature(torch.zeros(1, 512, 2, 7, 7)).shape == (1, 9216)
    assert vcop_feature(torch.zeros(1, 1024, 2, 4, 4)).shape == (1, 8192)  # S3D-G
    with pytest.raises(ValueError, match="1x1"):
        vcop_feature(torch.zeros(1, 8, 1, 1, 1))


def test_every_result_and_table_names_its_feature():
    from pacekit.evaluation.retrieval import FEATURE_DESCRIPTIONS, PAPER_FEATURES, RetrievalResult, run_retrieval

    assert PAPER_FEATURES == ("vcop", "p4")
    assert inspect_default(run_retrieval, "layers") == PAPER_FEATURES
    result = RetrievalResult("vcop", {1: 0.5}, torch.zeros(2, 1, dtype=torch.long), torch.zeros(2, 1), 2, 2)
    assert result.feature == FEATURE_DESCRIPTIONS["vcop"] and "max-pooled (1,2,2)" in result.feature
    table = format_table([result], ks=(1,))
    assert "vcop: VCOP's feature" in table


def inspect_default(fn, name):
    import inspect

    return inspect.signature(fn).parameters[name].default


def saved_features(out):
    import json

    return json.loads((out / "retrieval.json").read_text())["features"]


def test_retrieve_defaults_to_the_papers_features():
    from pacekit.cli import build_parser

    args = build_parser().parse_args(["retrieve", "--checkpoint", "c.pt", "--dataset", "synthetic", "--root", "r"])
    assert args.features == ["vcop", "p4"]


def test_unavailable_feature_says_when_vcop_cannot_pool_conv5():
    """The tiny network halves the crop five times: conv5 is 2x2 on 56-pixel crops, 1x1 on 32-pixel ones."""
    from pacekit.evaluation.retrieval import unavailable_feature
    from pacekit.models import build_backbone

    backbone = build_backbone("tiny")
    backbone.train()
    assert unavailable_feature(backbone, (3, 8, 56, 56), "vcop") is None
    reason = unavailable_feature(backbone, (3, 4, 32, 32), "vcop")
    assert "conv5 is 1x1 on 32x32 crops" in reason and backbone.training  # its mode restored
    assert unavailable_feature(backbone, (3, 4, 32, 32), "p5") is None
    assert unavailable_feature(backbone, (3, 4, 32, 32), "p4") is None
