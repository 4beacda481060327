"""lossbook.embedding against torch.nn.functional and formulas from the papers: values,
gradients, edge cases, mining, bad input."""

import ast
import inspect
import itertools
import math
import re

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import lossbook
import lossbook.embedding as emb
from lossbook.grading.embedding import grade_triplet_loss
from tests.reference import assert_matches, generator, randn

REDUCTIONS = ["none", "mean", "sum"]


def signs(*shape, seed=0, device="cpu"):
    return (torch.randint(0, 2, shape, generator=generator(seed)) * 2 - 1).to(device)


# --------------------------------------------------------------------------- pairwise distance
@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, 0.5, math.inf])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance_matches_torch(device, dtype, p, keepdim):
    x1, x2 = randn(6, 5, dtype=dtype, device=device), randn(6, 5, seed=1, dtype=dtype,
                                                            device=device)
    assert_matches(emb.pairwise_distance, F.pairwise_distance, x1, x2, p=p, keepdim=keepdim)
    assert_matches(emb.pairwise_distance, F.pairwise_distance, x1, x2[0], p=p, eps=1e-3)
    assert_matches(emb.pairwise_distance, F.pairwise_distance, x1[0], x2[0], p=p)


def test_pairwise_distance_eps_is_added_to_the_difference(device):
    x = randn(3, 4, device=device)
    ours, theirs = emb.pairwise_distance(x, x), F.pairwise_distance(x, x)
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(ours, torch.full((3,), 1e-6 * 2, dtype=torch.float64,
                                                device=device))  # eps * sqrt(D)
    assert_matches(emb.pairwise_distance, F.pairwise_distance, x, x.clone())  # finite gradient


def test_pairwise_distance_keeps_torchs_documented_signature():
    # F.pairwise_distance is a builtin without an inspectable signature: read its docstring.
    documented = re.search(r"pairwise_distance\((.*?)\) -> Tensor", F.pairwise_distance.__doc__)
    theirs = []
    for parameter in documented.group(1).split(","):
        name, _, default = parameter.strip().partition("=")
        theirs.append((name, ast.literal_eval(default) if default else inspect.Parameter.empty))
    parameters = inspect.signature(emb.pairwise_distance).parameters.values()
    ours = [(p.name, p.default) for p in parameters]
    assert ours == theirs


@pytest.mark.parametrize("p", [0.0, -1.0, -2.5, -math.inf])
def test_pairwise_distance_accepts_any_real_p_like_torch(p):
    x1, x2 = randn(6, 5), randn(6, 5, seed=1)
    assert_matches(emb.pairwise_distance, F.pairwise_distance, x1, x2, p=p)
    if p == 0:  # the number of non-zero components: eps makes every one non-zero
        assert emb.pairwise_distance(x1, x1, p=0).tolist() == [5.0] * 6


def test_pairwise_distance_rejects_bad_input():
    with pytest.raises(TypeError, match="^x2: expected a floating-point tensor"):
        emb.pairwise_distance(torch.zeros(2), torch.ones(2, dtype=torch.long))


# --------------------------------------------------------------------------- cosine similarity
def test_cosine_similarity_matches_torch(device, dtype):
    x1, x2 = randn(4, 6, 3, dtype=dtype, device=device), randn(4, 6, 3, seed=1, dtype=dtype,
                                                              device=device)
    for dim in (0, 1, -1):
        assert_matches(emb.cosine_similarity, F.cosine_similarity, x1, x2, dim=dim)
    assert_matches(emb.cosine_similarity, F.cosine_similarity, x1[:1], x2[:, :1], dim=-1)


def test_cosine_similarity_clamps_each_norm_separately():
    """torch 2: x1 / max(|x1|, eps) . x2 / max(|x2|, eps), not x1.x2 / max(|x1||x2|, eps)."""
    small = torch.tensor([[3e-3, 4e-3]], dtype=torch.float64)  # norm 5e-3
    big = torch.tensor([[6.0, 8.0]], dtype=torch.float64)  # norm 10
    eps = 1e-2
    by_hand = (small @ big.T).item() / (eps * 10.0)  # the small norm is clamped up to eps
    assert by_hand == pytest.approx(0.5)
    product_rule = (small @ big.T).item() / max(5e-3 * 10.0, eps)  # torch 1's rule: 1.0
    assert emb.cosine_similarity(small, big, eps=eps).item() == pytest.approx(by_hand)
    assert F.cosine_similarity(small, big, eps=eps).item() == pytest.approx(by_hand)
    assert product_rule == pytest.approx(1.0)
    # Below eps the clamp acts on the value only, as torch's no_grad clamp: same gradients.
    assert_matches(emb.cosine_similarity, F.cosine_similarity, small, big, eps=eps)
    zero = torch.zeros(1, 2, dtype=torch.float64)
    assert emb.cosine_similarity(zero, big).item() == 0.0
    assert_matches(emb.cosine_similarity, F.cosine_similarity, zero, big)


def test_cosine_similarity_rejects_bad_input():
    with pytest.raises(ValueError, match="^x2: shape"):
        emb.cosine_similarity(torch.zeros(2, 3), torch.zeros(4, 3))
    with pytest.raises(RuntimeError, match="^x1: expected a floating-point tensor"):
        emb.cosine_similarity(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3))


# --------------------------------------------------------------------------- pdist
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 2.0, 3.0, math.inf])
def test_pdist_matches_torch(device, dtype, p):
    x = randn(6, 4, dtype=dtype, device=device)
    assert_matches(emb.pdist, F.pdist, x, p=p)


def test_pdist_is_the_upper_triangle_of_the_distance_matrix_row_by_row():
    x = randn(5, 3)
    full = torch.cdist(x, x)
    expected = torch.cat([full[i, i + 1:] for i in range(5)])  # (0,1) (0,2) ... (1,2) ...
    torch.testing.assert_close(emb.pdist(x), expected)
    assert emb.pdist(x[:1]).shape == (0,)  # one row: no pairs
    same = x[:1].expand(3, 3).clone().requires_grad_()
    emb.pdist(same).sum().backward()
    assert emb.pdist(same.detach()).tolist() == [0.0] * 3
    assert same.grad.abs().sum() == 0  # identical rows: distance 0, gradient 0


def test_pdist_rejects_bad_input():
    with pytest.raises(ValueError, match=r"^input: expected shape \(N, M\)"):
        emb.pdist(torch.zeros(2, 3, 4))
    with pytest.raises(RuntimeError, match="^p: expected a norm order >= 0, got -1"):
        emb.pdist(torch.zeros(2, 3), p=-1)


# --------------------------------------------------------------------------- triplets
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("p, margin", [(2, 1.0), (1, 0.5), (3, 2.0)])
def test_triplet_margin_loss_matches_torch(device, dtype, reduction, swap, p, margin):
    a, pos, neg = (randn(16, 4, seed=s, dtype=dtype, device=device) for s in (0, 1, 2))
    assert_matches(emb.triplet_margin_loss, F.triplet_margin_loss, a, pos, neg, margin=margin,
                   p=p, swap=swap, reduction=reduction)
    assert_matches(emb.triplet_margin_loss, F.triplet_margin_loss, a[0], pos[0], neg[0],
                   margin=margin, p=p, swap=swap, reduction=reduction)


def test_triplet_margin_loss_matches_the_papers_formula():
    a, pos, neg = (randn(9, 3, seed=s) for s in (3, 4, 5))
    d_ap, d_an = (a - pos + 1e-6).norm(dim=1), (a - neg + 1e-6).norm(dim=1)
    d_pn = (pos - neg + 1e-6).norm(dim=1)
    torch.testing.assert_close(emb.triplet_margin_loss(a, pos, neg, reduction="none"),
                               torch.clamp(d_ap - d_an + 1, min=0))
    torch.testing.assert_close(emb.triplet_margin_loss(a, pos, neg, swap=True, reduction="none"),
                               torch.clamp(d_ap - torch.minimum(d_an, d_pn) + 1, min=0))


@pytest.mark.parametrize("margin", [0.0, -1.0])
@pytest.mark.parametrize("fn", [emb.triplet_margin_loss, emb.triplet_margin_with_distance_loss])
def test_triplet_losses_reject_a_non_positive_margin_like_torch(fn, margin):
    a = torch.zeros(2, 3)
    reference = getattr(F, fn.__name__)
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        reference(a, a, a, margin=margin)
    with pytest.raises(ValueError, match=f"^margin: expected a value > 0, got {margin}"):
        fn(a, a, a, margin=margin)


def test_triplet_losses_reject_mismatched_shapes():
    with pytest.raises(ValueError, match=r"^negative: expected shape \(2, 3\)"):
        emb.triplet_margin_loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3, 3))
    with pytest.raises(TypeError, match="^positive: expected a floating-point tensor"):
        emb.triplet_margin_loss(torch.zeros(2), torch.zeros(2, dtype=torch.long), torch.zeros(2))


def cosine_distance(x, y):
    return 1 - F.cosine_similarity(x, y)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("distance", [None, cosine_distance], ids=["default", "cosine"])
def test_triplet_margin_with_distance_loss_matches_torch(device, dtype, reduction, swap,
                                                         distance):
    a, pos, neg = (randn(10, 5, seed=s, dtype=dtype, device=device) for s in (6, 7, 8))
    assert_matches(emb.triplet_margin_with_distance_loss, F.triplet_margin_with_distance_loss,
                   a, pos, neg, distance_function=distance, margin=0.4, swap=swap,
                   reduction=reduction)


def test_triplet_with_default_distance_equals_triplet_margin_loss():
    a, pos, neg = (randn(5, 3, seed=s) for s in (1, 2, 3))
    torch.testing.assert_close(emb.triplet_margin_with_distance_loss(a, pos, neg),
                               emb.triplet_margin_loss(a, pos, neg))


# --------------------------------------------------------------------------- mining
def brute_force_triplets(labels):
    n = len(labels)
    return sorted((a, p, q) for a, p, q in itertools.product(range(n), repeat=3)
                  if a != p and labels[a] == labels[p] and labels[q] != labels[a])


def test_batch_all_lists_every_valid_triplet():
    labels = torch.tensor([0, 1, 0, 2, 1, 0, 3])
    a, p, n = emb.batch_all(labels)
    assert sorted(zip(a.tolist(), p.tolist(), n.tolist())) == brute_force_triplets(labels.tolist())


def test_batch_all_counts_pk_triplets():
    labels = torch.arange(4).repeat_interleave(3)  # P = 4 classes, K = 3 samples each
    a, _, _ = emb.batch_all(labels)
    assert len(a) == 12 * 2 * 9  # PK (K - 1) (PK - K)


def test_batch_hard_picks_the_farthest_positive_and_the_closest_negative(device):
    x = randn(12, 3, seed=4, device=device)
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 4, 4], device=device)  # 3 has no pair
    a, p, n = emb.batch_hard(x, labels)
    d = torch.cdist(x, x)
    assert 8 not in a.tolist() and len(a) == 11
    for i, j, k in zip(a.tolist(), p.tolist(), n.tolist()):
        positives = [q for q in range(12) if q != i and labels[q] == labels[i]]
        negatives = [q for q in range(12) if labels[q] != labels[i]]
        assert j == max(positives, key=lambda q: d[i, q].item())
        assert k == min(negatives, key=lambda q: d[i, q].item())


def test_batch_hard_loss_is_the_largest_loss_per_anchor():
    x = randn(10, 2, seed=5)
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 1, 2, 2, 2])
    a, p, n = emb.batch_hard(x, labels)
    hard = emb.triplet_margin_loss(x[a], x[p], x[n], reduction="none")
    ta, tp, tn = emb.batch_all(labels)
    every = emb.triplet_margin_loss(x[ta], x[tp], x[tn], reduction="none")
    for anchor, loss in zip(a.tolist(), hard):
        torch.testing.assert_close(loss, every[ta == anchor].max())


def test_mining_rejects_bad_labels():
    with pytest.raises(TypeError, match="^labels: expected integer labels"):
        emb.batch_all(torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"^embeddings: expected shape \(3, D\)"):
        emb.batch_hard(torch.zeros(4, 2), torch.tensor([0, 1, 0]))


# --------------------------------------------------------------------------- cosine embedding
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0, 0.5, -0.3])
def test_cosine_embedding_loss_matches_torch(device, dtype, reduction, margin):
    x1, x2 = randn(12, 6, dtype=dtype, device=device), randn(12, 6, seed=1, dtype=dtype,
                                                             device=device)
    y = signs(12, seed=2, device=device)
    assert_matches(emb.cosine_embedding_loss, F.cosine_embedding_loss, x1, x2, y, margin=margin,
                   reduction=reduction)
    assert_matches(emb.cosine_embedding_loss, F.cosine_embedding_loss, x1[0], x2[0], y[0],
                   margin=margin, reduction=reduction)


def test_cosine_embedding_loss_with_zero_vectors_is_finite_like_torch(device, dtype):
    x1 = torch.zeros(4, 3, dtype=dtype, device=device)
    x2 = torch.tensor([[0.0, 0, 0], [1, 2, 3], [0, 0, 0], [-1, 0, 2]], dtype=dtype, device=device)
    y = torch.tensor([1, 1, -1, -1], device=device)
    ours = x1.clone().requires_grad_()
    loss = emb.cosine_embedding_loss(ours, x2, y)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(ours.grad).all()
    assert loss.item() == pytest.approx(0.5)  # cos = 0: 1 - 0 for positives, 0 for negatives
    # the gradient at a zero vector is x2 / 1e-6-sized norms (~1e6): compare it relatively
    assert_matches(emb.cosine_embedding_loss, F.cosine_embedding_loss, x1, x2, y,
                   reduction="none", rtol=1e-6, atol=1e-6)


def test_cosine_embedding_loss_charges_positive_pairs_and_ignores_other_targets():
    x1, x2 = torch.tensor([[1.0, 0.0]] * 3), torch.tensor([[1.0, 1.0]] * 3)
    y = torch.tensor([1, -1, 0])
    loss = emb.cosine_embedding_loss(x1, x2, y, margin=0.5, reduction="none")
    cos = 1 / math.sqrt(2)
    torch.testing.assert_close(loss, torch.tensor([1 - cos, cos - 0.5, 0.0]))
    torch.testing.assert_close(loss, F.cosine_embedding_loss(x1, x2, y, margin=0.5,
                                                             reduction="none"))


def test_cosine_embedding_loss_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"^target: expected shape \(2,\)"):
        emb.cosine_embedding_loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.ones(3))
    with pytest.raises(ValueError, match=r"^input2: expected shape \(2, 3\)"):
        emb.cosine_embedding_loss(torch.zeros(2, 3), torch.zeros(2, 4), torch.ones(2))


# --------------------------------------------------------------------------- contrastive
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_contrastive_loss_matches_hadsell_et_al(device, dtype, reduction):
    x1, x2 = randn(10, 3, dtype=dtype, device=device), randn(10, 3, seed=1, dtype=dtype,
                                                             device=device)
    y = signs(10, seed=2, device=device)

    def hadsell(x1, x2, target, margin, reduction):
        d = torch.sqrt(((x1 - x2 + 1e-6) ** 2).sum(dim=1))
        similar = (target == 1).to(x1.dtype)  # Hadsell's Y is 1 - similar
        loss = similar * d ** 2 / 2 + (1 - similar) * torch.clamp(margin - d, min=0) ** 2 / 2
        return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]

    assert_matches(emb.contrastive_loss, hadsell, x1, x2, y, margin=2.0, reduction=reduction)


def test_contrastive_loss_rejects_zero_one_targets():
    with pytest.raises(ValueError, match=r"^target: expected values in \{-1, 1\}, got 0"):
        emb.contrastive_loss(torch.zeros(2, 3), torch.ones(2, 3), torch.tensor([0, 1]))


# --------------------------------------------------------------------------- InfoNCE
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("temperature", [0.05, 0.5, 2.0])
def test_info_nce_is_cross_entropy_of_cosine_similarities(device, dtype, reduction, temperature):
    q, k = randn(8, 5, dtype=dtype, device=device), randn(8, 5, seed=1, dtype=dtype,
                                                          device=device)

    def reference(q, k, temperature, reduction):
        logits = F.normalize(q, dim=1) @ F.normalize(k, dim=1).T / temperature
        return F.cross_entropy(logits, torch.arange(len(q), device=q.device),
                               reduction=reduction)

    assert_matches(emb.info_nce_loss, reference, q, k, temperature=temperature,
                   reduction=reduction)


def test_info_nce_by_hand_for_two_pairs():
    q = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    k = torch.tensor([[3.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    c = 1 / math.sqrt(2)
    # s = [[1, c], [0, c]]; row 0 picks s00, row 1 picks s11
    expected = (-math.log(math.exp(1) / (math.exp(1) + math.exp(c)))
                - math.log(math.exp(c) / (1 + math.exp(c)))) / 2
    assert emb.info_nce_loss(q, k, temperature=1.0).item() == pytest.approx(expected)


def test_info_nce_at_temperature_one_is_sohns_n_pair_loss_on_unit_vectors():
    # Sohn (2016), the multi-class N-pair loss: log(1 + sum_{j != i} exp(f_i.f_j+ - f_i.f_i+)),
    # written with a loop over the pairs, on embeddings normalised to unit length
    q, k = randn(5, 4, seed=3, dtype=torch.float64), randn(5, 4, seed=4, dtype=torch.float64)
    def unit(row):
        norm = math.sqrt(sum(x * x for x in row))
        return [x / norm for x in row]

    f, f_plus = [unit(row) for row in q.tolist()], [unit(row) for row in k.tolist()]
    losses = []
    for i, (fi, fi_plus) in enumerate(zip(f, f_plus)):
        positive = sum(a * b for a, b in zip(fi, fi_plus))
        others = sum(math.exp(sum(a * b for a, b in zip(fi, fj)) - positive)
                     for j, fj in enumerate(f_plus) if j != i)
        losses.append(math.log1p(others))
    got = emb.info_nce_loss(q, k, temperature=1.0, reduction="none")
    assert got.tolist() == pytest.approx(losses, rel=1e-12)


@given(st.floats(0.01, 10), st.integers(2, 6))
@settings(max_examples=30, deadline=None)
def test_info_nce_is_between_zero_and_its_bound(temperature, n):
    q, k = randn(n, 3, seed=n), randn(n, 3, seed=n + 1)
    loss = emb.info_nce_loss(q, k, temperature=temperature, reduction="none")
    assert (loss >= 0).all() and (loss <= 2 / temperature + math.log(n) + 1e-9).all()


def test_info_nce_rejects_bad_input():
    with pytest.raises(ValueError, match="^temperature: expected a value > 0, got 0"):
        emb.info_nce_loss(torch.zeros(2, 3), torch.zeros(2, 3), temperature=0)
    with pytest.raises(ValueError, match=r"^query: expected shape \(N, D\)"):
        emb.info_nce_loss(torch.zeros(3), torch.zeros(3))


# --------------------------------------------------------------------------- catalog, grader
def test_torch_named_embedding_functions_are_exported_under_their_torch_names():
    for name in ("pairwise_distance", "triplet_margin_loss", "triplet_margin_with_distance_loss",
                 "cosine_embedding_loss"):
        assert getattr(lossbook, name) is getattr(emb, name)
        assert hasattr(F, name)


def test_triplet_grader_scores_right_wrong_and_missing_answers():
    def right(a, p, n, margin):
        d_ap = ((a - p + 1e-6) ** 2).sum(1).sqrt()
        d_an = ((a - n + 1e-6) ** 2).sum(1).sqrt()
        return torch.clamp(d_ap - d_an + margin, min=0)

    def without_eps(a, p, n, margin):
        return torch.clamp((a - p).norm(dim=1) - (a - n).norm(dim=1) + margin, min=0)

    def squared_distances(a, p, n, margin):
        return torch.clamp(((a - p) ** 2).sum(1) - ((a - n) ** 2).sum(1) + margin, min=0)

    def missing(a, p, n, margin):
        raise NotImplementedError

    assert grade_triplet_loss(right).score == 1.0
    assert grade_triplet_loss(without_eps).score < 1.0
    assert grade_triplet_loss(squared_distances).score < 0.5
    assert grade_triplet_loss(missing).score == 0.0
