"""lossbook.data.overlap (the small-objects images of chapter 08 and the per-object recall) and
lossbook.plot.curves (per-epoch curves over seeds), checked against scipy's connected
components, loops written out here and hand-made examples."""

import matplotlib
import numpy as np
import pytest
import scipy.ndimage
import torch

from lossbook import _checks as check
from lossbook.data.overlap import objects_found, small_objects
from lossbook.experiment import History

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def sample():
    return small_objects(12, seed=3, dtype=torch.float64)


def test_shapes_dtypes_and_masks(sample):
    images, masks, labels = sample
    assert images.shape == masks.shape == (12, 1, 32, 32)
    assert labels.shape == (12, 32, 32) and labels.dtype == torch.long
    assert images.dtype == masks.dtype == torch.float64
    assert torch.equal(masks[:, 0], (labels > 0).double())


def test_objects_are_separate_squares_of_the_asked_number(sample):
    _, masks, labels = sample
    eight = np.ones((3, 3))  # 8-connectivity: objects touching at a corner would merge
    for mask, label in zip(masks[:, 0].numpy(), labels.numpy()):
        components, count = scipy.ndimage.label(mask, structure=eight)
        assert 2 <= count <= 4 and label.max() == count
        for k in range(1, count + 1):
            rows, cols = np.nonzero(label == k)
            assert len(rows) == 4 and np.ptp(rows) == 1 and np.ptp(cols) == 1
            assert len(np.unique(components[label == k])) == 1  # one component per object
        assert 0 < rows.min() and rows.max() < 31 and 0 < cols.min() and cols.max() < 31


def test_noise_has_the_asked_spread_and_objects_the_contrast():
    images, masks, _ = small_objects(40, seed=0, contrast=2.0, noise=0.3, dtype=torch.float64)
    residual = images - 2.0 * masks
    assert abs(float(residual.std()) - 0.3) < 0.01
    assert abs(float(residual.mean())) < 0.01
    assert abs(float(images[masks == 1].mean()) - 2.0) < 0.05


def test_seeded_and_independent_of_dtype_and_size_options():
    a = small_objects(5, seed=7, dtype=torch.float64)
    b = small_objects(5, seed=7, dtype=torch.float64)
    c = small_objects(5, seed=8, dtype=torch.float64)
    f32 = small_objects(5, seed=7)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[2], c[2])
    assert torch.equal(f32[2], a[2]) and f32[0].dtype == torch.float32
    torch.testing.assert_close(f32[0], a[0].float())
    images, masks, labels = small_objects(3, seed=1, size=12, objects=(1, 1), side=3)
    assert images.shape == (3, 1, 12, 12)
    assert all(int(label.max()) == 1 and int((label == 1).sum()) == 9 for label in labels)


def test_foreground_is_rare():
    _, masks, _ = small_objects(64, seed=0)
    assert 0.005 < float(masks.mean()) < 0.02  # 2-4 objects of 4 pixels in 1024


def test_no_objects_is_allowed():
    images, masks, labels = small_objects(2, seed=0, objects=(0, 0))
    assert masks.sum() == 0 and labels.sum() == 0
    assert objects_found(masks, labels).shape == (0,)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=0), "n: expected a positive int"),
    (dict(n=2, size=3), "size: expected at least"),
    (dict(n=2, objects=(3, 1)), "objects: expected"),
    (dict(n=2, size=6, objects=(9, 9)), "do not fit"),
    (dict(n=2, side=0), "side: expected a positive int"),
])
def test_small_objects_rejects_bad_arguments(kwargs, match):
    with pytest.raises(check.ArgumentError, match=match):
        small_objects(**kwargs, seed=0)


def found_by_loop(predicted, labels, fraction):
    """The definition, one object at a time."""
    found = []
    for prediction, label in zip(predicted, labels):
        for k in range(1, int(label.max()) + 1):
            pixels = label == k
            if pixels.any():
                found.append(bool(prediction[pixels].double().mean() >= fraction))
    return torch.tensor(found, dtype=torch.bool)


def test_objects_found_by_hand():
    labels = torch.zeros(1, 6, 6, dtype=torch.long)
    labels[0, :2, :2] = 1
    labels[0, 3:5, 3:5] = 2
    predicted = torch.zeros(1, 1, 6, 6, dtype=torch.bool)
    predicted[0, 0, 0, 0] = True  # a quarter of object 1
    predicted[0, 0, 3:5, 3:5] = True  # all of object 2
    predicted[0, 0, 5, 0] = True  # a false positive changes nothing
    assert objects_found(predicted, labels).tolist() == [False, True]
    assert objects_found(predicted, labels, fraction=0.25).tolist() == [True, True]
    assert objects_found(predicted[:, 0].float(), labels).tolist() == [False, True]


@pytest.mark.parametrize("fraction", [0.25, 0.5, 1.0])
def test_objects_found_matches_the_loop(sample, fraction):
    _, masks, labels = sample
    g = torch.Generator().manual_seed(0)
    predicted = (masks + torch.rand(masks.shape, generator=g, dtype=torch.float64)) > 1.4
    expected = found_by_loop(predicted[:, 0], labels, fraction)
    assert 0 < expected.sum() < len(expected)  # a mix of found and missed
    assert torch.equal(objects_found(predicted, labels, fraction=fraction), expected)


def test_objects_found_rejects_bad_input(sample):
    _, masks, labels = sample
    with pytest.raises(check.ArgumentError, match="fraction"):
        objects_found(masks, labels, fraction=0.0)
    with pytest.raises(check.ArgumentTypeError, match="labels"):
        objects_found(masks, labels.double())
    with pytest.raises(check.ArgumentError, match="predicted"):
        objects_found(masks[:, :, :5], labels)


def test_curves_draw_mean_and_band():
    import matplotlib.pyplot as plt

    from lossbook import plot

    runs = {}
    for label, scale in (("a", 1.0), ("b", 3.0)):
        runs[label] = []
        for seed in range(3):
            h = History(label)
            for epoch in (1, 2, 3):
                h.record(epoch, loss=scale * (seed + 1) / epoch)
            runs[label].append(h)
    fig, ax = plt.subplots()
    plot.curves(ax, runs, "loss")
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["a", "b"]
    np.testing.assert_allclose(lines[1].get_ydata(), [6.0, 3.0, 2.0])  # mean of seeds
    assert len(ax.collections) == 2  # one band each
    fig2, ax2 = plt.subplots()
    plot.curves(ax2, runs, "loss", relative=True, spread="runs")
    lines = ax2.get_lines()
    assert len(lines) == 8 and len(ax2.collections) == 0  # mean + 3 seeds, twice
    np.testing.assert_allclose(lines[0].get_ydata(), [1.0, 0.5, 1 / 3])
    np.testing.assert_allclose(lines[3].get_ydata(), [1.0, 0.5, 1 / 3])  # seed 2
    assert lines[1].get_label().startswith("_")  # seeds stay out of the legend
    with pytest.raises(ValueError, match="spread"):
        plot.curves(ax2, runs, "loss", spread="std")
    plt.close(fig)
    plt.close(fig2)


def test_error_map_colours_each_kind_of_pixel():
    from lossbook.plot import overlap as overlap_plot

    truth = torch.tensor([[1, 1], [0, 0]])
    predicted = torch.tensor([[1, 0], [1, 0]], dtype=torch.bool)
    image = overlap_plot.error_map(predicted, truth)
    assert image.shape == (2, 2, 3)
    colour = {k: overlap_plot._rgb(c) for k, c in overlap_plot.COLOURS.items()}
    np.testing.assert_allclose(image[0, 0], colour["found"])
    np.testing.assert_allclose(image[0, 1], colour["missed"])
    np.testing.assert_allclose(image[1, 0], colour["false positive"])
    np.testing.assert_allclose(image[1, 1], [1.0, 1.0, 1.0])
    assert [h.get_label() for h in overlap_plot.error_legend()] == [
        "found", "false positive", "missed"]
    with pytest.raises(ValueError, match="two"):
        overlap_plot.error_map(predicted, truth[0])
