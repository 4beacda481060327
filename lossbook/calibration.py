"""Proper scoring rules and calibration: Brier and spherical scores, calibration error,
reliability curves, temperature scaling.

Chapter: *Calibration and proper scoring rules* (``chapters/05b_calibration_scoring_rules``).

The third proper scoring rule of the chapter, the **log loss**, is already in the package:
:func:`lossbook.nll_loss` of log-probabilities, or :func:`lossbook.cross_entropy` of logits
(``sklearn.metrics.log_loss`` is its reference). The two losses here take *probabilities*
with torch's class layout, (C,), (N, C) or (N, C, d1, ...), and a target that is either class
indices or class probabilities of the input's shape, told apart by shape as
:func:`lossbook.cross_entropy` does. With a probability target $q$ each returns the
**expected** loss when the class is drawn from $q$, so ``loss(r, q)`` is the expected score of
reporting $r$ when the truth is $q$ — the quantity that defines a proper scoring rule.

The calibration measures (:func:`expected_calibration_error`,
:func:`maximum_calibration_error`, :func:`reliability_curve`) are evaluation metrics, not
training losses: they group predictions into bins by confidence, and the bin assignment is
piecewise constant, so their gradient says nothing about how to change the bins' accuracy.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from lossbook import _checks as check
from lossbook import _numerics as num
from lossbook._reduce import reduce
from lossbook._samples import sample
from lossbook.catalog import Entry
from lossbook.information import cross_entropy

BINNINGS = ("uniform", "quantile")


# --------------------------------------------------------------------------- scoring rules
def _in_unit_interval(name: str, p: torch.Tensor) -> tuple:
    """A rule for ``check.values``: values in [0, 1]; NaN passes, and comes out as NaN."""
    return (name, p, ((p >= 0) & (p <= 1)) | torch.isnan(p), "probabilities in [0, 1]")


def _class_indices(name: str, target: torch.Tensor, num_classes: int) -> tuple:
    """A rule for ``check.values``: class indices in [0, num_classes)."""
    return (name, target, (target >= 0) & (target < num_classes),
            f"class indices in [0, {num_classes})")


def _target_distribution(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The target as class probabilities of ``input``'s shape (one-hot for class indices),
    after checking both arguments' values with one synchronisation."""
    check.tensor("target", target)
    class_dim = num.class_dim(input)
    if target.shape == input.shape:
        check.floating("target", target)
        check.values(_in_unit_interval("input", input), _in_unit_interval("target", target))
        return target.to(input.dtype)
    check.integer("target", target)
    expected = input.shape[:class_dim] + input.shape[class_dim + 1:]
    check.shape("target", target, expected,
                "input's shape without the class dimension, or input's shape")
    check.values(_in_unit_interval("input", input),
                 _class_indices("target", target, input.shape[class_dim]))
    index = target.unsqueeze(class_dim)
    one = torch.ones((), dtype=input.dtype, device=input.device).expand(index.shape)
    return torch.zeros_like(input).scatter(class_dim, index, one)


def brier_score_loss(
    input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean"
) -> torch.Tensor:
    r"""Brier score $\ell = \sum_c (p_c - y_c)^2$ of probabilities $p$, one-hot target $y$.

    Brier's (1950) multi-class definition, in $[0, 2]$: the squared distance between the
    forecast and the outcome, summed over the classes (dim 1, or dim 0 for an unbatched (C,)
    input). With a class-probability ``target`` $q$ it is the expected score when the class is
    drawn from $q$,

    $$\mathbb{E}_{y \sim q} \sum_c (p_c - y_c)^2 = \sum_c (p_c - q_c)^2 + \sum_c q_c (1 - q_c),$$

    computed as the two non-negative sums (no cancellation); for one-hot $q$ the second is 0.

    ``sklearn.metrics.brier_score_loss(y, P)`` with an (N, C) matrix ``P`` is this
    ``'mean'`` for $C \ge 3$; for two classes sklearn's default (and its binary form with the
    positive-class probability only) is **half** of it, in $[0, 1]$, and
    ``scale_by_half=False`` gives this value.

    Reference: ``sklearn.metrics.brier_score_loss``; Brier (1950).
    """
    check.floating("input", input)
    check.reduction(reduction)
    q = _target_distribution(input, target)
    class_dim = num.class_dim(input)
    loss = ((input - q) ** 2).sum(dim=class_dim) + (q * (1 - q)).sum(dim=class_dim)
    return reduce(loss, reduction)


def spherical_score_loss(
    input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean"
) -> torch.Tensor:
    r"""One minus the spherical score: $\ell = 1 - p_y / \lVert p \rVert_2$.

    The spherical score $p_y / \lVert p \rVert_2$ (Good, 1971; Gneiting & Raftery, 2007) is
    the cosine between the forecast and the one-hot outcome; it is strictly proper, and the
    shift by 1 makes a certain right answer cost 0, as it does for the log loss and the Brier
    score, without changing which forecast is best. $\ell \in [0, 1]$. With a class-probability
    ``target`` $q$ it is the expected loss $1 - q^\top p / \lVert p \rVert_2$. Classes on
    dim 1 (dim 0 for an unbatched (C,) input).

    Reference: Gneiting & Raftery (2007); no library ships it.
    """
    check.floating("input", input)
    check.reduction(reduction)
    q = _target_distribution(input, target)
    class_dim = num.class_dim(input)
    norm = input.square().sum(dim=class_dim).sqrt()  # >= 1/sqrt(C) for a distribution
    return reduce(1 - (q * input).sum(dim=class_dim) / norm, reduction)


# --------------------------------------------------------------------------- calibration
class ReliabilityCurve(NamedTuple):
    """Per-bin summary of a reliability diagram (``n_bins`` entries; empty bins hold NaN).

    ``confidence`` is the mean predicted score in each bin, ``accuracy`` the mean outcome (the
    fraction right, or of positives), ``count`` the number of predictions, and ``edges`` the
    ``n_bins + 1`` bin edges. ``accuracy[count > 0]`` and ``confidence[count > 0]`` are
    ``sklearn.calibration.calibration_curve``'s ``prob_true`` and ``prob_pred``.
    """

    confidence: torch.Tensor
    accuracy: torch.Tensor
    count: torch.Tensor
    edges: torch.Tensor


def _scores_and_outcomes(probs: torch.Tensor, target: torch.Tensor):
    """(score, outcome): top-label for (N, C) ``probs``, positive class for (N,) ``probs``."""
    check.floating("probs", probs)
    check.tensor("target", target)
    if probs.dim() == 2:
        check.integer("target", target)
        check.shape("target", target, probs.shape[:1], "one class index per row of probs")
        check.values(_in_unit_interval("probs", probs),
                     _class_indices("target", target, probs.shape[1]))
        confidence, predicted = probs.max(dim=1)
        return confidence, (predicted == target).to(probs.dtype)
    if probs.dim() == 1:
        check.same_shape("probs", probs, "target", target)
        check.values(_in_unit_interval("probs", probs),
                     ("target", target, (target == 0) | (target == 1), "labels in {0, 1}"))
        return probs, target.to(probs.dtype)
    raise check.ArgumentError(
        f"probs: expected (N,) positive-class or (N, C) class probabilities, "
        f"got shape {tuple(probs.shape)}")


def _check_bins(n_bins, binning) -> None:
    check.number("n_bins", n_bins, isinstance(n_bins, int) and not isinstance(n_bins, bool)
                 and n_bins >= 1, "a positive integer")
    if binning not in BINNINGS:
        raise check.ArgumentError(f"binning: expected 'uniform' or 'quantile', got {binning!r}")


def _binned(probs, target, n_bins, binning):
    """Per bin: (sum of scores, sum of outcomes, count, edges), in float32 at least."""
    _check_bins(n_bins, binning)
    scores, outcomes = _scores_and_outcomes(probs, target)
    scores, outcomes = num.widened(scores).contiguous(), num.widened(outcomes)
    levels = torch.linspace(0, 1, n_bins + 1, dtype=scores.dtype, device=scores.device)
    if binning == "uniform":
        edges = levels
    elif scores.numel() == 0:
        edges = torch.full_like(levels, torch.nan)  # no quantiles of nothing
    else:
        edges = torch.quantile(scores, levels)  # linear interpolation, like numpy.percentile
    # Bins (a, b], the first also holding its left edge: numpy.searchsorted's (side='left')
    # convention, which sklearn's calibration_curve uses. NaN lands in the last bin.
    index = torch.bucketize(scores, edges[1:-1]).clamp(max=n_bins - 1)
    zeros = scores.new_zeros(n_bins)
    return (zeros.index_add(0, index, scores), zeros.index_add(0, index, outcomes),
            zeros.index_add(0, index, torch.ones_like(scores)), edges)


def reliability_curve(
    probs: torch.Tensor, target: torch.Tensor, *, n_bins: int = 15, binning: str = "uniform"
) -> ReliabilityCurve:
    r"""Mean confidence and accuracy in each confidence bin: the data of a reliability diagram.

    Two kinds of ``probs``:

    * (N, C) class probabilities with class-index ``target`` (N,): **top-label** calibration
      (Guo et al., 2017). Each row's score is its confidence $\max_c p_c$, its outcome whether
      $\arg\max_c p_c$ is the target.
    * (N,) probabilities of the positive class with ``target`` in {0, 1}: **binary**
      calibration; the outcome is the label. This is what
      ``sklearn.calibration.calibration_curve`` computes (it drops empty bins).

    ``binning='uniform'`` cuts [0, 1] into ``n_bins`` equal widths; ``'quantile'`` puts the
    edges at the scores' quantiles, so the bins hold (about) equally many predictions. Bins are
    $(a, b]$, the first one closed.

    Reference: ``sklearn.calibration.calibration_curve``; DeGroot & Fienberg (1983).
    """
    score_sum, outcome_sum, count, edges = _binned(probs, target, n_bins, binning)
    dtype = probs.dtype
    return ReliabilityCurve((score_sum / count).to(dtype), (outcome_sum / count).to(dtype),
                            count.long(), edges.to(dtype))


def expected_calibration_error(
    probs: torch.Tensor, target: torch.Tensor, *, n_bins: int = 15, binning: str = "uniform"
) -> torch.Tensor:
    r"""ECE $= \sum_b \frac{n_b}{N}\,\lvert \mathrm{acc}_b - \mathrm{conf}_b \rvert$ over bins $b$.

    Computed as $\frac1N \sum_b \lvert \sum_{i \in b} (o_i - s_i) \rvert$ (scores $s$,
    outcomes $o$), so empty bins add exactly 0 and no division by a bin count is needed;
    ``probs``, ``target``, ``n_bins`` and ``binning`` as in :func:`reliability_curve`. No
    predictions give NaN ($0/0$).

    An estimate with two biases: sampling noise makes it positive even for a perfectly
    calibrated predictor (about $0.31\sqrt{B/N}$ for $B$ bins and uniform scores), while
    averaging within a bin hides errors of opposite signs (one bin measures only
    $\lvert$accuracy $-$ mean confidence$\rvert$). Autograd gives it a gradient
    ($\mp 1/N$ per score), but the bins are piecewise constant in the scores, so it is a
    measure to report, not a loss to train.

    Reference: Naeini, Cooper & Hauskrecht (2015); Guo et al. (2017).
    """
    score_sum, outcome_sum, count, _ = _binned(probs, target, n_bins, binning)
    return ((outcome_sum - score_sum).abs().sum() / count.sum()).to(probs.dtype)


def maximum_calibration_error(
    probs: torch.Tensor, target: torch.Tensor, *, n_bins: int = 15, binning: str = "uniform"
) -> torch.Tensor:
    r"""MCE $= \max_b \lvert \mathrm{acc}_b - \mathrm{conf}_b \rvert$ over the non-empty bins.

    The worst bin's gap, whatever its size — a bin of one prediction counts as much as a bin
    of a thousand, so it is noisier than the ECE. Arguments as in :func:`reliability_curve`;
    no predictions give NaN.

    Reference: Naeini, Cooper & Hauskrecht (2015); Guo et al. (2017).
    """
    score_sum, outcome_sum, count, _ = _binned(probs, target, n_bins, binning)
    if probs.shape[0] == 0:
        return torch.full((), torch.nan, dtype=probs.dtype, device=probs.device)
    gap = (outcome_sum - score_sum).abs() / count  # 0/0 = NaN in empty bins ...
    gap = torch.where(count > 0, gap, torch.zeros_like(gap))  # ... which the max skips
    return gap.amax().to(probs.dtype)


# --------------------------------------------------------------------------- temperature
def temperature_scale(logits: torch.Tensor, temperature) -> torch.Tensor:
    r"""Logits divided by a temperature $T > 0$: $\mathrm{softmax}(z / T)$ is the calibrated
    forecast. $T > 1$ softens over-confident probabilities; the arg-max, and so the accuracy,
    cannot change.

    Reference: Guo et al. (2017).
    """
    check.floating("logits", logits)
    if isinstance(temperature, torch.Tensor):
        check.values(("temperature", temperature, temperature > 0, "a positive temperature"))
    else:
        check.number("temperature", temperature, temperature > 0, "a positive temperature")
    return logits / temperature


def fit_temperature(
    logits: torch.Tensor, target: torch.Tensor, *, max_iter: int = 100
) -> torch.Tensor:
    r"""The temperature $T$ minimising the NLL of ``softmax(logits / T)`` for ``target``.

    Fit on a *validation* split (never the training set, where the network is over-confident
    by construction, nor the test set). One parameter, optimised as $\log T$ (so $T$ stays
    positive) with L-BFGS and a strong-Wolfe line search, from $T = 1$, in float64 (cheap for
    one parameter; float32 would leave $T$ uncertain in its fourth digit). ``logits`` (N, C),
    ``target`` class indices (N,). Returns a 0-d tensor without gradient. If every example is
    already right, the NLL keeps falling as $T \to 0$ and the fit stops at a small $T$.

    Reference: Guo et al. (2017).
    """
    check.floating("logits", logits)
    check.integer("target", target)
    if logits.dim() != 2:
        raise check.ArgumentError(f"logits: expected shape (N, C), got {tuple(logits.shape)}")
    # float64 whatever the logits: the NLL is flat near its minimum, and in float32 the
    # fitted T would be uncertain in its fourth digit.
    x = logits.detach().double()
    log_t = torch.zeros((), dtype=x.dtype, device=x.device, requires_grad=True)
    optimiser = torch.optim.LBFGS([log_t], lr=1.0, max_iter=max_iter,
                                  tolerance_grad=1e-9, tolerance_change=1e-12,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        loss = cross_entropy(x / log_t.exp(), target)
        loss.backward()
        return loss

    optimiser.step(closure)
    return log_t.detach().exp().to(logits.dtype)


# --------------------------------------------------------------------------- catalog
CATALOG = (
    Entry(brier_score_loss, chapter="05b_calibration_scoring_rules",
          task="probabilistic classification (strictly proper score)",
          summary=r"$\sum_c (p_c - y_c)^2$", reference="sklearn.metrics.brier_score_loss",
          input_kind="probabilities", convex=True, bounded=True, robust=True,
          inputs=sample("distributions", "classes")),
    Entry(spherical_score_loss, chapter="05b_calibration_scoring_rules",
          task="probabilistic classification (strictly proper score)",
          summary=r"$1 - p_y / \Vert p \Vert_2$", reference=None,
          input_kind="probabilities", convex=False, bounded=True, robust=True,
          inputs=sample("distributions", "classes")),
)
