"""Learning to rank: losses on whole lists of scores, and the ranking metrics they approximate.

Chapter: *Learning to rank* (``chapters/07b_learning_to_rank``).

A query comes with a list of documents; a model gives each document a score, and the list is
shown sorted by score. Every function here takes lists as (Q, n) tensors — Q queries, n
documents each — with (Q, n) relevance labels (larger is more relevant) and an optional (Q, n)
boolean ``mask`` that is True for real documents and False for the padding of shorter lists.

* pairwise: :func:`ranknet_loss` (Burges et al., 2005) and :func:`lambdarank_loss` (Burges,
  2010); the margin ranking hinge of the margin chapter, ``lossbook.margin_ranking_loss``,
  applies to the pairs :func:`ordered_pairs` lists;
* listwise: :func:`listnet_loss` (Cao et al., 2007) and :func:`listmle_loss` (Xia et al.,
  2008);
* metrics: :func:`ndcg` (Järvelin & Kekäläinen, 2002; equal to ``sklearn.metrics.ndcg_score``,
  ties included) and :func:`mrr`.

Each loss returns one value per query for ``reduction="none"``; ``"mean"`` averages over
queries and ``"sum"`` adds them up.
"""

from __future__ import annotations

import math

import torch

from lossbook import _checks as check
from lossbook._numerics import log_softmax, softmax, softplus, widened
from lossbook._reduce import reduce
from lossbook._samples import ranked_lists
from lossbook.catalog import Entry


# --------------------------------------------------------------------------- inputs
def _lists(scores, relevance, mask, *, gains: bool = False, nonempty: bool = False):
    """Validate a batch of lists; return (scores, relevance, mask) in a common float dtype.

    ``gains``: relevance is used as a gain and must be >= 0 (as in sklearn's ndcg_score).
    ``nonempty``: every query needs at least one real document (a listwise loss of an empty
    list has no value).
    """
    check.floating("scores", scores)
    check.tensor("relevance", relevance)
    if relevance.is_complex() or relevance.dtype == torch.bool:
        raise check.ArgumentTypeError(f"relevance: expected real labels, got {relevance.dtype}")
    if scores.dim() != 2:
        raise check.ArgumentError(
            f"scores: expected shape (Q, n) (queries × documents), got {tuple(scores.shape)}")
    check.same_shape("scores", scores, "relevance", relevance)
    if mask is None:
        mask = torch.ones_like(scores, dtype=torch.bool)
    else:
        check.tensor("mask", mask)
        check.same_shape("scores", scores, "mask", mask)
        if mask.dtype != torch.bool:
            raise check.ArgumentTypeError(f"mask: expected a torch.bool tensor, got {mask.dtype}")
    relevance = relevance.to(scores.dtype)
    rules = [("relevance", relevance, ~torch.isnan(relevance), "labels, not NaN")]
    if gains:
        rules.append(("relevance", relevance, ~(relevance < 0), "gains >= 0"))
    if nonempty:
        present = mask.any(dim=1)
        rules.append(("mask", present, present, "at least one document (True) per query"))
    check.values(*rules)
    return scores, relevance, mask


def _positive(name: str, value) -> None:
    check.number(name, value, isinstance(value, (int, float)) and value > 0, "a value > 0")


def _cutoff(k) -> None:
    ok = k is None or (isinstance(k, int) and not isinstance(k, bool) and k >= 1)
    check.number("k", k, ok, "None or an integer >= 1")


def _pair_mask(relevance: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(Q, n, n): True where document i is more relevant than document j, both real."""
    both = mask.unsqueeze(2) & mask.unsqueeze(1)
    return (relevance.unsqueeze(2) > relevance.unsqueeze(1)) & both


def ordered_pairs(relevance: torch.Tensor, *, mask: torch.Tensor | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Index tensors ``(query, better, worse)`` of every pair of real documents of a query
    whose labels differ, the more relevant one first.

    ``scores[query, better]`` and ``scores[query, worse]`` are then ready for a pair loss, e.g.
    ``lossbook.margin_ranking_loss(s[q, i], s[q, j], torch.ones_like(s[q, i]), margin=1)``.
    Pairs with equal labels state no preference and are left out.
    """
    float_type = relevance.dtype if relevance.is_floating_point() else torch.float64
    dummy = torch.zeros(relevance.shape, device=relevance.device, dtype=float_type)
    _, relevance, mask = _lists(dummy, relevance, mask)
    query, better, worse = _pair_mask(relevance, mask).nonzero(as_tuple=True)
    return query, better, worse


# --------------------------------------------------------------------------- pairwise
def ranknet_loss(
    scores: torch.Tensor,
    relevance: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    sigma: float = 1.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""RankNet (Burges et al., 2005): cross-entropy of pairwise preference probabilities,

    $$\ell = \sum_{(i, j):\, y_i > y_j} \log\big(1 + e^{-\sigma (s_i - s_j)}\big).$$

    The model's probability that $i$ ranks above $j$ is $P_{ij} = 1 / (1 + e^{-\sigma(s_i -
    s_j)})$; for every pair of real documents with $y_i > y_j$ the target is $\bar P_{ij} = 1$,
    and the cross-entropy $-\log P_{ij}$ is the term above (a ``softplus``, which neither
    overflows nor loses precision). Pairs with equal labels (target $\frac12$ in the paper)
    are left out, as in LambdaRank and most implementations. A query's loss is the sum over
    its pairs — 0 for a query with no ordered pair — and ``sigma`` > 0 sets the sigmoid's
    slope. The pair term is the logistic counterpart of the margin ranking hinge
    $\max(0, m - (s_i - s_j))$.

    Reference: Burges et al. (2005); Burges (2010), the RankNet section.
    """
    scores, relevance, mask = _lists(scores, relevance, mask)
    _positive("sigma", sigma)
    check.reduction(reduction)
    per_query = _weighted_pairs(scores, relevance, mask, sigma, None)
    return reduce(per_query, reduction).to(scores.dtype)  # reduced in float32 if half


def _weighted_pairs(scores, relevance, mask, sigma, weight):
    """Sum over a query's ordered pairs of ``weight * softplus(-sigma (s_i - s_j))``."""
    s = widened(torch.where(mask, scores, torch.zeros_like(scores)))  # padding: no gradient
    difference = s.unsqueeze(2) - s.unsqueeze(1)  # s_i - s_j at [q, i, j]
    cost = softplus(-sigma * difference)  # -log sigmoid(sigma (s_i - s_j))
    if weight is not None:
        cost = weight * cost
    pairs = _pair_mask(relevance, mask)
    return torch.where(pairs, cost, torch.zeros_like(cost)).sum(dim=(1, 2))  # float32 if half


def _discounts(n: int, k: int | None, like: torch.Tensor) -> torch.Tensor:
    r"""$1 / \log_2(p + 2)$ for positions $p = 0, \dots, n - 1$; 0 from position ``k`` on."""
    positions = torch.arange(n, device=like.device, dtype=like.dtype)
    discount = 1 / torch.log2(positions + 2)
    if k is not None:
        discount = torch.where(positions < k, discount, torch.zeros_like(discount))
    return discount


def _ideal_dcg(gains: torch.Tensor, mask: torch.Tensor, k: int | None) -> torch.Tensor:
    """DCG of the best order: the real documents' gains sorted in decreasing order."""
    g = torch.where(mask, gains, torch.zeros_like(gains))
    best = torch.sort(g, dim=1, descending=True).values
    return (best * _discounts(g.shape[1], k, g)).sum(dim=1)


def _ranks(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """0-based rank of each document when sorted by decreasing score; equal scores keep
    their order in the list (a stable sort). Padding is not counted."""
    s_i, s_j = scores.unsqueeze(2), scores.unsqueeze(1)
    n = scores.shape[1]
    index = torch.arange(n, device=scores.device)
    earlier = index.unsqueeze(1) > index.unsqueeze(0)  # [i, j]: j is listed before i
    ahead = (s_j > s_i) | ((s_j == s_i) & earlier)
    return (ahead & mask.unsqueeze(1)).sum(dim=2)


def lambdarank_loss(
    scores: torch.Tensor,
    relevance: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    sigma: float = 1.0,
    k: int | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""LambdaRank (Burges, 2010): RankNet's pairs weighted by the NDCG a swap would change,

    $$\ell = \sum_{(i, j):\, y_i > y_j} \lvert \Delta\mathrm{NDCG}_{ij} \rvert\,
      \log\big(1 + e^{-\sigma (s_i - s_j)}\big), \qquad
      \lvert \Delta\mathrm{NDCG}_{ij} \rvert = \frac{\lvert g_i - g_j \rvert\,
      \lvert d(r_i) - d(r_j) \rvert}{\mathrm{IDCG}}.$$

    $r_i$ is document $i$'s rank in the current order by score (equal scores keep their list
    order), $d(r) = 1 / \log_2(r + 1)$ for $r \le k$ and 0 beyond, $g = $ ``relevance`` the
    gains (linear, as in :func:`ndcg`; pass $2^y - 1$ for Burges' exponential gain) and IDCG
    the DCG@k of the ideal order. The weights are **constants**: computed without gradient,
    so the gradient of a pair is RankNet's, $\lambda_{ij} = -\sigma \lvert \Delta\mathrm{NDCG}
    _{ij} \rvert / (1 + e^{\sigma (s_i - s_j)})$ — the "lambda" that LambdaRank defines
    directly. A query whose IDCG is 0 has no ordered pair and loses 0.

    Reference: Burges (2010), the LambdaRank section; Burges, Ragno & Le (2006).
    """
    scores, relevance, mask = _lists(scores, relevance, mask, gains=True)
    _positive("sigma", sigma)
    _cutoff(k)
    check.reduction(reduction)
    with torch.no_grad():
        gains = widened(relevance)
        d = _discounts(scores.shape[1], k, gains)[_ranks(scores.detach(), mask)]
        idcg = _ideal_dcg(gains, mask, k)
        swap = ((gains.unsqueeze(2) - gains.unsqueeze(1)).abs()
                * (d.unsqueeze(2) - d.unsqueeze(1)).abs())
        safe = torch.where(idcg > 0, idcg, torch.ones_like(idcg))[:, None, None]
        weight = swap / safe  # idcg = 0: every gain is 0, so is every swap
    per_query = _weighted_pairs(scores, relevance, mask, sigma, weight)
    return reduce(per_query, reduction).to(scores.dtype)  # reduced in float32 if half


# --------------------------------------------------------------------------- listwise
def listnet_loss(
    scores: torch.Tensor,
    relevance: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""ListNet (Cao et al., 2007): cross-entropy between top-one probabilities,

    $$\ell = -\sum_j P_y(j) \log P_s(j), \qquad P_s(j) = \frac{e^{s_j}}{\sum_k e^{s_k}},\quad
      P_y(j) = \frac{e^{y_j}}{\sum_k e^{y_k}}.$$

    $P_s(j)$ is the probability that document $j$ is ranked first under the Plackett–Luce
    model of the scores (the paper's $\varphi = \exp$); the target is the same for the labels.
    $\log P_s$ is a log-softmax (the log-sum-exp trick). Padding is left out of both
    softmaxes; every query needs at least one real document. The gradient is
    $P_s(j) - P_y(j)$.

    Reference: Cao et al. (2007), the top-one probability and its cross-entropy.
    """
    scores, relevance, mask = _lists(scores, relevance, mask, nonempty=True)
    check.reduction(reduction)
    s, y = widened(scores), widened(relevance)
    minus_inf = torch.full_like(s, -math.inf)
    zero = torch.zeros_like(s)
    target = softmax(torch.where(mask, y, minus_inf), dim=1)  # 0 on padding
    log_p = torch.where(mask, log_softmax(torch.where(mask, s, minus_inf), dim=1), zero)
    return reduce(-(target * log_p).sum(dim=1), reduction).to(scores.dtype)  # reduced in float32


def listmle_loss(
    scores: torch.Tensor,
    relevance: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""ListMLE (Xia et al., 2008): negative log-likelihood of the relevance order under the
    Plackett–Luce model of the scores,

    $$\ell = -\log \prod_{i=1}^{n} \frac{e^{s_{\pi(i)}}}{\sum_{k=i}^{n} e^{s_{\pi(k)}}}
      = \sum_{i=1}^{n} \Big(\log \sum_{k=i}^{n} e^{s_{\pi(k)}} - s_{\pi(i)}\Big),$$

    where $\pi$ lists the real documents by decreasing relevance: the first choice is the most
    relevant document among all, the next among the rest, and so on. **Ties**: documents
    with equal labels keep their order in the list (a stable sort), so the earlier-listed one
    is expected first; shuffle each list beforehand for a random tie-break. The suffix sums
    are a reversed ``logcumsumexp`` (the log-sum-exp trick). Every query needs at least one
    real document.

    Reference: Xia et al. (2008), the likelihood loss with the exponential $\varphi$.
    """
    scores, relevance, mask = _lists(scores, relevance, mask, nonempty=True)
    check.reduction(reduction)
    s = widened(scores)
    key = torch.where(mask, widened(relevance), torch.full_like(s, -math.inf))
    order = torch.sort(key, dim=1, descending=True, stable=True).indices  # padding last
    real = torch.gather(mask, 1, order)
    s = torch.gather(s, 1, order)
    chosen = torch.where(real, s, torch.full_like(s, -math.inf))
    remaining = torch.logcumsumexp(chosen.flip(1), dim=1).flip(1)  # log sum_{k >= i}
    terms = torch.where(real, remaining - torch.where(real, s, torch.zeros_like(s)),
                        torch.zeros_like(s))
    return reduce(terms.sum(dim=1), reduction).to(scores.dtype)  # reduced in float32


# --------------------------------------------------------------------------- metrics
def ndcg(
    scores: torch.Tensor,
    relevance: torch.Tensor,
    *,
    k: int | None = None,
    mask: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Normalised discounted cumulative gain (Järvelin & Kekäläinen, 2002), exactly as
    ``sklearn.metrics.ndcg_score``:

    $$\mathrm{DCG@}k = \sum_{r=1}^{k} \frac{g_{(r)}}{\log_2(r + 1)}, \qquad
      \mathrm{NDCG@}k = \frac{\mathrm{DCG@}k}{\mathrm{IDCG@}k},$$

    with $g_{(r)}$ the gain (``relevance``, >= 0, linear) of the document at rank $r$ by
    decreasing score and IDCG the DCG of the ideal order. **Ties** in the scores are averaged
    over every order of the tied documents (McSherry & Najork, 2008; sklearn's default): each
    tied document gets the mean discount of the ranks its group occupies. A query with no
    gain (IDCG = 0) scores 0, as in sklearn. A metric, not a loss: piecewise constant in the
    scores, so it is returned without gradient. ``reduction`` "none" gives one value per
    query, "mean" (sklearn's value) their average.

    Reference: ``sklearn.metrics.ndcg_score``; Järvelin & Kekäläinen (2002).
    """
    scores, relevance, mask = _lists(scores, relevance, mask, gains=True)
    _cutoff(k)
    check.reduction(reduction)
    with torch.no_grad():
        s, g = widened(scores), widened(relevance)
        discount = _discounts(s.shape[1], k, s)
        cumulative = torch.cat([torch.zeros_like(discount[:1]), discount.cumsum(0)])
        others = mask.unsqueeze(1)  # [q, i, j]: j counts if it is a real document
        above = ((s.unsqueeze(1) > s.unsqueeze(2)) & others).sum(dim=2)
        tied = ((s.unsqueeze(1) == s.unsqueeze(2)) & others).sum(dim=2)  # 0 only for NaN
        span = cumulative[above + tied] - cumulative[above]
        dcg = torch.where(mask, g * span / tied, torch.zeros_like(g)).sum(dim=1)
        idcg = _ideal_dcg(g, mask, k)
        safe = torch.where(idcg > 0, idcg, torch.ones_like(idcg))
        value = torch.where(idcg > 0, dcg / safe, dcg * 0)  # dcg * 0 keeps a NaN
    return reduce(value.to(scores.dtype), reduction)


def mrr(
    scores: torch.Tensor,
    relevance: torch.Tensor,
    *,
    k: int | None = None,
    mask: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Mean reciprocal rank: $1 / r$ for the rank $r$ of the first relevant document.

    A document is relevant when its label is > 0. **Ties** are counted against the model:
    $r = 1 + $ the number of irrelevant real documents scored at least as high as the best
    relevant one, so a constant scorer earns no credit for its ties (for one relevant
    document per query this is ``sklearn.metrics.label_ranking_average_precision_score``).
    A query without a relevant document, or whose first one is ranked below ``k``, scores 0;
    a NaN score makes its query NaN. Returned without gradient; "mean" averages the queries.

    Reference: Voorhees (1999), TREC-8 question answering track.
    """
    scores, relevance, mask = _lists(scores, relevance, mask)
    _cutoff(k)
    check.reduction(reduction)
    with torch.no_grad():
        s = widened(scores)
        relevant = (relevance > 0) & mask
        best = torch.where(relevant, s, torch.full_like(s, -math.inf)).amax(dim=1)
        beaten = (s >= best.unsqueeze(1)) & mask & ~relevant
        rank = 1 + beaten.sum(dim=1)
        value = 1 / rank.to(s.dtype)
        if k is not None:
            value = torch.where(rank <= k, value, torch.zeros_like(value))
        value = torch.where(relevant.any(dim=1), value, torch.zeros_like(value))
        broken = (torch.isnan(s) & mask).any(dim=1)
        value = torch.where(broken, torch.full_like(value, math.nan), value)
    return reduce(value.to(scores.dtype), reduction)


# --------------------------------------------------------------------------- catalog
_CHAPTER = "07b_learning_to_rank"
CATALOG = (
    Entry(ranknet_loss, chapter=_CHAPTER, task="learning to rank (pairwise)",
          summary=r"$\sum_{y_i > y_j} \log(1 + e^{-\sigma (s_i - s_j)})$",
          reference=None, input_kind="scores per list", convex=True, bounded=False,
          robust=True, inputs=ranked_lists()),
    Entry(lambdarank_loss, chapter=_CHAPTER, task="learning to rank (NDCG-weighted pairs)",
          summary=r"$\sum_{y_i > y_j} \vert\Delta \mathrm{NDCG}_{ij}\vert"
                  r" \log(1 + e^{-\sigma (s_i - s_j)})$",
          reference=None, input_kind="scores per list", convex=False, bounded=False,
          robust=True, inputs=ranked_lists()),
    Entry(listnet_loss, chapter=_CHAPTER, task="learning to rank (listwise)",
          summary=r"$-\sum_j \mathrm{softmax}(y)_j \log \mathrm{softmax}(s)_j$",
          reference=None, input_kind="scores per list", convex=True, bounded=False,
          robust=True, inputs=ranked_lists()),
    Entry(listmle_loss, chapter=_CHAPTER, task="learning to rank (listwise)",
          summary=r"$\sum_i (\log \sum_{k \ge i} e^{s_{\pi(k)}} - s_{\pi(i)})$",
          reference=None, input_kind="scores per list", convex=True, bounded=False,
          robust=True, inputs=ranked_lists()),
)
