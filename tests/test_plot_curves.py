"""lossbook.plot.curves: mean and ±1 s.d. band of per-epoch records over seeds."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lossbook import plot  # noqa: E402
from lossbook.experiment import History  # noqa: E402


def history(values, epochs=(1, 2, 3)):
    h = History("run")
    for epoch, value in zip(epochs, values):
        h.record(epoch, loss=value)
    return h


def test_curves_draw_the_mean_and_a_band_of_one_sample_standard_deviation():
    fig, ax = plot.figure()
    runs = {"a": [history([1.0, 2.0, 3.0]), history([3.0, 2.0, 5.0])], "b": [history([0, 0, 1])]}
    plot.curves(ax, runs, "loss")
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["a", "b"]
    np.testing.assert_allclose(lines[0].get_ydata(), [2.0, 2.0, 4.0])
    np.testing.assert_allclose(lines[0].get_xdata(), [1, 2, 3])
    (band,) = ax.collections  # one band: "b" has a single run
    upper = band.get_paths()[0].vertices[:, 1].max()
    assert upper == pytest.approx(4.0 + np.std([3.0, 5.0], ddof=1))
    matplotlib.pyplot.close(fig)


def test_curves_refuse_runs_recorded_at_different_epochs():
    fig, ax = plot.figure()
    with pytest.raises(ValueError, match=r"^runs\['a'\]"):
        plot.curves(ax, {"a": [history([1, 2, 3]), history([1, 2, 3], epochs=(1, 2, 4))]}, "loss")
    matplotlib.pyplot.close(fig)
