"""lossbook.plot: the shared curve helper draws what the histories hold."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lossbook import plot  # noqa: E402
from lossbook.experiment import History  # noqa: E402


def histories(label, rows):
    runs = []
    for row in rows:
        run = History(label)
        for epoch, value in enumerate(row, start=1):
            run.record(epoch, loss=value)
        runs.append(run)
    return runs


def test_curves_draw_the_mean_over_runs_and_a_band_of_one_sample_std():
    rows = [[4.0, 2.0, 1.0], [2.0, 1.0, 0.0], [3.0, 3.0, 2.0]]
    fig, ax = plt.subplots()
    plot.curves(ax, {"a": histories("a", rows)}, "loss")
    (line,) = ax.get_lines()
    assert line.get_label() == "a"
    np.testing.assert_allclose(line.get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(line.get_ydata(), [3.0, 2.0, 1.0])
    (band,) = ax.collections
    corners = band.get_paths()[0].vertices
    std = np.array([1.0, 1.0, 1.0])  # sample std (ddof=1) of each column, by hand
    for epoch, low, high in zip([1, 2, 3], [3.0, 2.0, 1.0] - std, [3.0, 2.0, 1.0] + std):
        at_epoch = corners[np.isclose(corners[:, 0], epoch), 1]
        assert np.isclose(at_epoch.min(), low) and np.isclose(at_epoch.max(), high)
    plt.close(fig)


@pytest.mark.parametrize("runs", [1, 2])
def test_curves_relative_divide_each_run_by_its_first_value(runs):
    rows = [[4.0, 2.0, 1.0], [2.0, 2.0, 0.5]][:runs]
    fig, ax = plt.subplots()
    plot.curves(ax, {"x": histories("x", rows), "y": histories("y", rows)}, "loss",
                relative=True)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["x", "y"]
    expected = np.mean([[1.0, 0.5, 0.25], [1.0, 1.0, 0.25]][:runs], axis=0)
    np.testing.assert_allclose(lines[0].get_ydata(), expected)
    assert len(ax.collections) == (2 if runs > 1 else 0)  # no band for a single run
    assert lines[0].get_color() != lines[1].get_color()
    plt.close(fig)


def test_curves_refuse_runs_recorded_at_different_epochs():
    def history(epochs):
        h = History("run")
        for epoch in epochs:
            h.record(epoch, loss=1.0)
        return h

    fig, ax = plot.figure()
    with pytest.raises(ValueError, match=r"^runs\['a'\]"):
        plot.curves(ax, {"a": [history((1, 2, 3)), history((1, 2, 4))]}, "loss")
    matplotlib.pyplot.close(fig)
