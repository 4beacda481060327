"""lossbook.perceptual, lossbook.data.images, lossbook.plot.images and the chapter's graders.

References are written here from the published definitions: Johnson, Alahi & Fei-Fei (2016)
for the Gram matrix, feature and style losses; kornia's ``total_variation`` for TV; torch's
``mse_loss`` where the feature loss coincides with it.
"""

import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import lossbook
from lossbook import perceptual
from lossbook.data import images
from lossbook.grading.perceptual import grade_gram_matrix, grade_total_variation
from lossbook.perceptual import (
    FeatureExtractor,
    feature_reconstruction_loss,
    gram_matrix,
    style_loss,
    total_variation,
)
from lossbook.plot import images as plot_images
from tests.reference import assert_matches, generator, randn


# ------------------------------------------------------------------ references (from the papers)
def gram_reference(phi, normalize=True):
    c, h, w = phi.shape[-3:]
    g = torch.einsum("...chw,...dhw->...cd", phi, phi)
    return g / (c * h * w) if normalize else g


def tv_reference(img, reduction="sum"):
    # kornia: |x[i+1, j] - x[i, j]| and |x[i, j+1] - x[i, j]|, summed or averaged per direction.
    dy = torch.diff(img, dim=-2).abs().flatten(-2)
    dx = torch.diff(img, dim=-1).abs().flatten(-2)
    op = torch.mean if reduction == "mean" else torch.sum
    return op(dy, dim=-1) + op(dx, dim=-1)


# ------------------------------------------------------------------ gram_matrix
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (6, 2, 3), (1, 1, 1, 1)])
@pytest.mark.parametrize("normalize", [True, False])
def test_gram_matrix_matches_the_definition(device, dtype, shape, normalize):
    x = randn(*shape, device=device, dtype=dtype)
    assert_matches(gram_matrix, gram_reference, x, normalize=normalize)


def test_gram_matrix_is_c_by_c_symmetric_and_psd(device):
    g = gram_matrix(randn(3, 5, 4, 7, device=device))
    assert g.shape == (3, 5, 5)  # C x C (seed erratum 7: not "Ci x Cj")
    torch.testing.assert_close(g, g.transpose(-1, -2))
    assert bool((torch.linalg.eigvalsh(g) > -1e-12).all())


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), h=st.integers(1, 5), w=st.integers(1, 5))
def test_gram_matrix_ignores_where_features_are(seed, h, w):
    x = randn(2, 3, h, w, seed=seed)
    perm = torch.randperm(h * w, generator=generator(seed))
    shuffled = x.flatten(-2)[..., perm].reshape(x.shape)
    torch.testing.assert_close(gram_matrix(shuffled), gram_matrix(x))


def test_gram_matrix_rejects_bad_features():
    with pytest.raises(ValueError, match="^features: expected feature maps"):
        gram_matrix(torch.ones(3, 4))
    with pytest.raises(TypeError, match="^features"):
        gram_matrix(torch.ones(1, 2, 3, 4, dtype=torch.long))


# ------------------------------------------------------------------ feature reconstruction
def test_feature_loss_mean_is_torch_mse(device, dtype):
    a, b = randn(3, 4, 5, 6, device=device, dtype=dtype), randn(3, 4, 5, 6, seed=1,
                                                                device=device, dtype=dtype)
    assert_matches(feature_reconstruction_loss, F.mse_loss, a, b)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_feature_loss_reductions(device, dtype, reduction):
    def reference(x, y, reduction):
        c, h, w = x.shape[-3:]
        per_sample = ((x - y).flatten(1).norm(dim=1) ** 2) / (c * h * w)  # ‖·‖² / CHW
        return {"none": per_sample, "sum": per_sample.sum(),
                "mean": per_sample.mean()}[reduction]

    a, b = randn(3, 2, 4, 4, device=device, dtype=dtype), randn(3, 2, 4, 4, seed=1,
                                                                device=device, dtype=dtype)
    assert_matches(feature_reconstruction_loss, reference, a, b, reduction=reduction)


def test_feature_loss_unbatched_and_errors():
    a = randn(2, 3, 3)
    assert feature_reconstruction_loss(a, a + 1, reduction="none").shape == ()
    assert feature_reconstruction_loss(a, a + 1).item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="^target"):
        feature_reconstruction_loss(a, randn(2, 3, 4))
    with pytest.raises(ValueError, match="^reduction"):
        feature_reconstruction_loss(a, a, reduction="max")


# ------------------------------------------------------------------ style loss
def style_reference(x, y, weights):
    return sum(w * ((gram_reference(x[k]) - gram_reference(y[k])) ** 2).sum(dim=(-2, -1))
               for k, w in weights.items())


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_style_loss_matches_the_definition(device, dtype, reduction):
    x = {"a": randn(2, 3, 4, 4, device=device, dtype=dtype),
         "b": randn(2, 5, 2, 2, seed=1, device=device, dtype=dtype)}
    y = {"a": randn(2, 3, 4, 4, seed=2, device=device, dtype=dtype),
         "b": randn(2, 5, 2, 2, seed=3, device=device, dtype=dtype)}
    weights = {"a": 0.5, "b": 2.0}
    ours = style_loss(x, y, weights=weights, reduction=reduction)
    expected = style_reference(x, y, weights)
    expected = {"none": expected, "sum": expected.sum(), "mean": expected.mean()}[reduction]
    torch.testing.assert_close(ours, expected)
    grad_x = torch.autograd.grad(style_loss({k: v.requires_grad_() for k, v in x.items()}, y,
                                            weights=weights, reduction="sum"), x["a"])[0]
    grad_r = torch.autograd.grad(style_reference(x, y, weights).sum(), x["a"])[0]
    torch.testing.assert_close(grad_x, grad_r)


def test_style_loss_target_of_another_size_and_batch_one():
    x = {"a": randn(3, 4, 5, 5)}
    y = {"a": randn(1, 4, 9, 7, seed=1)}
    expected = style_reference(x, {"a": y["a"].expand(3, -1, -1, -1)}, {"a": 1.0})
    torch.testing.assert_close(style_loss(x, y, reduction="none"), expected)
    assert style_loss(x, x).item() == 0.0


def test_style_loss_rejects_bad_input():
    x = {"a": randn(1, 2, 3, 3)}
    with pytest.raises(TypeError, match="^input: expected a mapping"):
        style_loss(x["a"], x)
    with pytest.raises(ValueError, match="^input: no feature maps for layer 'b'"):
        style_loss(x, x, weights={"b": 1.0})
    with pytest.raises(ValueError, match="^target: no feature maps for layer 'a'"):
        style_loss(x, {"b": x["a"]})
    with pytest.raises(ValueError, match=r"^target\['a'\]: expected 2 channels"):
        style_loss(x, {"a": randn(1, 3, 3, 3)})
    with pytest.raises(ValueError, match="^weights"):
        style_loss(x, x, weights={})


# ------------------------------------------------------------------ total variation
def test_total_variation_on_known_images():
    assert total_variation(torch.ones(3, 5, 5)).tolist() == [0.0, 0.0, 0.0]
    ramp = torch.arange(16.0).reshape(4, 4)
    assert total_variation(ramp).item() == 60.0  # 12 vertical steps of 4 + 12 of 1
    assert total_variation(ramp, reduction="mean").item() == 5.0


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_total_variation_matches_kornias_definition(device, dtype, reduction):
    img = randn(2, 3, 5, 7, device=device, dtype=dtype)
    assert_matches(total_variation, tv_reference, img, reduction=reduction)


def test_total_variation_rejects_bad_input():
    with pytest.raises(ValueError, match="^img"):
        total_variation(torch.ones(4))
    with pytest.raises(TypeError, match="^img"):
        total_variation(torch.ones(4, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="^reduction"):
        total_variation(torch.ones(4, 4), reduction="none")


# ------------------------------------------------------------------ FeatureExtractor
def test_feature_extractor_shapes_names_and_determinism(device):
    net = FeatureExtractor().to(device)
    x = torch.rand(2, 3, 16, 16, generator=generator(0)).to(device)
    features = net(x)
    assert list(features) == ["relu1_1", "relu2_1", "relu3_1", "relu4_1"]
    assert [tuple(f.shape) for f in features.values()] == [
        (2, 16, 16, 16), (2, 32, 8, 8), (2, 64, 4, 4), (2, 128, 2, 2)]
    assert not any(p.requires_grad for p in net.parameters())
    again = FeatureExtractor().to(device)(x)
    torch.testing.assert_close(again["relu4_1"], features["relu4_1"])
    assert list(net(x, ["pool1", "conv1_1"])) == ["pool1", "conv1_1"]


def test_feature_extractor_gradient_reaches_the_image():
    x = torch.rand(1, 3, 8, 8, generator=generator(0), requires_grad=True)
    FeatureExtractor(pool="avg")(x)["relu3_1"].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_feature_extractor_rejects_bad_input():
    net = FeatureExtractor()
    with pytest.raises(ValueError, match="^images: expected shape"):
        net(torch.rand(3, 8, 8))
    with pytest.raises(ValueError, match="^layers: unknown layer 'relu9_9'"):
        net(torch.rand(1, 3, 8, 8), ["relu9_9"])
    with pytest.raises(ValueError, match="^pool"):
        FeatureExtractor(pool="median")
    with pytest.raises(ValueError, match="^blocks"):
        FeatureExtractor(())


def test_from_vgg_copies_the_weights_of_a_vgg_stack():
    torch.manual_seed(0)
    stack = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(6, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    net = FeatureExtractor.from_vgg(stack)
    assert net.default_layers == ["relu1_1", "relu2_2"]
    x = torch.rand(1, 3, 8, 8, generator=generator(1))
    standardised = (x - net.mean) / net.std
    torch.testing.assert_close(net(x, ["pool2"])["pool2"], stack(standardised))
    with pytest.raises(ValueError, match="^features"):
        FeatureExtractor.from_vgg(nn.Sequential(nn.Conv2d(3, 4, 3)))


def test_vgg16_without_torchvision_raises_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)
    monkeypatch.setitem(sys.modules, "torchvision.models", None)
    with pytest.raises(ImportError, match="needs torchvision"):
        FeatureExtractor.vgg16()


def test_catalogued_losses_are_exported():
    for entry in perceptual.CATALOG:
        assert getattr(lossbook, entry.name) is entry.function
    assert lossbook.gram_matrix is gram_matrix


# ------------------------------------------------------------------ images
@pytest.mark.parametrize("name", images.NAMES)
def test_load_every_shipped_image(name):
    image = images.load(name, 16)
    assert image.shape == (1, 3, 16, 16) and image.dtype == torch.float32
    assert 0 <= image.min() and image.max() <= 1 and image.std() > 0.01


def test_load_gray_box_and_errors():
    gray = images.load("astronaut", 8, gray=True, dtype=torch.float64)
    assert gray.shape == (1, 1, 8, 8) and gray.dtype == torch.float64
    whole = images.load("chelsea", 300, box=(0, 0, 300))  # no resize: the shipped pixels
    expected = torch.from_numpy(np.asarray(__import__("skimage").data.chelsea()[:300, :300]))
    torch.testing.assert_close(whole[0].permute(1, 2, 0), expected.float() / 255)
    with pytest.raises(ValueError, match="^name"):
        images.load("lena")
    with pytest.raises(ValueError, match="^size"):
        images.load("coffee", 0)
    with pytest.raises(ValueError, match="^box"):
        images.load("coffee", 8, box=(0, 0, 10_000))


def test_as_array_and_grid():
    assert plot_images.as_array(torch.full((1, 3, 4, 5), 2.0)).shape == (4, 5, 3)
    assert plot_images.as_array(torch.zeros(1, 1, 4, 5)).shape == (4, 5)
    assert plot_images.as_array(torch.full((4, 5), -1.0)).min() == 0.0
    with pytest.raises(ValueError, match="^image: expected one image"):
        plot_images.as_array(torch.zeros(2, 3, 4, 4))
    import matplotlib.pyplot as plt

    fig, axes = plot_images.grid({"a": torch.zeros(4, 4), "b": torch.ones(3, 4, 4),
                                  "c": torch.zeros(4, 4)}, ncols=2, title="t")
    assert len(axes) == 4 and axes[0].get_title() == "a"
    plt.close(fig)


# ------------------------------------------------------------------ graders
def test_gram_grader_right_wrong_and_unimplemented():
    def right(features):
        n, c, h, w = features.shape
        flat = features.reshape(n, c, h * w)
        return flat @ flat.transpose(1, 2) / (c * h * w)

    assert grade_gram_matrix(right).score == 1.0
    own = grade_gram_matrix(gram_matrix)
    assert own.score == 0.0 and "implement it yourself" in str(own)

    def unnormalised(features):
        flat = features.flatten(2)
        return flat @ flat.transpose(1, 2)

    def divided_by_hw_only(features):
        flat = features.flatten(2)
        return flat @ flat.transpose(1, 2) / flat.shape[-1]

    def student(features):
        raise NotImplementedError

    assert grade_gram_matrix(unnormalised).score < 1.0
    assert grade_gram_matrix(divided_by_hw_only).score < 1.0
    assert grade_gram_matrix(student).score == 0.0


def test_tv_grader_right_wrong_and_unimplemented():
    def right(img):
        return (torch.diff(img, dim=-1).abs().sum((-2, -1))
                + torch.diff(img, dim=-2).abs().sum((-2, -1)))

    assert grade_total_variation(right).score == 1.0
    own = grade_total_variation(total_variation)
    assert own.score == 0.0 and "implement it yourself" in str(own)

    def squared(img):
        return (torch.diff(img, dim=-1) ** 2).sum((-2, -1)) + (
            torch.diff(img, dim=-2) ** 2).sum((-2, -1))

    def student(img):
        raise NotImplementedError

    assert grade_total_variation(squared).score < 1.0
    assert grade_total_variation(student).score == 0.0
