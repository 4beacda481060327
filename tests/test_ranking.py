"""lossbook.ranking against independent references: scikit-learn's ndcg_score and
label_ranking_average_precision_score, torch's soft-margin and cross-entropy losses, and the
papers' formulas evaluated pair by pair and position by position in plain Python."""

import functools
import itertools
import math

import numpy as np
import pytest
import sklearn.metrics
import torch
import torch.nn.functional as F

import lossbook
import lossbook.ranking as ranking
from lossbook.grading.ranking import grade_listmle
from tests.reference import assert_matches, generator, randn

REDUCTIONS = ["none", "mean", "sum"]


def grades(*shape, seed=0, levels=4, dtype=torch.float64, device="cpu"):
    """Graded labels 0 .. levels-1 (with ties), as floats."""
    return torch.randint(0, levels, shape, generator=generator(seed)).to(device, dtype)


def padding(q, n, seed=0, device="cpu"):
    """A mask with 2 .. n real documents per query, padding at random places."""
    g = generator(seed)
    mask = torch.zeros(q, n, dtype=torch.bool)
    for row in range(q):
        count = int(torch.randint(2, n + 1, (1,), generator=g))
        mask[row, torch.randperm(n, generator=g)[:count]] = True
    return mask.to(device)


def reduced(per_query, reduction):
    return {"none": per_query, "mean": per_query.mean(), "sum": per_query.sum()}[reduction]


def per_list(formula):
    """Apply ``formula(scores_row, relevance_row)`` to the real documents of each query."""
    def loss(scores, relevance, *, mask=None, reduction="mean", **kwargs):
        rows = []
        for q in range(scores.shape[0]):
            keep = mask[q] if mask is not None else slice(None)
            rows.append(formula(scores[q][keep], relevance[q][keep], **kwargs))
        return reduced(torch.stack(rows), reduction)
    return loss


# --------------------------------------------------------------------------- references
@per_list
def ranknet_by_pairs(s, y, sigma=1.0):
    """Burges et al. (2005): -log P_ij for every pair with y_i > y_j, P_ij = sigmoid of
    sigma (s_i - s_j) — written as torch's soft-margin loss with target +1."""
    total = s.sum() * 0
    for i, j in itertools.permutations(range(len(s)), 2):
        if y[i] > y[j]:
            total = total + F.soft_margin_loss(sigma * (s[i] - s[j]), torch.ones_like(s[i]))
    return total


@per_list
def listnet_by_cross_entropy(s, y):
    """Cao et al. (2007): torch's cross-entropy with the target distribution softmax(y)."""
    return F.cross_entropy(s.unsqueeze(0), torch.softmax(y, 0).unsqueeze(0), reduction="sum")


def relevance_order(y):
    """Documents by decreasing label; equal labels keep their list order (Python's sort
    is stable)."""
    return sorted(range(len(y)), key=lambda i: -float(y[i]))


@per_list
def listmle_by_positions(s, y):
    """Xia et al. (2008): -log of the Plackett-Luce probability of the relevance order."""
    order = relevance_order(y)
    return sum(torch.logsumexp(s[order[i:]], 0) - s[order[i]] for i in range(len(order)))


def sklearn_ndcg(scores, relevance, k=None):
    return sklearn.metrics.ndcg_score(relevance.reshape(1, -1), scores.reshape(1, -1), k=k)


def swap_weights(s, y, k=None):
    """|ΔNDCG_ij| from sklearn: NDCG of the current order minus NDCG with i and j swapped
    (the order as distinct scores, equal scores kept in list order)."""
    n = len(s)
    order = sorted(range(n), key=lambda i: -float(s[i]))
    position = np.empty(n)
    position[order] = np.arange(n)
    y = y.cpu().numpy()
    base = sklearn_ndcg(-position, y, k) if y.max() > 0 else 0.0
    weights = np.zeros((n, n))
    for i, j in itertools.permutations(range(n), 2):
        swapped = position.copy()
        swapped[[i, j]] = swapped[[j, i]]
        if y.max() > 0:
            weights[i, j] = abs(base - sklearn_ndcg(-swapped, y, k))
    return weights


@per_list
def lambdarank_by_pairs(s, y, sigma=1.0, k=None):
    weights = swap_weights(s.detach(), y, k)
    total = s.sum() * 0
    for i, j in itertools.permutations(range(len(s)), 2):
        if y[i] > y[j]:
            total = total + float(weights[i, j]) * torch.log1p(torch.exp(-sigma * (s[i] - s[j])))
    return total


def constant_labels(fn):
    """``fn`` with the labels detached: they are targets, not parameters."""
    @functools.wraps(fn)
    def wrapped(scores, relevance, **kwargs):
        return fn(scores, relevance.detach(), **kwargs)
    return wrapped


# --------------------------------------------------------------------------- hand-worked cases
def test_hand_worked_ranknet_listnet_listmle():
    s = torch.tensor([[2.0, 1.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([[2.0, 0.0, 1.0]], dtype=torch.float64)
    # pairs (0 over 1): diff 1, (0 over 2): diff 2, (2 over 1): diff -1
    ranknet = math.log1p(math.exp(-1)) + math.log1p(math.exp(-2)) + math.log1p(math.exp(1))
    assert lossbook.ranknet_loss(s, y).item() == pytest.approx(ranknet, rel=1e-12)
    z = math.exp(2) + math.exp(1) + 1
    zy = math.exp(2) + 1 + math.exp(1)
    listnet = -sum(math.exp(yi) / zy * math.log(math.exp(si) / z)
                   for si, yi in zip((2, 1, 0), (2, 0, 1)))
    assert lossbook.listnet_loss(s, y).item() == pytest.approx(listnet, rel=1e-12)
    # relevance order: doc 0, doc 2, doc 1
    likelihood = (math.exp(2) / z) * (math.exp(0) / (math.exp(0) + math.exp(1))) * 1.0
    assert lossbook.listmle_loss(s, y).item() == pytest.approx(-math.log(likelihood), rel=1e-12)


def test_hand_worked_lambdarank_weights():
    s = torch.tensor([[2.0, 1.0, 0.0]], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([[2.0, 0.0, 1.0]], dtype=torch.float64)
    idcg = 2 + 1 / math.log2(3)
    d = [1.0, 1 / math.log2(3), 0.5]  # ranks 1, 2, 3 = documents 0, 1, 2
    w01, w02, w21 = 2 * (d[0] - d[1]) / idcg, 1 * (d[0] - d[2]) / idcg, 1 * (d[1] - d[2]) / idcg
    expected = (w01 * math.log1p(math.exp(-1)) + w02 * math.log1p(math.exp(-2))
                + w21 * math.log1p(math.exp(1)))
    loss = lossbook.lambdarank_loss(s, y)
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    loss.backward()
    lam = [-w / (1 + math.exp(diff)) for w, diff in ((w01, 1), (w02, 2), (w21, -1))]
    expected_grad = [lam[0] + lam[1], -lam[0] - lam[2], -lam[1] + lam[2]]
    torch.testing.assert_close(s.grad, torch.tensor([expected_grad], dtype=torch.float64))


# --------------------------------------------------------------------------- losses vs references
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("sigma", [1.0, 2.5])
def test_ranknet_matches_the_pairwise_soft_margin_loss(device, dtype, reduction, sigma):
    s = randn(5, 7, seed=1, dtype=dtype, device=device)
    y = grades(5, 7, seed=2, dtype=dtype, device=device)
    assert_matches(constant_labels(lossbook.ranknet_loss), constant_labels(ranknet_by_pairs),
                   s, y, sigma=sigma, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_listnet_matches_torch_cross_entropy_with_soft_targets(device, dtype, reduction):
    s = randn(5, 7, seed=3, dtype=dtype, device=device, scale=3)
    y = grades(5, 7, seed=4, dtype=dtype, device=device)
    assert_matches(lossbook.listnet_loss, listnet_by_cross_entropy, s, y, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_listmle_matches_the_plackett_luce_formula(device, dtype, reduction):
    s = randn(5, 7, seed=5, dtype=dtype, device=device, scale=3)
    y = grades(5, 7, seed=6, dtype=dtype, device=device)  # ties: list order
    assert_matches(constant_labels(lossbook.listmle_loss), constant_labels(listmle_by_positions),
                   s, y, reduction=reduction)


@pytest.mark.parametrize("k", [None, 3])
def test_lambdarank_matches_pairs_weighted_by_sklearns_ndcg_swaps(device, dtype, k):
    s = randn(4, 6, seed=7, dtype=dtype, device=device)
    s[0, 1] = s[0, 4]  # a tie in the scores: list order decides the ranks
    y = grades(4, 6, seed=8, dtype=dtype, device=device)
    assert_matches(constant_labels(lossbook.lambdarank_loss),
                   constant_labels(lambdarank_by_pairs), s, y, k=k, reduction="none")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_lambdarank_reductions_average_and_add_the_queries(device, dtype, reduction):
    s = randn(4, 6, seed=7, dtype=dtype, device=device)
    y = grades(4, 6, seed=8, dtype=dtype, device=device)
    def by_hand(scores, relevance, *, k, reduction):
        per_query = lossbook.lambdarank_loss(scores, relevance, k=k, reduction="none")
        return reduced(per_query, reduction)

    assert_matches(constant_labels(lossbook.lambdarank_loss), constant_labels(by_hand),
                   s, y, k=2, reduction=reduction)


@pytest.mark.parametrize("loss, reference", [
    (lossbook.ranknet_loss, ranknet_by_pairs),
    (lossbook.listnet_loss, listnet_by_cross_entropy),
    (lossbook.listmle_loss, listmle_by_positions),
    (lossbook.lambdarank_loss, lambdarank_by_pairs),
], ids=["ranknet", "listnet", "listmle", "lambdarank"])
def test_padding_is_the_same_as_shorter_lists(device, loss, reference):
    s = randn(6, 8, seed=9, device=device)
    s[~padding(6, 8, seed=10, device=device)] = torch.nan  # padding is never read
    y = grades(6, 8, seed=11, device=device)
    mask = padding(6, 8, seed=10, device=device)
    assert_matches(constant_labels(loss), constant_labels(reference), s, y, mask=mask,
                   reduction="none")


def test_listnet_gradient_is_ps_minus_py():
    s = randn(3, 5, seed=12, scale=2).requires_grad_()
    y = grades(3, 5, seed=13)
    lossbook.listnet_loss(s, y, reduction="sum").backward()
    torch.testing.assert_close(s.grad, torch.softmax(s.detach(), 1) - torch.softmax(y, 1))


def test_plackett_luce_probabilities_of_all_orders_sum_to_one():
    s = randn(1, 4, seed=14, scale=2)
    total = sum(torch.exp(-lossbook.listmle_loss(s, torch.tensor([perm], dtype=s.dtype).neg()))
                for perm in itertools.permutations(range(4)))
    assert total.item() == pytest.approx(1.0, rel=1e-12)


def test_listmle_ties_follow_the_list_order():
    s = torch.tensor([[0.0, 3.0, 1.0]], dtype=torch.float64)
    tied = lossbook.listmle_loss(s, torch.tensor([[1.0, 1.0, 0.0]], dtype=torch.float64))
    explicit = lossbook.listmle_loss(s, torch.tensor([[2.0, 1.0, 0.0]], dtype=torch.float64))
    reversed_tie = lossbook.listmle_loss(s, torch.tensor([[1.0, 2.0, 0.0]], dtype=torch.float64))
    assert tied.item() == explicit.item() != reversed_tie.item()


def test_ranking_losses_ignore_a_shift_of_a_querys_scores():
    s = randn(4, 6, seed=15)
    y = grades(4, 6, seed=16)
    shift = randn(4, 1, seed=17, scale=10)
    for loss in (lossbook.ranknet_loss, lossbook.listnet_loss, lossbook.listmle_loss,
                 lossbook.lambdarank_loss):
        torch.testing.assert_close(loss(s + shift, y, reduction="none"),
                                   loss(s, y, reduction="none"))


def test_ordered_pairs_feed_the_margin_ranking_loss():
    s = randn(3, 5, seed=18)
    y = grades(3, 5, seed=19)
    q, i, j = lossbook.ordered_pairs(y)
    hinge = lossbook.margin_ranking_loss(s[q, i], s[q, j], torch.ones_like(s[q, i]), margin=1.0,
                                         reduction="sum")
    by_loop = sum(max(0.0, 1 - float(s[a, b] - s[a, c]))
                  for a in range(3) for b, c in itertools.permutations(range(5), 2)
                  if y[a, b] > y[a, c])
    assert hinge.item() == pytest.approx(by_loop, rel=1e-12)


# --------------------------------------------------------------------------- edge cases
def test_queries_without_ordered_pairs_lose_zero_with_zero_gradient():
    s = randn(2, 4, seed=20).requires_grad_()
    y = torch.tensor([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    for loss in (lossbook.ranknet_loss, lossbook.lambdarank_loss):
        value = loss(s, y, reduction="sum")
        assert value.item() == 0.0
        (grad,) = torch.autograd.grad(value, s)
        assert torch.equal(grad, torch.zeros_like(s))


def test_nan_scores_give_nan_losses_and_metrics():
    s = randn(2, 4, seed=21)
    s[0, 2] = torch.nan
    y = grades(2, 4, seed=22)
    y[0] = torch.tensor([0.0, 1.0, 2.0, 3.0], dtype=torch.float64)
    for fn in (lossbook.ranknet_loss, lossbook.listnet_loss, lossbook.listmle_loss,
               lossbook.lambdarank_loss, lossbook.ndcg, lossbook.mrr):
        value = fn(s, y, reduction="none")
        assert torch.isnan(value[0]) and not torch.isnan(value[1]), fn.__name__


def test_extreme_scores_stay_finite():
    s = torch.tensor([[1e4, -1e4, 0.0, 5e3]], requires_grad=True)
    y = torch.tensor([[0.0, 3.0, 1.0, 2.0]])
    for loss in (lossbook.ranknet_loss, lossbook.listnet_loss, lossbook.listmle_loss,
                 lossbook.lambdarank_loss):
        value = loss(s, y)
        (grad,) = torch.autograd.grad(value, s)
        assert torch.isfinite(value) and value > 1e3 and torch.isfinite(grad).all()


@pytest.mark.parametrize("half", [torch.float16, torch.bfloat16])
def test_half_precision_follows_float32(half):
    s = randn(4, 8, seed=23, dtype=torch.float32, scale=20)
    y = grades(4, 8, seed=24, dtype=torch.float32)
    for loss in (lossbook.ranknet_loss, lossbook.listnet_loss, lossbook.listmle_loss):
        low = loss(s.to(half), y.to(half), reduction="sum")
        assert low.dtype == half and torch.isfinite(low)
        exact = loss(s.to(half).float(), y, reduction="sum")
        torch.testing.assert_close(low.float(), exact, rtol=1e-2, atol=0.1)


def test_lambdarank_is_not_convex_in_the_scores():
    # its weights jump when two documents change places, so the loss jumps too: here the
    # relevant document overtakes document 1 between a and the midpoint, and the weight of
    # its pair with document 2 jumps from 1/log2(3) - 1/2 to 1 - 1/2
    y = torch.tensor([[1.0, 0.0, 0.0]])
    a = torch.tensor([[-0.05, 0.0, -0.1]])
    b = torch.tensor([[0.15, 0.0, -0.1]])
    midpoint = lossbook.lambdarank_loss((a + b) / 2, y)
    chord = (lossbook.lambdarank_loss(a, y) + lossbook.lambdarank_loss(b, y)) / 2
    assert midpoint > chord
    for loss in (lossbook.ranknet_loss, lossbook.listnet_loss, lossbook.listmle_loss):
        assert loss((a + b) / 2, y) <= (loss(a, y) + loss(b, y)) / 2


# --------------------------------------------------------------------------- metrics
@pytest.mark.parametrize("k", [None, 1, 3, 10])
def test_ndcg_equals_sklearn_with_ties(device, dtype, k):
    s = grades(6, 7, seed=25, levels=3, dtype=dtype, device=device)  # many tied scores
    y = grades(6, 7, seed=26, levels=4, dtype=dtype, device=device)
    y[0] = 0  # no gain: sklearn says 0
    expected = sklearn.metrics.ndcg_score(y.cpu().numpy(), s.cpu().numpy(), k=k)
    assert lossbook.ndcg(s, y, k=k).item() == pytest.approx(expected, abs=1e-6)
    rows = [sklearn_ndcg(s[q].cpu().numpy(), y[q].cpu().numpy(), k) for q in range(6)]
    np.testing.assert_allclose(lossbook.ndcg(s, y, k=k, reduction="none").cpu().numpy(), rows,
                               atol=1e-6)


def test_ndcg_reproduces_sklearns_documented_examples():
    # sklearn's docstring prints these to two decimals, truncated ("0.69...")
    true = torch.tensor([[10.0, 0, 0, 1, 5]], dtype=torch.float64)
    scores = torch.tensor([[0.05, 1.1, 1.0, 0.5, 0.0]], dtype=torch.float64)
    examples = [(torch.tensor([[0.1, 0.2, 0.3, 4, 70]], dtype=torch.float64), None, 0.69),
                (scores, None, 0.49), (scores, 4, 0.35)]
    for s, k, printed in examples:
        assert printed <= lossbook.ndcg(s, true, k=k).item() < printed + 0.01
    ties = torch.tensor([[1.0, 0, 0, 0, 1]], dtype=torch.float64)
    assert lossbook.ndcg(ties, true, k=1).item() == pytest.approx(0.75, rel=1e-12)


def test_ndcg_with_padding_is_sklearn_on_the_real_documents(device):
    s = randn(6, 8, seed=27, device=device)
    y = grades(6, 8, seed=28, device=device)
    mask = padding(6, 8, seed=29, device=device)
    rows = [sklearn_ndcg(s[q][mask[q]].cpu().numpy(), y[q][mask[q]].cpu().numpy(), 3)
            for q in range(6)]
    got = lossbook.ndcg(s, y, k=3, mask=mask, reduction="none")
    np.testing.assert_allclose(got.cpu().numpy(), rows, atol=1e-12)


def test_mrr_equals_sklearns_label_ranking_average_precision_for_one_relevant_document():
    s = grades(8, 6, seed=30, levels=3)  # ties between the relevant and other documents
    y = torch.zeros(8, 6, dtype=torch.float64)
    y[torch.arange(8), torch.randint(0, 6, (8,), generator=generator(31))] = 1
    expected = sklearn.metrics.label_ranking_average_precision_score(y.numpy(), s.numpy())
    assert lossbook.mrr(s, y).item() == pytest.approx(expected, rel=1e-12)


def test_mrr_with_several_relevant_documents_by_hand():
    s = randn(6, 7, seed=32)
    s[:, 3] = s[:, 5]  # ties
    y = grades(6, 7, seed=33, levels=3)
    y[0] = 0
    expected = []
    for q in range(6):
        # worst order among ties: irrelevant documents before relevant ones
        order = sorted(range(7), key=lambda i: (-float(s[q, i]), float(y[q, i]) > 0))
        first = next((r for r, i in enumerate(order, 1) if y[q, i] > 0), None)
        expected.append(0.0 if first is None or first > 4 else 1 / first)
    got = lossbook.mrr(s, y, k=4, reduction="none")
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


def test_metrics_carry_no_gradient():
    s = randn(2, 5, seed=34).requires_grad_()
    y = grades(2, 5, seed=35)
    assert not lossbook.ndcg(s, y).requires_grad and not lossbook.mrr(s, y).requires_grad


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, message", [
    (lambda s, y: lossbook.ranknet_loss(s[0], y[0]), "scores: expected shape (Q, n)"),
    (lambda s, y: lossbook.listnet_loss(s, y[:, :3]), "relevance: expected shape (2, 4)"),
    (lambda s, y: lossbook.listmle_loss(s, y, mask=torch.ones(2, 4)), "mask: expected a "
                                                                       "torch.bool"),
    (lambda s, y: lossbook.listnet_loss(s, y, mask=torch.tensor([[True] * 4, [False] * 4])),
     "mask: expected at least one document"),
    (lambda s, y: lossbook.ranknet_loss(s, y, sigma=0), "sigma: expected a value > 0"),
    (lambda s, y: lossbook.lambdarank_loss(s, y, k=0), "k: expected None or an integer"),
    (lambda s, y: lossbook.ndcg(s, -y - 1), "relevance: expected gains >= 0, got -"),
    (lambda s, y: lossbook.ranknet_loss(s, y * torch.nan), "relevance: expected labels, not NaN"),
    (lambda s, y: lossbook.listmle_loss(s, y, reduction="batchmean"), "reduction: expected"),
])
def test_bad_input_is_refused_with_the_arguments_name(call, message):
    s, y = randn(2, 4, seed=36), grades(2, 4, seed=37)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(s, y)


def test_integer_labels_are_accepted():
    s, y = randn(2, 4, seed=38), grades(2, 4, seed=39)
    for loss in (lossbook.ranknet_loss, lossbook.listnet_loss, lossbook.listmle_loss,
                 lossbook.lambdarank_loss, lossbook.ndcg, lossbook.mrr):
        torch.testing.assert_close(loss(s, y.long()), loss(s, y))


# --------------------------------------------------------------------------- catalog
@pytest.mark.parametrize("entry", ranking.CATALOG, ids=lambda e: e.name)
def test_catalog_samples_run_and_differentiate(entry, device, dtype):
    sample = entry.inputs(generator(40), dtype, device)
    scores = sample.args[0].requires_grad_()
    value = entry.function(*sample.args, **sample.kwargs)
    (grad,) = torch.autograd.grad(value, scores)
    assert value.dtype == dtype and torch.isfinite(value) and torch.isfinite(grad).all()


# --------------------------------------------------------------------------- grader
def stable_listmle(scores, relevance):
    order = torch.sort(relevance, dim=1, descending=True, stable=True).indices
    s = scores.gather(1, order)
    return (torch.logcumsumexp(s.flip(1), 1).flip(1) - s).sum(1)


def naive_listmle(scores, relevance):
    order = torch.sort(relevance, dim=1, descending=True, stable=True).indices
    s = scores.gather(1, order)
    return (torch.log(torch.exp(s).flip(1).cumsum(1).flip(1)) - s).sum(1)


def test_grader_gives_full_marks_to_a_correct_listmle():
    assert grade_listmle(stable_listmle).score == 1.0


def test_grader_fails_the_overflowing_listmle_only_on_extreme_scores():
    report = grade_listmle(naive_listmle)
    failed = [text for ok, text in report.checks if not ok]
    assert failed and all("1e3" in text for text in failed)


def test_grader_refuses_lossbooks_own_listmle():
    for handed_in in (lossbook.listmle_loss,
                      functools.partial(lossbook.listmle_loss, reduction="none"),
                      lambda s, y: lossbook.listmle_loss(s, y, reduction="none")):
        report = grade_listmle(handed_in)
        assert report.score == 0.0 and "implement it yourself" in str(report)


def test_grader_reports_an_unimplemented_exercise():
    def student(scores, relevance):
        raise NotImplementedError

    report = grade_listmle(student)
    assert report.score == 0.0 and "not implemented yet" in str(report)
