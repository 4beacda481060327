"""Likelihood: the negative log-likelihoods behind the common losses, and a small MLE fitter.

Chapter: *Maximum likelihood — where losses come from* (``chapters/03_maximum_likelihood``).

A model gives each observation $y$ a probability (or density) $p(y; \\theta)$; maximum likelihood
picks the $\\theta$ that makes the observed data most probable, which is the same as minimising
the negative log-likelihood (NLL) $-\\sum_i \\log p(y_i; \\theta)$. Each loss here is such an
NLL. ``gaussian_nll_loss`` and ``poisson_nll_loss`` keep the name, argument order, defaults,
clamps and reduction semantics of ``torch.nn.functional``, so the two can be swapped; the tests
compare them in value and gradient. Natural logarithms throughout.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch

from lossbook import _checks as check
from lossbook._numerics import broadcastable
from lossbook._numerics import clamp_value_only as _clamp_value_only
from lossbook._reduce import reduce
from lossbook._samples import sample
from lossbook.catalog import Entry


# --------------------------------------------------------------------------- validation
def _parameter(name: str, value, input: torch.Tensor, expected: str) -> torch.Tensor:
    """A floating tensor for a parameter given as a tensor or a plain number.

    A number is checked (``value >= 0``) and filled to the input's shape, dtype and device.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise check.ArgumentError(f"{name}: expected {expected}, got {value:g}")
        value = torch.full_like(input, value)
    check.floating(name, value)
    return value


# --------------------------------------------------------------------------- the coin
def binomial_pmf(k, n, theta: torch.Tensor) -> torch.Tensor:
    r"""$P(K = k) = \binom{n}{k}\,\theta^k (1 - \theta)^{n - k}$: $k$ successes in $n$ trials.

    Computed in log space, $\exp(\log\Gamma(n+1) - \log\Gamma(k+1) - \log\Gamma(n-k+1)
    + k \log\theta + (n-k)\log(1-\theta))$, so $n$ in the thousands neither overflows the
    binomial coefficient nor underflows the powers before they meet. ``k`` and ``n`` are
    integers (Python or tensors) with $0 \le k \le n$; ``theta`` is a floating tensor in
    [0, 1]; all three broadcast. $0^0 = 1$, so $\theta = 0$ gives $P(K = 0) = 1$.

    As a function of ``k`` (``theta`` fixed) this is a probability; as a function of ``theta``
    (``k`` fixed) it is the likelihood of $\theta$ — the same formula read two ways.

    Reference: ``scipy.stats.binom.pmf``; ``torch.distributions.Binomial``.
    """
    check.floating("theta", theta)
    k = torch.as_tensor(k, dtype=theta.dtype, device=theta.device)
    n = torch.as_tensor(n, dtype=theta.dtype, device=theta.device)
    check.values(
        ("theta", theta, (theta >= 0) & (theta <= 1), "probabilities in [0, 1]"),
        ("n", n, (n >= 0) & (n == n.round()), "a whole number of trials"),
        ("k", k, (k >= 0) & (k <= n) & (k == k.round()), "whole numbers in [0, n]"),
    )
    log_choose = torch.lgamma(n + 1) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1)
    # xlogy / xlog1py: 0 * log 0 = 0, and log(1 - theta) without cancellation near theta = 0
    log_powers = torch.xlogy(k, theta) + torch.special.xlog1py(n - k, -theta)
    return torch.exp(log_choose + log_powers)


def bernoulli_log_likelihood(
    theta: torch.Tensor, outcomes: torch.Tensor, dim: int = -1
) -> torch.Tensor:
    r"""$\log L(\theta) = \sum_i [\,x_i \log\theta + (1 - x_i)\log(1 - \theta)\,]$ along ``dim``.

    ``outcomes`` $x_i$ are 1 (success, heads) or 0 (failure, tails); ``theta`` is the
    probability of success and broadcasts against them, so a column of candidate thetas,
    shape (G, 1), against ten flips, shape (10,), gives the log-likelihood of each candidate,
    shape (G,). $0 \log 0 = 0$: $\theta = 0$ or 1 gives 0 when every outcome agrees with it
    and $-\infty$ otherwise. Outcomes strictly between 0 and 1 act as soft labels; the result
    is then minus the summed binary cross-entropy, as it is for hard ones.

    Reference: ``torch.distributions.Bernoulli(probs=theta).log_prob(outcomes).sum(dim)``;
    ``scipy.stats.bernoulli.logpmf``.
    """
    check.floating("theta", theta)
    check.tensor("outcomes", outcomes)
    outcomes = outcomes.to(theta.dtype)
    check.values(
        ("theta", theta, (theta >= 0) & (theta <= 1), "probabilities in [0, 1]"),
        ("outcomes", outcomes, (outcomes >= 0) & (outcomes <= 1), "outcomes in [0, 1]"),
    )
    # xlog1py(1 - x, -theta) = (1 - x) log(1 - theta), exact for theta near 0
    per_outcome = torch.xlogy(outcomes, theta) + torch.special.xlog1py(1 - outcomes, -theta)
    return per_outcome.sum(dim=dim)


# --------------------------------------------------------------------------- losses
def gaussian_nll_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    var: torch.Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Gaussian negative log-likelihood $\ell = \tfrac12\left[\log\sigma^2
    + \frac{(y - \mu)^2}{\sigma^2}\right]$ (plus $\tfrac12\log 2\pi$ when ``full``).

    ``input`` is the mean $\mu$, ``target`` the observation $y$, ``var`` the variance
    $\sigma^2$: a tensor of ``input``'s shape (heteroscedastic: one variance per prediction),
    or one dimension short of it, or equal to it except for a single dimension of size 1
    (shared variances), or a non-negative float. With a fixed ``var`` the loss is the squared
    error scaled by $1/(2\sigma^2)$ plus a constant, so it has the same minimiser as MSE.

    Conventions, all torch's: ``var`` is clamped below at ``eps`` *in value only* — a variance
    under ``eps`` is evaluated at ``eps`` but its gradient still reaches ``var`` (torch clamps
    under ``no_grad``); negative variances raise ``ValueError``; ``full=False`` leaves out the
    constant $\tfrac12\log 2\pi$; ``target`` may broadcast against ``input``; ``'mean'`` averages
    over every element of the loss.

    Reference: ``torch.nn.functional.gaussian_nll_loss``; Nix & Weigend (1994).
    """
    check.floating("input", input)
    check.floating("target", target)
    check.reduction(reduction)
    broadcastable("target", target, "the input", input)
    var = _parameter("var", var, input, "non-negative variances")
    var = _variance_like_input(var, input)
    check.values(("var", var, ~(var < 0), "non-negative variances"))  # NaN passes, as in torch
    var = _clamp_value_only(var, eps)  # log(0) and 1/0 never happen; the gradient still flows
    loss = 0.5 * (torch.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce(loss, reduction)


def _variance_like_input(var: torch.Tensor, input: torch.Tensor) -> torch.Tensor:
    """The shapes torch accepts for ``var``, made to broadcast against ``input``."""
    if var.shape == input.shape:
        return var
    if var.shape == input.shape[:-1]:  # one variance per row: add the last dim back
        return var.unsqueeze(-1)
    differing = [v for i, v in zip(input.shape, var.shape) if i != v]
    if var.dim() == input.dim() and differing == [1]:  # e.g. (N, 1) for input (N, D)
        return var
    raise check.ArgumentError(
        f"var: expected shape {tuple(input.shape)} (the input's), {tuple(input.shape[:-1])}, "
        f"or the input's with one dimension of size 1, got {tuple(var.shape)}"
    )


def poisson_nll_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    log_input: bool = True,
    full: bool = False,
    eps: float = 1e-8,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Poisson negative log-likelihood $\ell = \lambda - y\log\lambda + \log y!$, without or
    with (``full``) an approximation of the last term.

    With ``log_input=True`` (the default) ``input`` is the log-rate $\eta = \log\lambda$ and
    $\ell = e^{\eta} - y\,\eta$: no log is ever taken, so any real input is valid. With
    ``log_input=False`` ``input`` is the rate $\lambda \ge 0$ itself and
    $\ell = \lambda - y \log(\lambda + \varepsilon)$, the ``eps`` keeping $\log 0$ away.

    $\log y!$ does not depend on the prediction, so it is left out unless ``full=True``, which
    adds Stirling's approximation $y\log y - y + \tfrac12\log(2\pi y)$ where $y > 1$ and 0
    where $y \le 1$ (exact for counts 0 and 1, since $0! = 1! = 1$). ``target`` holds counts
    and broadcasts against ``input``. Like torch, lossbook checks no values: non-integer
    counts are accepted, a negative count gives a number that is no likelihood, and a negative
    rate (with ``log_input=False``) gives NaN.

    Gradients are torch's, with one exception: at ``target == 0`` with ``full=True`` torch's
    gradient *with respect to the target* is NaN (its backward multiplies the masked term's
    zero gradient by $\log 0$); here it is finite. The gradient with respect to ``input`` is
    the same everywhere: $e^\eta - y$ for log-rates.

    Reference: ``torch.nn.functional.poisson_nll_loss``.
    """
    check.floating("input", input)
    check.floating("target", target)
    check.reduction(reduction)
    broadcastable("target", target, "the input", input)
    if log_input:
        loss = torch.exp(input) - target * input
    else:
        loss = input - target * torch.log(input + eps)
    if full:
        # where(): the term is never evaluated at y <= 1, so log 0 cannot poison the gradient
        large = target > 1
        y = torch.where(large, target, torch.full_like(target, 2.0))
        stirling = y * torch.log(y) - y + 0.5 * torch.log(2 * math.pi * y)
        loss = loss + torch.where(large, stirling, torch.zeros_like(stirling))
    return reduce(loss, reduction)


def laplace_nll(
    input: torch.Tensor,
    target: torch.Tensor,
    scale: torch.Tensor | float = 1.0,
    *,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Laplace negative log-likelihood $\ell = \log b + \frac{|y - \mu|}{b}$ (plus $\log 2$
    when ``full``).

    The Laplace density $p(y) = \frac{1}{2b} e^{-|y - \mu|/b}$ has location $\mu$ (``input``)
    and scale $b > 0$ (``scale``, a float or a tensor that broadcasts against ``input``). With a
    fixed scale the loss is the absolute error divided by $b$ plus a constant, so it has the
    same minimiser as MAE: the median. Conventions follow :func:`gaussian_nll_loss`: ``scale``
    is clamped below at ``eps`` in value only, negative scales raise ``ValueError``,
    ``full=False`` leaves out the constant $\log 2$.

    Reference: ``-torch.distributions.Laplace(input, scale).log_prob(target)`` with
    ``full=True``.
    """
    check.floating("input", input)
    check.floating("target", target)
    check.reduction(reduction)
    broadcastable("target", target, "the input", input)
    scale = _parameter("scale", scale, input, "non-negative scales")
    broadcastable("scale", scale, "the input", input)
    check.values(("scale", scale, scale >= 0, "non-negative scales"))
    scale = _clamp_value_only(scale, eps)
    loss = torch.log(scale) + (input - target).abs() / scale
    if full:
        loss = loss + math.log(2)
    return reduce(loss, reduction)


# --------------------------------------------------------------------------- fitting
class MLEFit(NamedTuple):
    """The result of :func:`fit_mle`: the estimate and the NLL along the way."""

    estimate: torch.Tensor | tuple[torch.Tensor, ...]
    trace: torch.Tensor


def fit_mle(
    nll_fn: Callable[..., torch.Tensor],
    init: torch.Tensor | tuple[torch.Tensor, ...],
    *,
    steps: int = 50,
    optimizer: str = "lbfgs",
    lr: float | None = None,
) -> MLEFit:
    r"""Minimise a negative log-likelihood with ``torch.optim``: $\hat\theta =
    \arg\min_\theta \mathrm{NLL}(\theta)$.

    ``init`` is the starting value, a tensor or a tuple of tensors; they are copied, never
    modified. ``nll_fn`` receives the parameters as positional arguments and returns a scalar.
    Constraints are the caller's: fit a logit for a probability or a log for a variance and
    transform inside ``nll_fn``.

    ``optimizer="lbfgs"`` (default ``lr=1``) is a quasi-Newton method with a strong-Wolfe line
    search, one iteration per step: a smooth, deterministic NLL converges in a few dozen steps
    to many digits. ``"adam"`` (default ``lr=0.05``) suits non-smooth NLLs and networks.

    Returns ``MLEFit(estimate, trace)``: the final parameters (detached; a tensor or a tuple,
    like ``init``) and the NLL before each step and after the last, shape ``(steps + 1,)``.
    """
    single = isinstance(init, torch.Tensor)
    inits = (init,) if single else tuple(init)
    for i, t in enumerate(inits):
        check.floating("init" if single else f"init[{i}]", t)
    params = [t.detach().clone().requires_grad_() for t in inits]
    if optimizer == "lbfgs":
        # max_eval must be set: torch's default (max_iter * 5 // 4 = 1) stops the line search
        # before its first move, and the parameters never change; tight tolerances so a
        # float64 fit reaches many digits instead of stopping where the NLL looks flat
        opt = torch.optim.LBFGS(params, lr=lr or 1.0, max_iter=1, max_eval=25,
                                tolerance_grad=1e-10, tolerance_change=1e-14,
                                line_search_fn="strong_wolfe")
    elif optimizer == "adam":
        opt = torch.optim.Adam(params, lr=lr or 0.05)
    else:
        raise check.ArgumentError(f"optimizer: expected 'lbfgs' or 'adam', got {optimizer!r}")

    def closure():
        opt.zero_grad()
        nll = nll_fn(*params)
        nll.backward()
        return nll

    trace = [opt.step(closure).detach() for _ in range(steps)]
    with torch.no_grad():
        trace.append(nll_fn(*params).detach())
    estimate = tuple(p.detach() for p in params)
    return MLEFit(estimate[0] if single else estimate, torch.stack(trace))


CATALOG = (
    Entry(gaussian_nll_loss, chapter="03_maximum_likelihood",
          task="regression with predicted uncertainty",
          summary=r"$\frac12[\log\sigma^2 + (y - \mu)^2 / \sigma^2]$",
          reference="torch.nn.functional.gaussian_nll_loss", input_kind="mean and variance",
          convex=True, bounded=False, robust=False,
          inputs=sample("predictions", "predictions", "variances")),
    Entry(poisson_nll_loss, chapter="03_maximum_likelihood", task="count regression",
          summary=r"$e^{\eta} - y\,\eta$ for log-rate $\eta$",
          reference="torch.nn.functional.poisson_nll_loss", input_kind="log-rates or rates",
          convex=True, bounded=False, robust=False,
          inputs=sample("log_rates", "counts")),
    Entry(laplace_nll, chapter="03_maximum_likelihood",
          task="robust regression with predicted scale",
          summary=r"$\log b + \vert y - \mu \vert / b$", reference=None,
          input_kind="location and scale", convex=True, bounded=False, robust=True,
          inputs=sample("predictions", "predictions", "variances")),
)
