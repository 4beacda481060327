r"""Losses of likelihood-based generative models: the VAE's ELBO and the diffusion objective.

Chapter: *Generative models: the VAE's ELBO and the diffusion objective*
(``chapters/14_vae_diffusion``).

* :func:`gaussian_kl_divergence` — $\mathrm{KL}(\mathcal{N}(\mu, \sigma^2) \,\|\,
  \mathcal{N}(0, 1))$ (or against any diagonal Gaussian), summed over the latent dimensions;
* :func:`elbo_loss` — the negative evidence lower bound of a VAE, reconstruction term plus
  $\beta$ times the KL term, with a Bernoulli or Gaussian decoder;
* :class:`NoiseSchedule` — the forward (noising) process of a denoising diffusion model,
  $\beta_t$, $\alpha_t$, $\bar\alpha_t$, the posterior $q(x_{t-1} \mid x_t, x_0)$ and the
  per-step weights that turn the $\varepsilon$-prediction error into the ELBO;
* :func:`diffusion_loss` — the (weighted) $\varepsilon$-prediction loss;
* :func:`mode_coverage` (:func:`lossbook.gan.mode_coverage`, re-exported) — modes hit and the
  fraction of high-quality samples, for 2-D toy mixtures such as the ring of Gaussians of
  :mod:`lossbook.data.gan`.

Conventions: the first dimension is the batch. A per-sample loss sums over every other
dimension (the data dimensions, or the latent dimensions), because that sum is a log-density;
``reduction='mean'`` then averages over the batch, so it is the loss *per sample* (for images,
nats per image), not per element as in ``torch.nn.functional.mse_loss``.
Time steps follow Ho et al. (2020): $t = 1, \dots, T$, with index 0 standing for the data
itself ($\bar\alpha_0 = 1$).
"""

from __future__ import annotations

import math

import torch

from lossbook import _checks as check
from lossbook._numerics import widened
from lossbook._reduce import reduce
from lossbook._samples import sample
from lossbook.catalog import Depends, Entry

# one implementation of the metric, in the GAN family (chapter 11 defines it), re-exported here
# because chapter 14 scores its diffusion model with it
from lossbook.gan import ModeCoverage, mode_coverage  # noqa: F401
from lossbook.information import binary_cross_entropy_with_logits
from lossbook.likelihood import gaussian_nll_loss

LIKELIHOODS = ("bernoulli", "gaussian")


def _per_sample(loss: torch.Tensor, batch_dims: int) -> torch.Tensor:
    """Sum ``loss`` over every dimension after the first ``batch_dims``."""
    return loss.sum(dim=tuple(range(batch_dims, loss.dim()))) if loss.dim() > batch_dims else loss


# --------------------------------------------------------------------------- KL
def gaussian_kl_divergence(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    prior_mu: torch.Tensor | None = None,
    prior_logvar: torch.Tensor | None = None,
    *,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""$\mathrm{KL}(\mathcal{N}(\mu, \operatorname{diag}\sigma^2) \,\|\,
    \mathcal{N}(\mu_p, \operatorname{diag}\sigma_p^2))$, summed over the last dimension.

    $$\mathrm{KL} = \frac12 \sum_j \Big[\frac{\sigma_j^2 + (\mu_j - \mu_{p,j})^2}{\sigma_{p,j}^2}
      - 1 - \log\frac{\sigma_j^2}{\sigma_{p,j}^2}\Big],$$

    with variances given as log-variances (``logvar`` $= \log\sigma^2$), the way a VAE's
    encoder outputs them. Without a prior the prior is $\mathcal{N}(0, I)$ and the formula is
    $\frac12 \sum_j (\sigma_j^2 + \mu_j^2 - 1 - \log\sigma_j^2)$ (Kingma & Welling 2014,
    appendix B). The ratio $\sigma^2 / \sigma_p^2$ is computed as $e^{\log\sigma^2 -
    \log\sigma_p^2}$, never as a quotient of two exponentials. Shapes: ``mu`` (..., K); the
    others broadcast against it. ``'none'`` returns one KL per row (shape ``mu.shape[:-1]``),
    ``'mean'`` averages the rows, ``'sum'`` adds them. Half-precision inputs are computed in
    float32 and returned in their dtype.

    Reference: ``torch.distributions.kl_divergence`` of two ``Normal`` s, summed over the last
    dimension; Kingma & Welling (2014).
    """
    check.floating("mu", mu)
    check.floating("logvar", logvar)
    check.reduction(reduction)
    _check_broadcast("logvar", logvar, mu)
    if mu.dim() == 0:
        raise check.ArgumentError("mu: expected at least one (latent) dimension, got a scalar")
    m, lv = widened(mu), widened(logvar)
    if prior_mu is not None:
        check.floating("prior_mu", prior_mu)
        _check_broadcast("prior_mu", prior_mu, mu)
        m = m - widened(prior_mu)
    if prior_logvar is None:
        per_dim = 0.5 * (_exp_minus_identity(lv) + m**2 - 1)
    else:
        check.floating("prior_logvar", prior_logvar)
        _check_broadcast("prior_logvar", prior_logvar, mu)
        plv = widened(prior_logvar)
        per_dim = 0.5 * (_exp_minus_identity(lv - plv) + m**2 * torch.exp(-plv) - 1)
    per_dim = per_dim.expand(torch.broadcast_shapes(per_dim.shape, mu.shape))
    return reduce(per_dim.sum(dim=-1), reduction).to(mu.dtype)


def _exp_minus_identity(x: torch.Tensor) -> torch.Tensor:
    """$e^x - x$, which is $+\\infty$ at $x = +\\infty$ (computed naively: inf - inf = NaN).

    The double-``where`` trick keeps the unused branch finite, so the gradient stays clean.
    """
    infinite = x == math.inf
    safe = torch.where(infinite, torch.zeros_like(x), x)
    return torch.where(infinite, x, torch.exp(safe) - safe)


def _check_broadcast(name: str, value: torch.Tensor, mu: torch.Tensor) -> None:
    try:
        shape = torch.broadcast_shapes(value.shape, mu.shape)
    except RuntimeError:
        shape = None
    if shape != mu.shape:
        raise check.ArgumentError(
            f"{name}: shape {tuple(value.shape)} does not broadcast to mu's shape "
            f"{tuple(mu.shape)}")


# --------------------------------------------------------------------------- ELBO
def elbo_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    *,
    beta: float = 1.0,
    likelihood: str = "bernoulli",
    var: torch.Tensor | float = 1.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Negative ELBO of a VAE: $-\log p_\theta(x \mid z) + \beta\,
    \mathrm{KL}(q_\phi(z \mid x) \,\|\, \mathcal{N}(0, I))$, one value per sample.

    ``input`` is the decoder's output for one reparameterised draw
    $z = \mu + \sigma \odot \varepsilon$, ``target`` the data $x$, and ``mu``, ``logvar`` the
    encoder's $q_\phi(z \mid x) = \mathcal{N}(\mu, \operatorname{diag} e^{\text{logvar}})$ of
    shape (N, K) (or (K,) for one sample). The reconstruction term is summed over every data
    dimension of a sample:

    * ``likelihood="bernoulli"``: ``input`` holds logits, the term is
      :func:`lossbook.binary_cross_entropy_with_logits` (targets in [0, 1]; for non-binary
      targets such as grey levels it is a cross-entropy, not a normalised log-density);
    * ``likelihood="gaussian"``: ``input`` is the mean, ``var`` the decoder's variance
      (a float or a tensor, as in :func:`lossbook.gaussian_nll_loss`), and the term is the
      full Gaussian negative log-likelihood, $\tfrac12\log 2\pi\sigma^2$ included.

    With $\beta = 1$ the result is the negative ELBO, an upper bound on $-\log p_\theta(x)$
    in nats (for a single draw of $z$, an unbiased estimate of it); $\beta \ne 1$ is the
    $\beta$-VAE objective of Higgins et al. (2017). ``'mean'`` averages over the batch.

    Reference: Kingma & Welling (2014), eq. 10; Higgins et al. (2017), eq. 4.
    """
    check.floating("input", input)
    check.floating("target", target)
    check.same_shape("input", input, "target", target)
    check.floating("mu", mu)
    check.same_shape("mu", mu, "logvar", logvar)
    check.reduction(reduction)
    check.number("beta", beta, isinstance(beta, (int, float)) and beta >= 0,
                 "a non-negative number")
    if likelihood not in LIKELIHOODS:
        raise check.ArgumentError(
            f"likelihood: expected 'bernoulli' or 'gaussian', got {likelihood!r}")
    batch = mu.shape[:-1]
    if mu.dim() == 0 or tuple(input.shape[:len(batch)]) != tuple(batch):
        raise check.ArgumentError(
            f"mu: expected shape (N, K) whose N matches input's first dimension, got "
            f"{tuple(mu.shape)} for input {tuple(input.shape)}")
    if likelihood == "bernoulli":
        nll = binary_cross_entropy_with_logits(input, target, reduction="none")
    else:
        nll = gaussian_nll_loss(input, target, var, full=True, reduction="none")
    reconstruction = _per_sample(widened(nll), len(batch))
    kl = gaussian_kl_divergence(widened(mu), widened(logvar), reduction="none")
    return reduce(reconstruction + beta * kl, reduction).to(input.dtype)


# --------------------------------------------------------------------------- diffusion
def _at(values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``values[t]`` on ``like``'s device and dtype, shaped to broadcast over its data dims."""
    picked = values.to(device=like.device, dtype=like.dtype)[t.to(like.device)]
    return picked.view(*t.shape, *[1] * (like.dim() - t.dim()))


class NoiseSchedule:
    r"""The forward process of a denoising diffusion model (Ho et al. 2020, section 2).

    $q(x_t \mid x_{t-1}) = \mathcal{N}(\sqrt{1 - \beta_t}\, x_{t-1}, \beta_t I)$ for
    $t = 1, \dots, T$. With $\alpha_t = 1 - \beta_t$ and $\bar\alpha_t = \prod_{s \le t}
    \alpha_s$ the marginal is closed-form (eq. 4),

    $$ q(x_t \mid x_0) = \mathcal{N}(\sqrt{\bar\alpha_t}\, x_0, (1 - \bar\alpha_t) I),
       \qquad x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\, \varepsilon. $$

    ``betas``, ``alphas``, ``alphas_bar`` and ``posterior_variance`` ($\tilde\beta_t$, see
    :meth:`posterior`) have length $T + 1$ and are indexed by the paper's $t$: entry 0 is the
    data ($\beta_0 = 0$, $\bar\alpha_0 = 1$). They are float64
    CPU tensors; the methods move what they pick to the device and dtype of their inputs.
    Build one from ``betas`` for $t = 1..T$, or with :meth:`linear` or :meth:`cosine`.
    """

    def __init__(self, betas: torch.Tensor):
        check.floating("betas", betas)
        if betas.dim() != 1 or betas.numel() == 0:
            raise check.ArgumentError(
                f"betas: expected a non-empty 1-D tensor (beta_1..beta_T), got shape "
                f"{tuple(betas.shape)}")
        check.values(("betas", betas, (betas > 0) & (betas < 1), "values in (0, 1)"))
        zero = torch.zeros(1, dtype=torch.float64)
        self.betas = torch.cat([zero, betas.detach().double().cpu()])
        self.alphas = 1 - self.betas
        self.alphas_bar = torch.cumprod(self.alphas, dim=0)
        previous = torch.cat([zero + 1, self.alphas_bar[:-1]])  # alpha_bar_{t-1}
        self.posterior_variance = (1 - previous) / (1 - self.alphas_bar).clamp(min=1e-300) * (
            self.betas)  # beta~_t of eq. 7; 0 at t = 0 and t = 1

    @property
    def steps(self) -> int:
        """$T$, the number of noising steps."""
        return self.betas.numel() - 1

    @classmethod
    def linear(cls, steps: int = 1000, beta_start: float = 1e-4,
               beta_end: float = 0.02) -> NoiseSchedule:
        r"""$\beta_t$ linear from ``beta_start`` to ``beta_end`` (Ho et al. 2020: $T = 1000$,
        $10^{-4}$ to $0.02$)."""
        check.number("steps", steps, isinstance(steps, int) and steps >= 1, "an integer >= 1")
        return cls(torch.linspace(beta_start, beta_end, steps, dtype=torch.float64))

    @classmethod
    def cosine(cls, steps: int, s: float = 0.008, max_beta: float = 0.999) -> NoiseSchedule:
        r"""$\bar\alpha_t = f(t) / f(0)$ with $f(t) = \cos^2\big(\frac{t/T + s}{1 + s}
        \frac{\pi}{2}\big)$, $\beta_t = 1 - \bar\alpha_t / \bar\alpha_{t-1}$ clipped at
        ``max_beta`` (Nichol & Dhariwal 2021, eq. 17)."""
        check.number("steps", steps, isinstance(steps, int) and steps >= 1, "an integer >= 1")
        t = torch.arange(steps + 1, dtype=torch.float64) / steps
        f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
        return cls((1 - f[1:] / f[:-1]).clamp(max=max_beta))

    def snr(self, t: torch.Tensor | None = None) -> torch.Tensor:
        r"""Signal-to-noise ratio $\mathrm{SNR}(t) = \bar\alpha_t / (1 - \bar\alpha_t)$
        (Kingma et al. 2021); infinite at $t = 0$. All $T + 1$ values when ``t`` is None."""
        values = self.alphas_bar / (1 - self.alphas_bar)
        return values if t is None else values[t]

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        r"""$x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\, \varepsilon$ with one
        step ``t`` (integer, shape (N,)) per sample of ``x0`` (N, ...) (Ho et al., eq. 4)."""
        check.floating("x0", x0)
        check.same_shape("x0", x0, "noise", noise)
        check.integer("t", t, "time steps")
        a = _at(self.alphas_bar, t, x0)
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def posterior(self, x0: torch.Tensor, xt: torch.Tensor,
                  t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Mean and variance of $q(x_{t-1} \mid x_t, x_0)$ (Ho et al., eqs. 6–7):

        $$\tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1 - \bar\alpha_t}\, x_0
          + \frac{\sqrt{\alpha_t}\,(1 - \bar\alpha_{t-1})}{1 - \bar\alpha_t}\, x_t, \qquad
          \tilde\beta_t = \frac{1 - \bar\alpha_{t-1}}{1 - \bar\alpha_t}\,\beta_t.$$

        ``t`` must be at least 1; at $t = 1$ the posterior is the point $x_0$ (variance 0).
        """
        check.integer("t", t, "time steps")
        check.values(("t", t, (t >= 1) & (t <= self.steps), f"steps in [1, {self.steps}]"))
        a_bar, a_bar_prev = _at(self.alphas_bar, t, xt), _at(self.alphas_bar, t - 1, xt)
        beta, alpha = _at(self.betas, t, xt), _at(self.alphas, t, xt)
        mean = (a_bar_prev.sqrt() * beta * x0 + alpha.sqrt() * (1 - a_bar_prev) * xt) / (
            1 - a_bar)
        return mean, _at(self.posterior_variance, t, xt)

    def mean_from_noise(self, xt: torch.Tensor, eps: torch.Tensor,
                        t: torch.Tensor) -> torch.Tensor:
        r"""The reverse mean in the $\varepsilon$-parameterisation (Ho et al., eq. 11):
        $\mu_\theta = \frac{1}{\sqrt{\alpha_t}}\big(x_t - \frac{\beta_t}{\sqrt{1 - \bar\alpha_t}}
        \varepsilon_\theta\big)$. With the true $\varepsilon$ it is $\tilde\mu_t$."""
        check.integer("t", t, "time steps")
        beta, alpha = _at(self.betas, t, xt), _at(self.alphas, t, xt)
        return (xt - beta / (1 - _at(self.alphas_bar, t, xt)).sqrt() * eps) / alpha.sqrt()

    def elbo_weights(self, variance: str = "beta") -> torch.Tensor:
        r"""The weight $w_t$ of $\lVert \varepsilon - \varepsilon_\theta \rVert^2$ in the
        ELBO's term $L_{t-1}$ (Ho et al., eq. 12), for $t = 0..T$ (entry 0 is NaN):

        $$ w_t = \frac{\beta_t^2}{2\sigma_t^2\,\alpha_t\,(1 - \bar\alpha_t)}. $$

        ``variance`` picks the reverse process's fixed variance $\sigma_t^2$:

        * ``"beta"``: $\sigma_t^2 = \beta_t$, so $w_t = \beta_t / (2\alpha_t(1 - \bar\alpha_t))$;
          finite for every $t \ge 1$, and at $t = 1$ it is the decoder term's $1/(2\alpha_1)$;
        * ``"posterior"``: $\sigma_t^2 = \tilde\beta_t$, so $w_t = \beta_t / (2\alpha_t(1 -
          \bar\alpha_{t-1})) = \tfrac12(\mathrm{SNR}(t-1)/\mathrm{SNR}(t) - 1)$, the
          signal-to-noise form of Kingma et al. (2021); infinite at $t = 1$, where
          $\tilde\beta_1 = 0$.

        :func:`diffusion_loss` with ``weights=w[t]`` is then the KL term up to a constant;
        without weights it is Ho et al.'s $L_{\text{simple}}$.
        """
        if variance == "beta":
            denominator = 1 - self.alphas_bar
        elif variance == "posterior":
            denominator = torch.cat([torch.ones(1, dtype=torch.float64), 1 - self.alphas_bar[:-1]])
        else:
            raise check.ArgumentError(
                f"variance: expected 'beta' or 'posterior', got {variance!r}")
        weights = self.betas / (2 * self.alphas * denominator)
        weights[0] = math.nan
        return weights


def diffusion_loss(
    eps_pred: torch.Tensor,
    eps: torch.Tensor,
    *,
    weights: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""$\varepsilon$-prediction loss $w_t \lVert \varepsilon - \varepsilon_\theta(x_t, t)
    \rVert^2$, the squared error summed over each sample's data dimensions.

    ``eps_pred`` is the network's prediction and ``eps`` the noise that made
    $x_t = \sqrt{\bar\alpha_t} x_0 + \sqrt{1 - \bar\alpha_t} \varepsilon$; shape (N, ...),
    one sample per row. Without ``weights`` this is Ho et al.'s $L_{\text{simple}}$ (eq. 14;
    their code averages over the data dimensions instead of summing, a constant factor). With
    ``weights`` (shape (N,), e.g. ``schedule.elbo_weights()[t]``) each sample's error is
    weighted, which gives the ELBO's terms $L_{t-1}$ up to constants
    (:meth:`NoiseSchedule.elbo_weights`). ``'mean'`` averages over the batch.

    Reference: Ho et al. (2020), eqs. 12 and 14; equal to ``F.mse_loss(eps_pred, eps,
    reduction='none')`` summed over the data dimensions.
    """
    check.floating("eps_pred", eps_pred)
    check.floating("eps", eps)
    check.same_shape("eps_pred", eps_pred, "eps", eps)
    check.reduction(reduction)
    if eps.dim() == 0:
        raise check.ArgumentError("eps: expected a batch dimension (N, ...), got a scalar")
    squared = _per_sample((widened(eps_pred) - widened(eps)) ** 2, 1)  # float32 for halves
    if weights is not None:
        check.floating("weights", weights)
        check.shape("weights", weights, (eps.shape[0],), "one weight per sample")
        squared = widened(weights) * squared
    return reduce(squared, reduction).to(eps.dtype)


# --------------------------------------------------------------------------- catalog
_CHAPTER = "14_vae_diffusion"
CATALOG = (
    Entry(gaussian_kl_divergence, chapter=_CHAPTER, task="VAE latent regulariser",
          summary=r"$\frac12 \sum_j (\sigma_j^2 + \mu_j^2 - 1 - \log \sigma_j^2)$",
          reference="torch.distributions.kl.kl_divergence", input_kind="means and log-variances",
          convex=True, bounded=False, robust=False, inputs=sample("embeddings", "log_variances")),
    Entry(elbo_loss, chapter=_CHAPTER, task="variational autoencoder",
          summary=r"$-\log p(x \mid z) + \beta\, \mathrm{KL}(q(z \mid x) \Vert p(z))$",
          reference=None, input_kind="decoder logits or means",
          convex=True, bounded=False, robust=None,
          inputs=sample("predictions", "probabilities", "embeddings", "log_variances",
                        beta=1.0),
          depends=(Depends("robust", holds={"likelihood": "bernoulli"},
                           fails={"likelihood": "gaussian"}),)),
    Entry(diffusion_loss, chapter=_CHAPTER, task="denoising diffusion",
          summary=r"$w_t \Vert \varepsilon - \varepsilon_\theta(x_t, t) \Vert^2$",
          reference=None, input_kind="predicted noise",
          convex=True, bounded=False, robust=False, inputs=sample("features", "features")),
)
