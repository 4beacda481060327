"""Embedding (metric-learning) losses: distances between learned vectors, pairs and triplets.

Chapter: *Embedding losses* (``chapters/07_embedding_losses``).

These losses do not score a class; they shape a space. Similar inputs should land close
together, dissimilar ones far apart, measured by a distance (:func:`pairwise_distance`) or a
cosine. Torch-named functions keep ``torch.nn.functional``'s names, argument order, defaults
and reductions; :func:`batch_all` and :func:`batch_hard` choose the triplets of a labelled
batch for :func:`triplet_margin_loss`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from lossbook import _checks as check
from lossbook._numerics import (
    broadcastable,
    clamp_value_only,
    full_precision,
    logsumexp,
    widened,
)
from lossbook._reduce import reduce
from lossbook._samples import sample
from lossbook.catalog import Depends, Entry


# --------------------------------------------------------------------------- distances
def pairwise_distance(
    x1: torch.Tensor, x2: torch.Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> torch.Tensor:
    r"""$d(x_1, x_2) = \lVert x_1 - x_2 + \varepsilon \rVert_p$ along the last dimension.

    torch's convention: ``eps`` is added to every component of the *difference*, not to the
    norm, so identical vectors are $\varepsilon D^{1/p}$ apart (not 0) and the gradient of the
    norm, $\mathrm{sign}(d)\,|d|^{p-1} / \lVert d \rVert_p^{p-1}$, is never $0/0$. Inputs
    broadcast, (N, D) against (N, D) or (D,) giving (N,). Any real ``p`` is accepted, as in
    torch: ``p = 0`` counts the non-zero components, a negative ``p`` is
    $(\sum_i |d_i|^p)^{1/p}$ (not a norm), ``inf`` the largest component.

    Reference: ``torch.nn.functional.pairwise_distance``.
    """
    check.floating("x1", x1)
    check.floating("x2", x2)
    return torch.linalg.vector_norm(x1 - x2 + eps, ord=p, dim=-1, keepdim=keepdim)


def cosine_similarity(
    x1: torch.Tensor, x2: torch.Tensor, dim: int = 1, eps: float = 1e-8
) -> torch.Tensor:
    r"""$\cos(x_1, x_2) = \frac{x_1}{\max(\lVert x_1 \rVert_2, \varepsilon)} \cdot
    \frac{x_2}{\max(\lVert x_2 \rVert_2, \varepsilon)}$ along ``dim``.

    torch 2's convention: each vector is divided by its own norm *before* the dot product
    (so the result stays in [-1, 1]), and each norm is clamped below at ``eps`` separately
    (torch 1 clamped the product of the norms). A zero vector therefore has cosine 0 with
    everything. The clamp acts on the value only, as torch's (taken under ``no_grad``) does.
    Inputs broadcast against each other.

    Reference: ``torch.nn.functional.cosine_similarity``.
    """
    check.floating("x1", x1)
    check.floating("x2", x2)
    check.number("eps", eps, eps >= 0, "a value >= 0")
    broadcastable("x2", x2, "x1", x1)
    x1, x2 = torch.broadcast_tensors(x1, x2)
    norm1 = clamp_value_only(torch.linalg.vector_norm(x1, dim=dim, keepdim=True), eps)
    norm2 = clamp_value_only(torch.linalg.vector_norm(x2, dim=dim, keepdim=True), eps)
    return ((x1 / norm1) * (x2 / norm2)).sum(dim=dim)


def pdist(input: torch.Tensor, p: float = 2) -> torch.Tensor:
    r"""$\lVert x_i - x_j \rVert_p$ for every pair of rows $i < j$ of ``input`` (N, M).

    The upper triangle of the (N, N) distance matrix read row by row — $(0, 1), (0, 2),
    \dots, (1, 2), \dots$ — so $N(N-1)/2$ values, in the order of
    ``scipy.spatial.distance.pdist``. ``p >= 0``; no ``eps`` is added (unlike
    :func:`pairwise_distance`), and identical rows are at distance 0 with gradient 0.

    Reference: ``torch.nn.functional.pdist``; ``scipy.spatial.distance.pdist``.
    """
    check.floating("input", input)
    if input.dim() != 2:
        raise check.ArgumentError(f"input: expected shape (N, M), got {tuple(input.shape)}")
    check.number("p", p, p >= 0, "a norm order >= 0")
    n = input.shape[0]
    i, j = torch.triu_indices(n, n, offset=1, device=input.device)
    return torch.linalg.vector_norm(input[i] - input[j], ord=p, dim=-1)


def _check_triplet(anchor, positive, negative, margin):
    check.floating("anchor", anchor)
    check.floating("positive", positive)
    check.floating("negative", negative)
    check.same_shape("anchor", anchor, "positive", positive)
    check.same_shape("anchor", anchor, "negative", negative)
    if not margin > 0:
        raise check.ArgumentError(f"margin: expected a value > 0, got {margin}")


# --------------------------------------------------------------------------- triplets
def triplet_margin_loss(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negative: torch.Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Triplet loss $\ell = \max(0,\ d(a, p) - d(a, n) + m)$ (Weinberger & Saul; Schroff et al.).

    The positive must be closer to the anchor than the negative is, by at least the margin
    $m > 0$ (torch raises for $m \le 0$). $d$ is :func:`pairwise_distance` with norm ``p`` and
    ``eps``. With ``swap=True`` the negative's distance is $\min(d(a, n), d(p, n))$, the
    harder of the two (Balntas et al., 2016). Inputs are (D,) or (N, D), all the same shape.
    Half-precision inputs are compared in float32: the loss is a small difference of two
    large distances, which bfloat16's 8 bits would round away.

    Reference: ``torch.nn.functional.triplet_margin_loss``; Schroff et al. (2015).
    """
    _check_triplet(anchor, positive, negative, margin)
    check.reduction(reduction)
    dtype = anchor.dtype
    anchor, positive, negative = widened(anchor), widened(positive), widened(negative)
    d_positive = pairwise_distance(anchor, positive, p, eps)
    d_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_negative = torch.minimum(d_negative, pairwise_distance(positive, negative, p, eps))
    return reduce((d_positive - d_negative + margin).clamp(min=0), reduction).to(dtype)


def triplet_margin_with_distance_loss(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negative: torch.Tensor,
    *,
    distance_function: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Triplet loss $\max(0,\ d(a, p) - d(a, n) + m)$ with any distance $d$.

    ``distance_function(x1, x2)`` returns one non-negative distance per row (e.g.
    ``lambda x, y: 1 - cosine_similarity(x, y)``); the default is :func:`pairwise_distance`.
    ``swap`` and the $m > 0$ requirement are as in :func:`triplet_margin_loss`. With the
    default distance, half-precision inputs are compared in float32 (as in
    :func:`triplet_margin_loss`); a ``distance_function`` receives the inputs as given.

    Reference: ``torch.nn.functional.triplet_margin_with_distance_loss``.
    """
    _check_triplet(anchor, positive, negative, margin)
    check.reduction(reduction)
    dtype = anchor.dtype
    if distance_function is None:  # the difference of two large distances: float32 for half
        anchor, positive, negative = widened(anchor), widened(positive), widened(negative)
    distance = distance_function if distance_function is not None else pairwise_distance
    d_positive = distance(anchor, positive)
    d_negative = distance(anchor, negative)
    if swap:
        d_negative = torch.minimum(d_negative, distance(positive, negative))
    loss = reduce((d_positive - d_negative + margin).clamp(min=0), reduction)
    return loss.to(dtype) if distance_function is None else loss


# --------------------------------------------------------------------------- mining
def _labels_of(embeddings: torch.Tensor | None, labels: torch.Tensor) -> None:
    check.integer("labels", labels, "labels")
    if labels.dim() != 1:
        raise check.ArgumentError(f"labels: expected shape (N,), got {tuple(labels.shape)}")
    if embeddings is not None:
        check.floating("embeddings", embeddings)
        if embeddings.dim() != 2 or embeddings.shape[0] != labels.shape[0]:
            raise check.ArgumentError(f"embeddings: expected shape ({labels.shape[0]}, D) "
                             f"(one row per label), got {tuple(embeddings.shape)}")


def batch_all(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Every valid triplet of a labelled batch: indices ``(a, p, n)`` with $a \ne p$,
    ``labels[p] == labels[a]`` and ``labels[n] != labels[a]``.

    A batch of $P$ classes with $K$ samples each has $PK(K-1)(PK-K)$ of them. Feed
    ``embeddings[a], embeddings[p], embeddings[n]`` to :func:`triplet_margin_loss`; Hermans et
    al. (2017) average the loss over the triplets that are not already satisfied.

    Reference: Hermans, Beyer & Leibe (2017), "batch all".
    """
    _labels_of(None, labels)
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    not_self = ~torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    valid = (same & not_self).unsqueeze(2) & ~same.unsqueeze(1)  # valid[a, p, n]
    a, p, n = valid.nonzero(as_tuple=True)
    return a, p, n


def batch_hard(
    embeddings: torch.Tensor, labels: torch.Tensor, p: float = 2.0, eps: float = 1e-6
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""For each anchor, its **hardest** positive and negative: indices ``(a, p, n)``.

    The hardest positive is the farthest sample of the anchor's class, the hardest negative
    the closest sample of another class, by :func:`pairwise_distance` (norm ``p``, ``eps``).
    Anchors with no positive or no negative in the batch are left out. The choice is made
    without gradient; the loss on the chosen triplets carries it.

    Reference: Hermans, Beyer & Leibe (2017), "batch hard".
    """
    _labels_of(embeddings, labels)
    with torch.no_grad():
        distances = pairwise_distance(embeddings.unsqueeze(1), embeddings.unsqueeze(0), p, eps)
        same = labels.unsqueeze(0) == labels.unsqueeze(1)
        not_self = ~torch.eye(len(labels), dtype=torch.bool, device=labels.device)
        positives, negatives = same & not_self, ~same
        inf = torch.full_like(distances, math.inf)
        hardest_positive = torch.where(positives, distances, -inf).argmax(dim=1)
        hardest_negative = torch.where(negatives, distances, inf).argmin(dim=1)
        usable = positives.any(dim=1) & negatives.any(dim=1)
    anchors = usable.nonzero(as_tuple=True)[0]
    return anchors, hardest_positive[anchors], hardest_negative[anchors]


# --------------------------------------------------------------------------- pairs
def cosine_embedding_loss(
    input1: torch.Tensor,
    input2: torch.Tensor,
    target: torch.Tensor,
    margin: float = 0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""$\ell = 1 - \cos(x_1, x_2)$ if $y = 1$, $\max(0,\ \cos(x_1, x_2) - m)$ if $y = -1$.

    Similar pairs are charged for any angle between them; dissimilar pairs only once their
    cosine exceeds the margin $m \in [-1, 1]$ (0 by default: orthogonal is far enough). As in
    torch, $\cos = \langle x_1, x_2\rangle / \sqrt{(\lVert x_1\rVert^2 + \epsilon)
    (\lVert x_2\rVert^2 + \epsilon)}$ with $\epsilon = 10^{-12}$, so a zero vector has cosine 0
    with everything and a finite gradient, and a target outside {-1, +1} contributes 0.
    Inputs (N, D) with targets (N,), or (D,) with a () target.

    Reference: ``torch.nn.functional.cosine_embedding_loss``.
    """
    check.floating("input1", input1)
    check.floating("input2", input2)
    check.same_shape("input1", input1, "input2", input2)
    check.tensor("target", target)
    check.shape("target", target, input1.shape[:-1], "one target per pair")
    check.reduction(reduction)
    epsilon = 1e-12  # keeps 0 / 0 away from zero vectors
    x1, x2 = widened(input1), widened(input2)  # float16: the product of norms overflows
    dot = (x1 * x2).sum(dim=-1)
    norms = torch.sqrt(((x1 ** 2).sum(dim=-1) + epsilon) * ((x2 ** 2).sum(dim=-1) + epsilon))
    cos = dot / norms
    zero = torch.zeros_like(cos)
    loss = (torch.where(target == 1, 1 - cos, zero)
            + torch.where(target == -1, (cos - margin).clamp(min=0), zero))
    return reduce(loss, reduction).to(input1.dtype)


def contrastive_loss(
    input1: torch.Tensor,
    input2: torch.Tensor,
    target: torch.Tensor,
    *,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Contrastive loss (Hadsell, Chopra & LeCun, 2006) on a pair at distance $d$:

    $$\ell = \tfrac12 d^2 \text{ if } y = 1 \text{ (similar)}, \qquad
      \ell = \tfrac12 \max(0,\ m - d)^2 \text{ if } y = -1 \text{ (dissimilar)}.$$

    $d$ is :func:`pairwise_distance` (norm ``p``, ``eps``). Targets are ±1 like torch's pair
    losses (:func:`cosine_embedding_loss`, ``hinge_embedding_loss``); the paper writes
    $Y = 0$ for similar and $Y = 1$ for dissimilar pairs. Inputs (N, D) with targets (N,).

    Reference: Hadsell, Chopra & LeCun (2006), eq. 4.
    """
    check.floating("input1", input1)
    check.floating("input2", input2)
    check.same_shape("input1", input1, "input2", input2)
    check.tensor("target", target)
    check.shape("target", target, input1.shape[:-1], "one target per pair")
    check.values_in("target", target, (-1, 1))
    check.reduction(reduction)
    d = pairwise_distance(input1, input2, p, eps)
    loss = torch.where(target == 1, d ** 2, torch.relu(margin - d) ** 2) / 2
    return reduce(loss, reduction)


def info_nce_loss(
    query: torch.Tensor, key: torch.Tensor, *, temperature: float = 0.1, reduction: str = "mean"
) -> torch.Tensor:
    r"""InfoNCE with in-batch negatives (van den Oord et al., 2018; SimCLR; CLIP):

    $$\ell_i = -\log \frac{\exp(s_{ii} / \tau)}{\sum_{j} \exp(s_{ij} / \tau)}, \qquad
      s_{ij} = \cos(q_i, k_j).$$

    Row $i$ of ``key`` is the positive for row $i$ of ``query``; the other $N - 1$ keys are its
    negatives. This is the cross-entropy of the similarity logits $s / \tau$ with targets
    $0, 1, \dots, N - 1$, computed by log-sum-exp. The temperature $\tau > 0$ sets how sharply
    the hardest negatives dominate. Rows are L2-normalised (norms clamped at $10^{-12}$, like
    ``F.normalize``). CLIP's loss averages this and the same with query and key swapped.

    Reference: van den Oord, Li & Vinyals (2018); Chen et al. (2020).
    """
    check.floating("query", query)
    check.floating("key", key)
    if query.dim() != 2:
        raise check.ArgumentError(f"query: expected shape (N, D), got {tuple(query.shape)}")
    check.same_shape("query", query, "key", key)
    check.reduction(reduction)
    if not temperature > 0:
        raise check.ArgumentError(f"temperature: expected a value > 0, got {temperature}")
    q = query / torch.linalg.vector_norm(query, dim=1, keepdim=True).clamp(min=1e-12)
    k = key / torch.linalg.vector_norm(key, dim=1, keepdim=True).clamp(min=1e-12)
    with full_precision(q):  # under autocast a matrix product would run in half precision
        logits = q @ k.T / temperature
    loss = logsumexp(logits, dim=1) - logits.diagonal()  # -log softmax(logits)[i, i]
    return reduce(loss, reduction)


def _cosine_distance(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """$1 - \\cos(x_1, x_2)$, at most 2: with it the triplet loss is bounded (see CATALOG)."""
    return 1 - torch.cosine_similarity(x1, x2, dim=-1)


CATALOG = (
    Entry(pairwise_distance, chapter="07_embedding_losses", task="distance between embeddings",
          summary=r"$\lVert x_1 - x_2 + \varepsilon \rVert_p$",
          # torch's pairwise_distance is a builtin without an inspectable signature, which
          # the catalog's signature test cannot read; tests/test_embedding.py compares it.
          reference=None, input_kind="embeddings", convex=None, bounded=False, robust=True,
          inputs=sample("embeddings", "embeddings"),
          depends=(Depends("convex", holds={"p": 2.0}, fails={"p": 0.5}),)),
    Entry(cosine_similarity, chapter="07_embedding_losses", task="similarity of embeddings",
          summary=r"$\frac{x_1 \cdot x_2}{\max(\lVert x_1 \rVert, \varepsilon)"
                  r"\max(\lVert x_2 \rVert, \varepsilon)}$",
          # a builtin without an inspectable signature, like pairwise_distance;
          # tests/test_torch_conformance.py compares it with torch on op_db's samples.
          reference=None, input_kind="embeddings", convex=False, bounded=True, robust=True,
          inputs=sample("embeddings", "embeddings")),
    Entry(pdist, chapter="07_embedding_losses", task="distances within a batch",
          summary=r"$\lVert x_i - x_j \rVert_p$ for every pair $i < j$",
          reference=None, input_kind="embeddings", convex=None, bounded=False, robust=True,
          inputs=sample("embeddings"),
          depends=(Depends("convex", holds={"p": 2.0}, fails={"p": 0.5}),)),
    Entry(triplet_margin_loss, chapter="07_embedding_losses", task="metric learning (triplets)",
          summary=r"$\max(0, d(a, p) - d(a, n) + m)$",
          reference="torch.nn.functional.triplet_margin_loss", input_kind="embeddings",
          convex=False, bounded=False, robust=True,
          inputs=sample("embeddings", "embeddings", "embeddings")),
    Entry(triplet_margin_with_distance_loss, chapter="07_embedding_losses",
          task="metric learning (triplets)", summary=r"$\max(0, d(a, p) - d(a, n) + m)$, any $d$",
          reference="torch.nn.functional.triplet_margin_with_distance_loss",
          input_kind="embeddings", convex=False, bounded=None, robust=True,
          inputs=sample("embeddings", "embeddings", "embeddings"),
          depends=(Depends("bounded", holds={"distance_function": _cosine_distance},
                           fails={"distance_function": None}),)),
    Entry(cosine_embedding_loss, chapter="07_embedding_losses", task="metric learning (pairs)",
          summary=r"$1 - \cos$ if $y = 1$, $\max(0, \cos - m)$ if $y = -1$",
          reference="torch.nn.functional.cosine_embedding_loss", input_kind="embeddings",
          convex=False, bounded=True, robust=True,
          inputs=sample("embeddings", "embeddings", "row_signs")),
    Entry(contrastive_loss, chapter="07_embedding_losses", task="metric learning (pairs)",
          summary=r"$\frac12 d^2$ if $y = 1$, $\frac12 \max(0, m - d)^2$ if $y = -1$",
          reference=None, input_kind="embeddings", convex=False, bounded=False, robust=False,
          inputs=sample("embeddings", "embeddings", "row_signs")),
    Entry(info_nce_loss, chapter="07_embedding_losses",
          task="contrastive representation learning",
          summary=r"$-\log \frac{e^{s_{ii}/\tau}}{\sum_j e^{s_{ij}/\tau}}$", reference=None,
          input_kind="embeddings", convex=False, bounded=True, robust=True,
          inputs=sample("embeddings", "embeddings")),
)
