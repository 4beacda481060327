"""Contrastive pre-training losses: SimCLR's NT-Xent, CLIP's symmetric InfoNCE, SigLIP's
pairwise sigmoid loss.

Chapter: *Contrastive representation learning* (``chapters/13_contrastive_pretraining``).

All three score a batch of $N$ pairs by the cosine similarities of their embeddings. The
softmax losses (:func:`nt_xent_loss`, :func:`clip_loss`) are chapter 7's
:func:`lossbook.info_nce_loss` — cross-entropy where each pair is its own class — applied
to every anchor of the batch; :func:`siglip_loss` replaces the softmax over the batch by one
independent logistic regression per pair. Rows are L2-normalised inside every function
(norms clamped at $10^{-12}$, like ``F.normalize``), as the papers' pseudocode does before
the loss; normalising is idempotent, so features that are already unit vectors (what
open_clip's losses expect) give the same value.
"""

from __future__ import annotations

import math

import torch

from lossbook import _checks as check
from lossbook import _samples as samples
from lossbook._numerics import logsumexp, softplus, widened
from lossbook._reduce import reduce
from lossbook.catalog import Entry

BATCHMEAN = (*check.REDUCTIONS, "batchmean")


# --------------------------------------------------------------------------- shared pieces
def _pairs(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    """Two (N, D) floating-point tensors of the same shape: row i of each is pair i."""
    check.floating(name_a, a)
    check.floating(name_b, b)
    if a.dim() != 2:
        raise check.ArgumentError(f"{name_a}: expected shape (N, D), got {tuple(a.shape)}")
    check.same_shape(name_a, a, name_b, b)


def _scalar(name: str, value, like: torch.Tensor, *, positive: bool):
    """A Python number, or a one-element tensor (a learned parameter) as a 0-dim tensor on
    ``like``'s device; a tensor keeps its autograd graph, so a learned temperature or bias
    gets its gradient. ``positive``: the value must be > 0 (NaN passes, to give NaN out).
    """
    if isinstance(value, torch.Tensor):
        check.floating(name, value)
        if value.numel() != 1:
            raise check.ArgumentError(
                f"{name}: expected a number or a one-element tensor, got shape "
                f"{tuple(value.shape)}")
        value = widened(value.reshape(())).to(like.device)
        if positive:
            check.values((name, value, (value > 0) | value.isnan(), "a value > 0"))
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise check.ArgumentTypeError(
            f"{name}: expected a number or a one-element tensor, got {type(value).__name__}")
    check.number(name, value, not positive or value > 0 or math.isnan(value), "a value > 0")
    return value


def _unit_rows(x: torch.Tensor) -> torch.Tensor:
    """Rows divided by their L2 norm (clamped at 1e-12, like ``F.normalize``); float16 and
    bfloat16 are widened to float32 first, since squared norms overflow in half precision."""
    x = widened(x)
    return x / torch.linalg.vector_norm(x, dim=1, keepdim=True).clamp(min=1e-12)


# --------------------------------------------------------------------------- softmax forms
def nt_xent_loss(
    z1: torch.Tensor, z2: torch.Tensor, *, temperature: float = 0.5, reduction: str = "mean"
) -> torch.Tensor:
    r"""SimCLR's NT-Xent (normalised temperature-scaled cross-entropy), Chen et al. (2020), eq. 1.

    The $2N$ rows $z = (z^{(1)}_1, \dots, z^{(1)}_N, z^{(2)}_1, \dots, z^{(2)}_N)$ are two
    views of $N$ examples. Each row $a$ is an anchor whose positive $p(a)$ is the other view of
    its example, and whose $2N - 2$ negatives are every other row (both views of the other
    examples); the anchor itself is left out of the denominator:

    $$\ell_a = -\log \frac{\exp(s_{a,p(a)}/\tau)}{\sum_{k \ne a} \exp(s_{ak}/\tau)},
      \qquad s_{ak} = \cos(z_a, z_k).$$

    This is InfoNCE (:func:`lossbook.info_nce_loss`) with the same-view negatives added.
    ``temperature`` $\tau > 0$ is a number or a one-element tensor (which keeps its gradient).
    ``reduction="none"`` returns the $2N$ losses, the ``z1`` anchors first; ``"mean"`` is the
    paper's $\mathcal L = \frac1{2N}\sum_a \ell_a$, averaging both directions of every pair.
    Computed by log-sum-exp; the self-similarity is excluded by setting its logit to
    $-\infty$ (it is not a candidate, so $e^{-\infty} = 0$ is the exact sum).

    Reference: Chen, Kornblith, Norouzi & Hinton (2020), "A Simple Framework for Contrastive
    Learning of Visual Representations", eq. 1 and Algorithm 1.
    """
    _pairs("z1", z1, "z2", z2)
    tau = _scalar("temperature", temperature, z1, positive=True)
    check.reduction(reduction)
    n = z1.shape[0]
    z = _unit_rows(torch.cat([z1, z2]))
    logits = z @ z.T / tau
    self_pair = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    logits = torch.where(self_pair, -math.inf, logits)  # an anchor is not its own candidate
    partner = torch.arange(2 * n, device=z.device).roll(n)  # a <-> a + N (mod 2N)
    positive = logits.gather(1, partner[:, None]).squeeze(1)
    loss = logsumexp(logits, dim=1) - positive  # -log softmax(logits)[a, p(a)]
    return reduce(loss.to(z1.dtype), reduction)


def clip_loss(
    image_features: torch.Tensor,
    text_features: torch.Tensor,
    *,
    logit_scale,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""CLIP's symmetric InfoNCE over the image–text similarity matrix (Radford et al., 2021).

    With unit rows $x_i$ (images), $y_j$ (texts) and the logits $L_{ij} = t\, x_i \cdot y_j$,
    pair $i$ is the right class of row $i$ (image $\to$ text) and of column $i$
    (text $\to$ image):

    $$\ell^{\mathrm{img}}_i = -\log \frac{e^{L_{ii}}}{\sum_j e^{L_{ij}}}, \qquad
      \ell^{\mathrm{txt}}_i = -\log \frac{e^{L_{ii}}}{\sum_j e^{L_{ji}}}, \qquad
      \mathcal L = \tfrac12\Big(\tfrac1N \sum_i \ell^{\mathrm{img}}_i
                 + \tfrac1N \sum_i \ell^{\mathrm{txt}}_i\Big).$$

    ``logit_scale`` is $t = 1/\tau > 0$ itself (open_clip's convention: the model stores
    $\log t$, initialised to $\log(1/0.07)$, and passes ``logit_scale.exp()``); a tensor keeps
    its gradient. Each direction is :func:`lossbook.info_nce_loss` with temperature $1/t$.
    ``reduction="none"`` returns the $2N$ losses, images first; ``"mean"`` is $\mathcal L$
    above, the mean of the two cross-entropies.

    Reference: Radford et al. (2021), Figure 3; open_clip's ``ClipLoss``.
    """
    _pairs("image_features", image_features, "text_features", text_features)
    scale = _scalar("logit_scale", logit_scale, image_features, positive=True)
    check.reduction(reduction)
    logits = scale * _unit_rows(image_features) @ _unit_rows(text_features).T
    matched = logits.diagonal()
    per_image = logsumexp(logits, dim=1) - matched  # softmax over texts, row by row
    per_text = logsumexp(logits, dim=0) - matched  # softmax over images, column by column
    loss = torch.cat([per_image, per_text])
    return reduce(loss.to(image_features.dtype), reduction)


# --------------------------------------------------------------------------- sigmoid form
def siglip_loss(
    image_features: torch.Tensor,
    text_features: torch.Tensor,
    *,
    logit_scale,
    logit_bias,
    reduction: str = "batchmean",
) -> torch.Tensor:
    r"""SigLIP's pairwise sigmoid loss (Zhai et al., 2023): one logistic regression per pair.

    Every image–text pair $(i, j)$ of the batch is a binary example, positive ($z_{ij} = 1$)
    when $i = j$ and negative ($z_{ij} = -1$) otherwise, with the logit
    $L_{ij} = t\, x_i \cdot y_j + b$ of unit rows $x_i$, $y_j$:

    $$\ell_{ij} = -\log \sigma\big(z_{ij} L_{ij}\big) = \mathrm{softplus}(-z_{ij} L_{ij}),
      \qquad \mathcal L = \frac1N \sum_{i=1}^N \sum_{j=1}^N \ell_{ij}.$$

    No term involves two pairs, so nothing is normalised over the batch. ``logit_scale`` is
    $t > 0$ (the paper learns $t'$ with $t = e^{t'}$, initialised at $t' = \log 10$) and
    ``logit_bias`` is $b$ (initialised at $-10$); tensors keep their gradients.
    ``reduction="none"`` returns the $N \times N$ pair losses; the default ``"batchmean"``
    divides their sum by the batch size $N$, the paper's and open_clip's normalisation;
    ``"mean"`` averages over the $N^2$ pairs and ``"sum"`` adds them.

    Reference: Zhai, Mustafa, Kolesnikov & Beyer (2023), eq. 1 and Algorithm 1;
    open_clip's ``SigLipLoss``.
    """
    _pairs("image_features", image_features, "text_features", text_features)
    scale = _scalar("logit_scale", logit_scale, image_features, positive=True)
    bias = _scalar("logit_bias", logit_bias, image_features, positive=False)
    check.reduction(reduction, BATCHMEAN)
    logits = scale * _unit_rows(image_features) @ _unit_rows(text_features).T + bias
    n = logits.shape[0]
    z = 2 * torch.eye(n, dtype=logits.dtype, device=logits.device) - 1  # +1 on the diagonal
    loss = softplus(-z * logits)  # -log sigmoid(z L), without overflow
    return reduce(loss.to(image_features.dtype), reduction, BATCHMEAN)


# --------------------------------------------------------------------------- catalog
CATALOG = (
    Entry(nt_xent_loss, chapter="13_contrastive_pretraining",
          task="self-supervised contrastive learning (two views)",
          summary=r"$-\log \frac{e^{s_{a,p(a)}/\tau}}{\sum_{k \ne a} e^{s_{ak}/\tau}}$",
          reference=None, input_kind="embeddings", convex=False, bounded=True, robust=True,
          inputs=samples.paired(temperature=0.5)),
    Entry(clip_loss, chapter="13_contrastive_pretraining",
          task="paired-modality contrastive learning",
          summary=r"$\frac12(\mathrm{CE}(tXY^\top, I) + \mathrm{CE}(tYX^\top, I))$",
          reference=None, input_kind="embeddings", convex=False, bounded=True, robust=True,
          inputs=samples.paired(logit_scale=1 / 0.07)),
    Entry(siglip_loss, chapter="13_contrastive_pretraining",
          task="paired-modality contrastive learning",
          summary=r"$\frac1N \sum_{ij} -\log \sigma(z_{ij}(t x_i \cdot y_j + b))$",
          reference=None, input_kind="embeddings", convex=False, bounded=True, robust=True,
          inputs=samples.paired(logit_scale=10.0, logit_bias=-10.0)),
)
