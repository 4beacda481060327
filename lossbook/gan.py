r"""GAN losses: discriminator and generator objectives, gradient penalties, cycle consistency.

Chapter: *GAN losses and cycle consistency* (``chapters/11_gan_losses``).

Every adversarial loss here takes the discriminator's **raw outputs**: logits
$D_\ell(x) = \sigma^{-1}(D(x))$ for the losses derived from cross-entropy (minimax,
non-saturating), unbounded scores for the least-squares, Wasserstein and hinge losses. Each
discriminator loss takes ``(real, fake)`` — its outputs on a batch of data and on a batch of
generated samples — and each generator loss takes ``fake``.

Reductions: a discriminator loss is a sum of a term on real and a term on fake samples, and
``reduction`` is applied to each term before they are added, so ``'mean'`` is
$\mathbb{E}_{\text{data}}[\cdot] + \mathbb{E}_{\text{fake}}[\cdot]$ (the batches may differ in
size). ``'none'`` returns the two terms added element-wise and needs equal shapes.

Nobody ships these as library functions (torch has none); the tests compare them with
``torch.nn.functional`` compositions (BCE with logits, MSE, L1) and with the formulas of the
papers written out by hand.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from lossbook import _checks as check
from lossbook import _samples as samples
from lossbook._numerics import log1p_exp as softplus  # exact: no threshold, as torch's losses
from lossbook._reduce import reduce
from lossbook._samples import sample
from lossbook.catalog import Entry


def _scores(**tensors: torch.Tensor) -> None:
    for name, value in tensors.items():
        check.floating(name, value)


def _two_terms(real_term: torch.Tensor, fake_term: torch.Tensor, reduction: str) -> torch.Tensor:
    """``reduce(real_term) + reduce(fake_term)``; element-wise sum for ``'none'``."""
    check.reduction(reduction)
    if reduction == "none":
        check.same_shape("real", real_term, "fake", fake_term)
        return real_term + fake_term
    return reduce(real_term, reduction) + reduce(fake_term, reduction)


# --------------------------------------------------------------------------- minimax
def d_loss_minimax(
    real: torch.Tensor, fake: torch.Tensor, *, reduction: str = "mean"
) -> torch.Tensor:
    r"""Discriminator loss of the original GAN: $-\log D(x) - \log(1 - D(G(z)))$.

    With logits $\ell$ and $D = \sigma(\ell)$, $-\log\sigma(\ell) = \mathrm{softplus}(-\ell)$
    and $-\log(1 - \sigma(\ell)) = \mathrm{softplus}(\ell)$, so the loss is
    $\mathrm{softplus}(-\ell_{\text{real}}) + \mathrm{softplus}(\ell_{\text{fake}})$: binary
    cross-entropy with target 1 on data and 0 on fakes. Minimising it maximises the value
    $V(D, G)$ of the two-player game; its minimiser is $D^* = p_{\text{data}} /
    (p_{\text{data}} + p_g)$, i.e. the logit $\log p_{\text{data}} / p_g$.

    Reference: Goodfellow et al. (2014), eq. 1; equal to
    ``F.binary_cross_entropy_with_logits(real, 1) + F.binary_cross_entropy_with_logits(fake, 0)``.
    """
    _scores(real=real, fake=fake)
    # softplus = logaddexp(x, 0): no sigmoid is rounded to 0 or 1 and then logged
    return _two_terms(softplus(-real), softplus(fake), reduction)


def g_loss_minimax(
    fake: torch.Tensor, *, reduction: str = "mean"
) -> torch.Tensor:
    r"""The generator's side of the minimax game: $\log(1 - D(G(z))) = -\mathrm{softplus}(\ell)$.

    The *saturating* loss: its gradient with respect to the logit is $-\sigma(\ell) = -D$, which
    vanishes exactly when the discriminator confidently rejects the fakes ($D \to 0$) — early
    in training, when the generator most needs a signal. Always negative; bounded above by 0.

    Reference: Goodfellow et al. (2014), eq. 1 (the $G$ part of $\min_G \max_D V$).
    """
    _scores(fake=fake)
    return reduce(-softplus(fake), reduction)  # log(1 - sigmoid(l)) = -softplus(l)


def g_loss_nonsaturating(
    fake: torch.Tensor, *, reduction: str = "mean"
) -> torch.Tensor:
    r"""Non-saturating generator loss: $-\log D(G(z)) = \mathrm{softplus}(-\ell)$.

    Same fixed point as :func:`g_loss_minimax`, but its logit gradient is
    $-(1 - D)$, close to $-1$ when $D \to 0$: strong early gradients. It is binary
    cross-entropy of the fakes against the label "real".

    Reference: Goodfellow et al. (2014), section 3; equal to
    ``F.binary_cross_entropy_with_logits(fake, ones)``.
    """
    _scores(fake=fake)
    return reduce(softplus(-fake), reduction)  # -log sigmoid(l) = softplus(-l)


# --------------------------------------------------------------------------- least squares
def d_loss_lsgan(real: torch.Tensor, fake: torch.Tensor, *, a: float = 0.0, b: float = 1.0,
                 reduction: str = "mean") -> torch.Tensor:
    r"""Least-squares discriminator loss: $\tfrac12 (D(x) - b)^2 + \tfrac12 (D(G(z)) - a)^2$.

    $D$ outputs an unbounded score, pushed towards $b$ on data and $a$ on fakes. Far from its
    target a score is penalised quadratically, so even fakes on the "right" side of the
    decision boundary keep a gradient.

    Reference: Mao et al. (2017), eq. 2 (defaults $a = 0$, $b = 1$ as in their eq. 9).
    """
    _scores(real=real, fake=fake)
    return _two_terms(0.5 * (real - b) ** 2, 0.5 * (fake - a) ** 2, reduction)


def g_loss_lsgan(fake: torch.Tensor, *, c: float = 1.0, reduction: str = "mean") -> torch.Tensor:
    r"""Least-squares generator loss $\tfrac12 (D(G(z)) - c)^2$ ($c = 1$: "look real").

    Reference: Mao et al. (2017), eq. 2.
    """
    _scores(fake=fake)
    return reduce(0.5 * (fake - c) ** 2, reduction)


# --------------------------------------------------------------------------- Wasserstein
def d_loss_wasserstein(real: torch.Tensor, fake: torch.Tensor, *,
                       reduction: str = "mean") -> torch.Tensor:
    r"""Wasserstein critic loss $D(G(z)) - D(x)$ (the critic maximises $D(x) - D(G(z))$).

    For a 1-Lipschitz critic the maximum of $\mathbb{E}[D(x)] - \mathbb{E}[D(G(z))]$ is the
    Wasserstein-1 distance (Kantorovich–Rubinstein duality). Unbounded and linear in the
    scores: without a Lipschitz constraint (:func:`gradient_penalty`, weight clipping) the
    critic can drive it to $-\infty$.

    Reference: Arjovsky et al. (2017), eq. 3.
    """
    _scores(real=real, fake=fake)
    return _two_terms(-real, fake, reduction)


def g_loss_wasserstein(
    fake: torch.Tensor, *, reduction: str = "mean"
) -> torch.Tensor:
    r"""Wasserstein generator loss $-D(G(z))$: raise the critic's score of the fakes.

    Reference: Arjovsky et al. (2017), algorithm 1.
    """
    _scores(fake=fake)
    return reduce(-fake, reduction)


# --------------------------------------------------------------------------- hinge
def d_loss_hinge(
    real: torch.Tensor, fake: torch.Tensor, *, reduction: str = "mean"
) -> torch.Tensor:
    r"""Hinge discriminator loss $\max(0, 1 - D(x)) + \max(0, 1 + D(G(z)))$.

    A support-vector-machine margin: data scored above $+1$ and fakes below $-1$ cost nothing
    and give no gradient, so the discriminator stops pushing on samples it already separates.

    Reference: Lim & Ye (2017); Miyato et al. (2018), eq. 16.
    """
    _scores(real=real, fake=fake)
    return _two_terms(torch.relu(1 - real), torch.relu(1 + fake), reduction)


def g_loss_hinge(
    fake: torch.Tensor, *, reduction: str = "mean"
) -> torch.Tensor:
    r"""Hinge-GAN generator loss $-D(G(z))$ (no margin on the generator's side).

    The same formula as :func:`g_loss_wasserstein`; it pairs with :func:`d_loss_hinge`.

    Reference: Lim & Ye (2017); Miyato et al. (2018), eq. 17.
    """
    _scores(fake=fake)
    return reduce(-fake, reduction)


# --------------------------------------------------------------------------- penalties
def _input_gradient(critic, x: torch.Tensor) -> torch.Tensor:
    """$\\nabla_x \\sum_i D(x_i)$, one row per sample, kept in the graph (double backward).

    A critic whose scores do not depend on its input has input gradient 0, the derivative of
    a constant (autograd returns None for it, or refuses scores without a graph). Samples of
    shape (N,) are N one-feature samples.
    """
    x = x.detach().requires_grad_(True)
    scores = critic(x)
    gradient = None
    if scores.requires_grad:
        (gradient,) = torch.autograd.grad(scores.sum(), x, create_graph=True, allow_unused=True)
    if gradient is None:  # the critic ignores x: its gradient in x is 0
        gradient = torch.zeros_like(x)
    return gradient.unsqueeze(1) if gradient.dim() == 1 else gradient.flatten(start_dim=1)


def _check_samples(**tensors: torch.Tensor) -> None:
    for name, value in tensors.items():
        check.floating(name, value)
        if value.dim() == 0:
            raise check.ArgumentError(
                f"{name}: expected a batch of samples of shape (N, ...), got a 0-d tensor")


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, *, weight: float = 10.0,
                     epsilon: torch.Tensor | None = None, generator: torch.Generator | None = None,
                     reduction: str = "mean") -> torch.Tensor:
    r"""WGAN-GP penalty $\lambda\,(\lVert \nabla_{\hat x} D(\hat x) \rVert_2 - 1)^2$.

    $\hat x = \epsilon x + (1 - \epsilon)\tilde x$ lies on the segment between a data sample $x$
    and a fake $\tilde x$, with $\epsilon \sim U[0, 1]$ drawn per sample (or given as
    ``epsilon``, shape ``(N,)``). The norm is taken per sample over all its features; the
    gradient is built with ``create_graph=True`` so the penalty trains the critic. A linear
    critic with a unit-norm weight has penalty 0. ``epsilon`` is drawn on the CPU from
    ``generator`` (if given) and moved to ``real``'s device. Samples of shape (N,) are N
    scalars. A critic that ignores its input has gradient 0 there, so its penalty is
    $\lambda$ (a constant: it does not train the critic).

    Reference: Gulrajani et al. (2017), eq. 3 and algorithm 1 ($\lambda = 10$).
    """
    _check_samples(real=real, fake=fake)
    check.same_shape("real", real, "fake", fake)
    if epsilon is None:
        epsilon = torch.rand(real.shape[0], generator=generator, dtype=real.dtype)
    check.floating("epsilon", epsilon)
    check.shape("epsilon", epsilon, (real.shape[0],), "one mixing weight per sample")
    epsilon = epsilon.to(real).view(-1, *[1] * (real.dim() - 1))
    mixed = epsilon * real.detach() + (1 - epsilon) * fake.detach()
    norms = _input_gradient(critic, mixed).norm(dim=1)
    return weight * reduce((norms - 1) ** 2, reduction)


def r1_penalty(critic, real: torch.Tensor, *, gamma: float = 10.0,
               reduction: str = "mean") -> torch.Tensor:
    r"""R1 penalty $\tfrac{\gamma}{2} \lVert \nabla_x D(x) \rVert_2^2$ on data samples.

    Penalises the discriminator's gradient on real data only, pushing it towards zero where the
    data are, which stabilises training near the equilibrium. Add it to the discriminator's
    loss; the gradient is built with ``create_graph=True``. Samples of shape (N,) are N
    scalars; a critic that ignores its input has gradient 0 there, so its penalty is 0.

    Reference: Mescheder et al. (2018), eq. 9.
    """
    _check_samples(real=real)
    squared_norms = _input_gradient(critic, real).pow(2).sum(dim=1)
    return gamma / 2 * reduce(squared_norms, reduction)


# --------------------------------------------------------------------------- cycle consistency
def cycle_consistency_loss(input: torch.Tensor, target: torch.Tensor, *, weight: float = 10.0,
                           reduction: str = "mean") -> torch.Tensor:
    r"""Cycle-consistency loss $\lambda\,\lvert F(G(x)) - x \rvert$, an L1 distance.

    ``input`` is the round trip $F(G(x))$ and ``target`` the original $x$. CycleGAN adds this
    term for both directions, $\lambda\,(\lVert F(G(x)) - x\rVert_1 + \lVert G(F(y)) - y\rVert_1)$:
    call it once per direction. ``'mean'`` averages over every element, as CycleGAN's code
    does; the default $\lambda = 10$ is the paper's.

    Reference: Zhu et al. (2017), eq. 2 and section 4; equal to ``weight * F.l1_loss``.
    """
    _scores(input=input, target=target)
    check.same_shape("input", input, "target", target)
    return weight * reduce((input - target).abs(), reduction)


# --------------------------------------------------------------------------- evaluation
class ModeCoverage(NamedTuple):
    """Result of :func:`mode_coverage`: modes hit, high-quality fraction, per-mode counts."""

    modes_hit: int
    high_quality: float
    counts: torch.Tensor


def mode_coverage(samples: torch.Tensor, centres: torch.Tensor, std: float, *,
                  within: float = 3.0, min_share: float = 0.01,
                  min_count: int = 1) -> ModeCoverage:
    r"""How well samples cover a mixture of isotropic Gaussians with s.d. ``std``.

    A sample is **high quality** when its nearest centre lies within ``within`` standard
    deviations, $\min_k \lVert x - c_k \rVert \le$ ``within`` $\cdot$ ``std``; it then counts
    for that centre. A mode is **hit** when at least a share ``min_share`` of *all* $n$ samples
    counts for it, $\lceil$ ``min_share`` $\cdot\, n \rceil$ samples, and at least ``min_count``
    (default 1 % and one sample: 20 of 2000 samples, against a fair share of 1/8 = 12.5 % on a
    ring of eight; ``min_share=0`` counts a mode hit from ``min_count`` samples on).
    Returns the number of modes hit, the fraction of high-quality samples among all samples,
    and the per-centre counts (CPU ``long``).

    The data themselves score about 0.99: $1 - e^{-9/2} = 98.9\,\%$ of a 2-D Gaussian lies
    within $3\sigma$ of its centre. A generator that collapses onto a few modes hits few; one
    that smears its mass around the ring between the modes has a low high-quality fraction
    (and, once each mode's share falls under ``min_share``, hits none).

    Reference: Srivastava et al. (2017), section 5.1 (VEEGAN: high-quality samples within three
    standard deviations of the nearest mode, and the modes they capture).
    """
    check.floating("samples", samples)
    check.floating("centres", centres)
    if samples.dim() != 2 or centres.dim() != 2 or samples.shape[1] != centres.shape[1]:
        raise check.ArgumentError(
            f"samples: expected shape (n, d) matching centres (modes, d), got "
            f"{tuple(samples.shape)} and {tuple(centres.shape)}")
    check.number("std", std, std > 0, "a positive standard deviation")
    check.number("within", within, within > 0, "a positive number of standard deviations")
    check.number("min_share", min_share, 0 <= min_share <= 1, "a share in [0, 1]")
    check.number("min_count", min_count,
                 isinstance(min_count, int) and not isinstance(min_count, bool)
                 and min_count >= 1, "a positive integer")
    distances = torch.cdist(samples.detach().cpu().double(), centres.detach().cpu().double())
    nearest, which = distances.min(dim=1)
    good = nearest <= within * std  # NaN samples compare False: never high quality
    counts = torch.bincount(which[good], minlength=centres.shape[0])
    n = samples.shape[0]
    high_quality = good.double().mean().item() if n else math.nan
    needed = max(math.ceil(min_share * n - 1e-9), min_count)  # 1e-9: 0.01 * 2000 > 20
    hit = int((counts >= needed).sum())
    return ModeCoverage(hit, high_quality, counts)


_D = "discriminator logits"
_S = "critic scores"
CATALOG = (
    Entry(d_loss_minimax, chapter="11_gan_losses", task="GAN discriminator",
          summary=r"$\mathrm{softplus}(-\ell_r) + \mathrm{softplus}(\ell_f)$",
          reference=None, input_kind=_D, convex=True, bounded=False, robust=True,
          inputs=sample("logits", "logits")),
    Entry(g_loss_minimax, chapter="11_gan_losses", task="GAN generator (saturating)",
          summary=r"$\log(1 - D(G(z))) = -\mathrm{softplus}(\ell_f)$",
          reference=None, input_kind=_D, convex=False, bounded=True, robust=True,
          inputs=sample("logits"), section="saturating-and-non-saturating-generator-losses"),
    Entry(g_loss_nonsaturating, chapter="11_gan_losses", task="GAN generator",
          summary=r"$-\log D(G(z)) = \mathrm{softplus}(-\ell_f)$",
          reference=None, input_kind=_D, convex=True, bounded=False, robust=True,
          inputs=sample("logits"), section="saturating-and-non-saturating-generator-losses"),
    Entry(d_loss_lsgan, chapter="11_gan_losses", task="GAN discriminator (least squares)",
          summary=r"$\frac12 (D(x) - b)^2 + \frac12 (D(G(z)) - a)^2$",
          reference=None, input_kind=_S, convex=True, bounded=False, robust=False,
          inputs=sample("critic_scores", "critic_scores")),
    Entry(g_loss_lsgan, chapter="11_gan_losses", task="GAN generator (least squares)",
          summary=r"$\frac12 (D(G(z)) - c)^2$",
          reference=None, input_kind=_S, convex=True, bounded=False, robust=False,
          inputs=sample("critic_scores")),
    Entry(d_loss_wasserstein, chapter="11_gan_losses", task="WGAN critic",
          summary=r"$D(G(z)) - D(x)$",
          reference=None, input_kind=_S, convex=True, bounded=False, robust=True,
          inputs=sample("critic_scores", "critic_scores")),
    Entry(g_loss_wasserstein, chapter="11_gan_losses", task="WGAN generator",
          summary=r"$-D(G(z))$",
          reference=None, input_kind=_S, convex=True, bounded=False, robust=True,
          inputs=sample("critic_scores")),
    Entry(d_loss_hinge, chapter="11_gan_losses", task="GAN discriminator (hinge)",
          summary=r"$\max(0, 1 - D(x)) + \max(0, 1 + D(G(z)))$",
          reference=None, input_kind=_S, convex=True, bounded=False, robust=True,
          inputs=sample("critic_scores", "critic_scores")),
    Entry(g_loss_hinge, chapter="11_gan_losses", task="GAN generator (hinge)",
          summary=r"$-D(G(z))$",
          reference=None, input_kind=_S, convex=True, bounded=False, robust=True,
          inputs=sample("critic_scores")),
    Entry(gradient_penalty, chapter="11_gan_losses", task="WGAN-GP critic regulariser",
          summary=r"$\lambda (\Vert \nabla D(\hat x) \Vert_2 - 1)^2$",
          reference=None, input_kind="critic and samples", convex=False, bounded=False,
          robust=False,
          inputs=samples.critic("samples", "samples", epsilon="<uniform>")),
    Entry(r1_penalty, chapter="11_gan_losses", task="GAN discriminator regulariser",
          summary=r"$\frac{\gamma}{2} \Vert \nabla D(x) \Vert_2^2$",
          reference=None, input_kind="discriminator and data", convex=True, bounded=False,
          robust=False,
          inputs=samples.critic("samples")),
    Entry(cycle_consistency_loss, chapter="11_gan_losses", task="unpaired translation",
          summary=r"$\lambda \vert F(G(x)) - x \vert$",
          reference=None, input_kind="reconstructions", convex=True, bounded=False,
          robust=True,
          inputs=sample("predictions", "predictions")),
)
