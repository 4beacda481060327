"""lossbook.contrastive against independent re-derivations: NT-Xent by explicit loops over
anchors and candidates (SimCLR's eq. 1), CLIP as the mean of two ``F.cross_entropy`` calls
on the logit matrix and its transpose (CLIP's Figure 3, open_clip's ClipLoss), SigLIP as an
explicit double loop of ``-F.logsigmoid`` (SigLIP's eq. 1, open_clip's SigLipLoss); gradients
by autograd against the same references and by ``gradcheck``; the batch-size facts the
chapter states; edge cases, bad input, the catalog samples, the grader and the toy data."""

import functools
import math

import pytest
import torch
import torch.nn.functional as F

import lossbook
import lossbook.contrastive as con
from lossbook.data.contrastive import TwoSensors, digit_images
from lossbook.grading.contrastive import grade_siglip_loss
from tests.reference import assert_matches, randn

REDUCTIONS = ["none", "mean", "sum"]


def views(n=5, d=4, *, dtype=torch.float64, device="cpu", seed=0):
    """Two correlated (n, d) views, as two augmentations of the same examples would be."""
    z1 = randn(n, d, seed=seed, dtype=dtype, device=device)
    return z1, z1 + 0.7 * randn(n, d, seed=seed + 1, dtype=dtype, device=device)


def reduced(per_element, reduction, batch=None):
    if reduction == "none":
        return per_element
    if reduction == "sum":
        return per_element.sum()
    if reduction == "batchmean":
        return per_element.sum() / batch
    return per_element.mean()


# --------------------------------------------------------------------------- references
def nt_xent_by_loops(z1, z2, *, temperature, reduction):
    """SimCLR's eq. 1 written out: for each anchor a, its partner and the 2N - 1 others."""
    z = torch.cat([z1, z2])
    n2 = len(z)
    losses = []
    for a in range(n2):
        partner = (a + n2 // 2) % n2
        sims = [F.cosine_similarity(z[a], z[k], dim=0) / temperature for k in range(n2)]
        denominator = sum(torch.exp(sims[k]) for k in range(n2) if k != a)
        losses.append(-torch.log(torch.exp(sims[partner]) / denominator))
    return reduced(torch.stack(losses), reduction)


def clip_by_cross_entropy(x, y, *, logit_scale, reduction):
    """CLIP's Figure 3: cross-entropy of the logits along rows and along columns."""
    logits = logit_scale * F.normalize(x, dim=1) @ F.normalize(y, dim=1).T
    targets = torch.arange(len(x), device=x.device)
    if reduction == "mean":
        return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2
    both = torch.cat([F.cross_entropy(logits, targets, reduction="none"),
                      F.cross_entropy(logits.T, targets, reduction="none")])
    return reduced(both, reduction)


def siglip_by_loops(x, y, *, logit_scale, logit_bias, reduction):
    """SigLIP's eq. 1 written out: -log sigmoid(z_ij (t x_i . y_j + b)) for every pair."""
    x, y = F.normalize(x, dim=1), F.normalize(y, dim=1)
    n = len(x)
    rows = []
    for i in range(n):
        row = []
        for j in range(n):
            z = 1.0 if i == j else -1.0
            row.append(-F.logsigmoid(z * (logit_scale * (x[i] @ y[j]) + logit_bias)))
        rows.append(torch.stack(row))
    return reduced(torch.stack(rows), reduction, batch=n)


# --------------------------------------------------------------------------- NT-Xent
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("temperature", [0.1, 0.5, 2.0])
def test_nt_xent_matches_simclr_eq1_by_loops(device, dtype, reduction, temperature):
    z1, z2 = views(dtype=dtype, device=device)
    assert_matches(con.nt_xent_loss, nt_xent_by_loops, z1, z2, temperature=temperature,
                   reduction=reduction)


def test_nt_xent_by_hand_for_two_examples():
    # z = (e1, e2, e1, -e2) / rows: the partners are (0, 2) and (1, 3); tau = 1.
    z1 = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    z2 = torch.tensor([[2.0, 0.0], [0.0, -3.0]], dtype=torch.float64)
    # anchor 0: partner cos 1, others cos 0 (e2) and 0 (-e2)
    first = -math.log(math.e / (math.e + 1 + 1))
    # anchor 1: partner cos -1, others cos 0 (e1), 0 (e1)
    second = -math.log(math.exp(-1) / (1 + 1 + math.exp(-1)))
    expected = torch.tensor([first, second, first, second], dtype=torch.float64)
    torch.testing.assert_close(con.nt_xent_loss(z1, z2, temperature=1.0, reduction="none"),
                               expected)


def test_nt_xent_with_a_learned_temperature_tensor(device):
    z1, z2 = views(device=device)
    tau = torch.tensor(0.3, dtype=torch.float64, device=device, requires_grad=True)
    ours = con.nt_xent_loss(z1, z2, temperature=tau)
    theirs = nt_xent_by_loops(z1, z2, temperature=0.3, reduction="mean")
    torch.testing.assert_close(ours, theirs)
    ours.backward()
    assert tau.grad is not None and torch.isfinite(tau.grad)


def test_nt_xent_is_clip_plus_the_same_view_negatives(device):
    z1, z2 = views(8, 6, device=device)
    nt = con.nt_xent_loss(z1, z2, temperature=0.5, reduction="none")
    clip = con.clip_loss(z1, z2, logit_scale=2.0, reduction="none")
    assert (nt > clip).all()  # strictly: the extra terms in the denominator are positive
    # Written by blocks: anchor i of view 1 sees row i of the cross-view matrix and row i of
    # its own view's matrix without the diagonal (itself); the partner is on the diagonal.
    u1, u2 = F.normalize(z1, dim=1), F.normalize(z2, dim=1)
    cross = u1 @ u2.T / 0.5
    same1, same2 = u1 @ u1.T / 0.5, u2 @ u2.T / 0.5
    eye = torch.eye(8, dtype=torch.bool, device=device)
    row1 = torch.cat([cross, same1.masked_fill(eye, -math.inf)], dim=1)
    row2 = torch.cat([cross.T, same2.masked_fill(eye, -math.inf)], dim=1)
    by_blocks = torch.cat([torch.logsumexp(row1, 1), torch.logsumexp(row2, 1)])
    torch.testing.assert_close(nt, by_blocks - torch.cat([cross.diagonal(), cross.diagonal()]))


# --------------------------------------------------------------------------- CLIP
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("logit_scale", [1.0, 1 / 0.07, 100.0])
def test_clip_matches_two_cross_entropies(device, dtype, reduction, logit_scale):
    x, y = views(6, 5, dtype=dtype, device=device)
    assert_matches(con.clip_loss, clip_by_cross_entropy, x, y, logit_scale=logit_scale,
                   reduction=reduction)


def test_clip_learned_scale_gets_the_reference_gradient(device, dtype):
    x, y = views(6, 5, dtype=dtype, device=device)
    log_scale = torch.tensor(math.log(1 / 0.07), dtype=dtype, device=device)

    def ours(x, y, log_scale):
        return con.clip_loss(x, y, logit_scale=log_scale.exp())

    def theirs(x, y, log_scale):
        return clip_by_cross_entropy(x, y, logit_scale=log_scale.exp(), reduction="mean")

    assert_matches(ours, theirs, x, y, log_scale)


def test_clip_is_info_nce_in_both_directions(device, dtype):
    x, y = views(7, 3, dtype=dtype, device=device)
    both = torch.cat([lossbook.info_nce_loss(x, y, temperature=0.25, reduction="none"),
                      lossbook.info_nce_loss(y, x, temperature=0.25, reduction="none")])
    torch.testing.assert_close(con.clip_loss(x, y, logit_scale=4.0, reduction="none"), both)


# --------------------------------------------------------------------------- SigLIP
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("logit_scale, logit_bias", [(10.0, -10.0), (1.0, 0.0), (3.0, 2.0)])
def test_siglip_matches_the_double_loop(device, dtype, reduction, logit_scale, logit_bias):
    x, y = views(5, 4, dtype=dtype, device=device)
    assert_matches(con.siglip_loss, siglip_by_loops, x, y, logit_scale=logit_scale,
                   logit_bias=logit_bias, reduction=reduction)


def test_siglip_default_is_open_clips_normalisation_by_the_batch_size(device):
    x, y = views(6, 4, device=device)
    logits = 10.0 * F.normalize(x, dim=1) @ F.normalize(y, dim=1).T - 10.0
    labels = 2 * torch.eye(6, dtype=torch.float64, device=device) - 1
    open_clip_form = -F.logsigmoid(labels * logits).sum() / 6
    torch.testing.assert_close(con.siglip_loss(x, y, logit_scale=10.0, logit_bias=-10.0),
                               open_clip_form)
    bce = F.binary_cross_entropy_with_logits(logits, (labels + 1) / 2, reduction="sum") / 6
    torch.testing.assert_close(con.siglip_loss(x, y, logit_scale=10.0, logit_bias=-10.0), bce)


def test_siglip_learned_scale_and_bias_get_the_reference_gradient(device, dtype):
    x, y = views(5, 4, dtype=dtype, device=device)
    log_scale = torch.tensor(math.log(10.0), dtype=dtype, device=device)
    bias = torch.tensor(-10.0, dtype=dtype, device=device)

    def ours(x, y, log_scale, bias):
        return con.siglip_loss(x, y, logit_scale=log_scale.exp(), logit_bias=bias)

    def theirs(x, y, log_scale, bias):
        return siglip_by_loops(x, y, logit_scale=log_scale.exp(), logit_bias=bias,
                               reduction="batchmean")

    assert_matches(ours, theirs, x, y, log_scale, bias)


# --------------------------------------------------------------------------- gradcheck
def test_gradcheck_float64():
    x, y = (t.requires_grad_() for t in views(4, 3))
    scale = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    bias = torch.tensor(-1.0, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a, b, t: con.nt_xent_loss(a, b, temperature=t, reduction="none"),
        (x, y, scale))
    assert torch.autograd.gradcheck(
        lambda a, b, t: con.clip_loss(a, b, logit_scale=t, reduction="none"), (x, y, scale))
    assert torch.autograd.gradcheck(
        lambda a, b, t, c: con.siglip_loss(a, b, logit_scale=t, logit_bias=c,
                                           reduction="none"), (x, y, scale, bias))


# --------------------------------------------------------------------------- batch size
@pytest.mark.parametrize("n", [1, 4, 64, 1024])
def test_chance_level_of_the_softmax_forms_is_log_n(n):
    same = torch.ones(n, 3, dtype=torch.float64)
    torch.testing.assert_close(con.clip_loss(same, same, logit_scale=7.0),
                               torch.tensor(math.log(n), dtype=torch.float64))
    torch.testing.assert_close(con.nt_xent_loss(same, same, temperature=0.2),
                               torch.tensor(math.log(2 * n - 1), dtype=torch.float64))


def test_a_pairs_sigmoid_loss_does_not_depend_on_the_rest_of_the_batch():
    x, y = views(8, 6)
    extra_x, extra_y = views(120, 6, seed=5)
    big_x, big_y = torch.cat([x, extra_x]), torch.cat([y, extra_y])
    small = con.siglip_loss(x, y, logit_scale=10.0, logit_bias=-10.0, reduction="none")
    big = con.siglip_loss(big_x, big_y, logit_scale=10.0, logit_bias=-10.0, reduction="none")
    torch.testing.assert_close(big[:8, :8], small)
    # ...while the softmax loss of the same pairs grows with the batch
    clip_small = con.clip_loss(x, y, logit_scale=10.0, reduction="none")[:8]
    clip_big = con.clip_loss(big_x, big_y, logit_scale=10.0, reduction="none")[:8]
    assert (clip_big > clip_small).all()


# --------------------------------------------------------------------------- edge cases
def test_normalisation_is_inside_and_idempotent(device):
    x, y = views(6, 4, device=device)
    lengths = torch.tensor([[0.01], [1.0], [5.0], [100.0], [1e4], [0.5]],
                           dtype=torch.float64, device=device)
    ux, uy = F.normalize(x, dim=1), F.normalize(y, dim=1)
    for fn, kwargs in ((con.nt_xent_loss, {}), (con.clip_loss, {"logit_scale": 5.0}),
                       (con.siglip_loss, {"logit_scale": 5.0, "logit_bias": -2.0})):
        reference = fn(x, y, **kwargs)
        torch.testing.assert_close(fn(x * lengths, y, **kwargs), reference)
        torch.testing.assert_close(fn(ux, uy, **kwargs), reference)  # open_clip's inputs


def test_a_batch_of_one_pair():
    x, y = views(1, 3)
    cos = F.cosine_similarity(x, y).squeeze()
    zero = torch.zeros(1, dtype=torch.float64)
    torch.testing.assert_close(con.nt_xent_loss(x, y, reduction="none"), zero.repeat(2))
    torch.testing.assert_close(con.clip_loss(x, y, logit_scale=3.0, reduction="none"),
                               zero.repeat(2))
    torch.testing.assert_close(con.siglip_loss(x, y, logit_scale=3.0, logit_bias=-1.0),
                               F.softplus(-(3.0 * cos - 1.0)))


def test_huge_logits_stay_finite_and_exact(device):
    x, y = views(6, 4, dtype=torch.float32, device=device)
    clip = con.clip_loss(x, y, logit_scale=1e4)
    torch.testing.assert_close(clip, clip_by_cross_entropy(x, y, logit_scale=1e4,
                                                           reduction="mean"))
    siglip = con.siglip_loss(x, y, logit_scale=1e4, logit_bias=-5e3)
    torch.testing.assert_close(siglip, siglip_by_loops(x, y, logit_scale=1e4, logit_bias=-5e3,
                                                       reduction="batchmean"))
    nt = con.nt_xent_loss(x, y, temperature=1e-4)
    assert torch.isfinite(clip) and torch.isfinite(siglip) and torch.isfinite(nt)


def test_nan_in_nan_out(device):
    x, y = views(4, 3, device=device)
    x[1, 0] = math.nan
    assert con.nt_xent_loss(x, y).isnan()
    assert con.clip_loss(x, y, logit_scale=2.0).isnan()
    assert con.siglip_loss(x, y, logit_scale=2.0, logit_bias=0.0).isnan()
    nan_scale = torch.tensor(math.nan, dtype=torch.float64, device=device)
    assert con.clip_loss(*views(device=device), logit_scale=nan_scale).isnan()
    assert con.siglip_loss(*views(device=device), logit_scale=2.0, logit_bias=math.nan).isnan()


def test_zero_rows_have_cosine_zero_like_f_normalize(device):
    x, y = views(4, 3, device=device)
    x[2] = 0
    assert_matches(con.clip_loss, clip_by_cross_entropy, x, y, logit_scale=5.0,
                   reduction="none")
    assert_matches(con.siglip_loss, siglip_by_loops, x, y, logit_scale=5.0, logit_bias=-1.0,
                   reduction="none")


@pytest.mark.parametrize("half", [torch.float16, torch.bfloat16])
def test_half_precision_is_computed_in_float32_and_returned_in_half(device, half):
    x, y = views(64, 8, dtype=torch.float32, device=device)
    x, y = x * 300, y * 300  # squared norms ~1e5 would overflow float16 (max 65504)
    for fn, kwargs in ((con.nt_xent_loss, {"temperature": 0.1}),
                       (con.clip_loss, {"logit_scale": 100.0}),
                       (con.siglip_loss, {"logit_scale": 10.0, "logit_bias": -10.0})):
        out = fn(x.to(half), y.to(half), **kwargs)
        assert out.dtype == half
        reference = fn(x.to(half).float(), y.to(half).float(), **kwargs)
        torch.testing.assert_close(out.float(), reference, atol=1e-2, rtol=1e-2)


# --------------------------------------------------------------------------- bad input
def test_bad_input_is_refused_with_the_arguments_name():
    x, y = views(3, 2)
    with pytest.raises(ValueError, match=r"^z1: expected shape \(N, D\)"):
        con.nt_xent_loss(x[0], y[0])
    with pytest.raises(ValueError, match=r"^text_features: expected shape \(3, 2\)"):
        con.clip_loss(x, y[:2], logit_scale=1.0)
    with pytest.raises(TypeError, match="^image_features: expected a floating-point"):
        con.siglip_loss(x.long(), y, logit_scale=1.0, logit_bias=0.0)
    with pytest.raises(ValueError, match="^temperature: expected a value > 0, got 0"):
        con.nt_xent_loss(x, y, temperature=0)
    with pytest.raises(ValueError, match="^logit_scale: expected a value > 0, got -1"):
        con.clip_loss(x, y, logit_scale=-1.0)
    with pytest.raises(RuntimeError, match="^logit_scale: expected a value > 0, got -2"):
        con.siglip_loss(x, y, logit_scale=torch.tensor(-2.0), logit_bias=0.0)
    with pytest.raises(ValueError, match="^logit_bias: expected a number or a one-element"):
        con.siglip_loss(x, y, logit_scale=1.0, logit_bias=torch.zeros(2))
    with pytest.raises(TypeError, match="^logit_scale: expected a number or a one-element"):
        con.clip_loss(x, y, logit_scale=True)
    with pytest.raises(TypeError, match="^logit_scale: expected a number or a one-element"):
        con.clip_loss(x, y, logit_scale="10")
    with pytest.raises(ValueError, match="^reduction: expected one of"):
        con.clip_loss(x, y, logit_scale=1.0, reduction="batchmean")
    with pytest.raises(TypeError):
        con.clip_loss(x, y, 1.0)  # hyper-parameters are keyword-only


# --------------------------------------------------------------------------- catalog
@pytest.mark.parametrize("entry", con.CATALOG, ids=lambda e: e.name)
def test_catalog_samples_run_with_finite_value_and_gradient(entry, device, dtype):
    sample = entry.inputs(torch.Generator().manual_seed(0), dtype, device)
    args = [a.detach().requires_grad_() for a in sample.args]
    out = entry.function(*args, **sample.kwargs)
    assert out.dim() == 0 and out.dtype == dtype and torch.isfinite(out)
    out.backward()
    assert all(a.grad is not None and torch.isfinite(a.grad).all() for a in args)
    assert getattr(lossbook, entry.name) is entry.function


# --------------------------------------------------------------------------- grader
def right(x, y, t, b):
    logits = t * F.normalize(x, dim=1) @ F.normalize(y, dim=1).T + b
    z = 2 * torch.eye(len(x), dtype=logits.dtype) - 1
    return -F.logsigmoid(z * logits).sum() / len(x)


def test_siglip_grader_scores_right_wrong_and_missing_answers():
    def unstable(x, y, t, b):  # log(sigmoid) overflows for huge logits
        logits = t * F.normalize(x, dim=1) @ F.normalize(y, dim=1).T + b
        z = 2 * torch.eye(len(x), dtype=logits.dtype) - 1
        return -torch.log(torch.sigmoid(z * logits)).sum() / len(x)

    def not_normalised(x, y, t, b):
        z = 2 * torch.eye(len(x), dtype=x.dtype) - 1
        return -F.logsigmoid(z * (t * x @ y.T + b)).sum() / len(x)

    def mean_over_pairs(x, y, t, b):
        return right(x, y, t, b) / len(x)

    def missing(x, y, t, b):
        raise NotImplementedError

    report = grade_siglip_loss(right)
    assert report.score == 1.0, str(report)
    assert 0.5 < grade_siglip_loss(unstable).score < 1.0
    assert grade_siglip_loss(not_normalised).score < 0.5
    assert grade_siglip_loss(mean_over_pairs).score < 0.5
    assert grade_siglip_loss(missing).score == 0.0


def test_siglip_grader_refuses_lossbooks_own_function():
    def wrapper(x, y, t, b):
        return lossbook.siglip_loss(x, y, logit_scale=t, logit_bias=b)

    for answer in (lossbook.siglip_loss, con.siglip_loss, wrapper,
                   functools.partial(con.siglip_loss, reduction="batchmean"),
                   lambda x, y, t, b: con.siglip_loss(x, y, logit_scale=t, logit_bias=b)):
        report = grade_siglip_loss(answer)
        assert report.score == 0.0 and "implement it yourself" in str(report)


# --------------------------------------------------------------------------- toy data
def test_digit_images_split_and_range():
    train, test = digit_images(seed=0)
    assert train.shape == (1347, 64) and test.shape == (450, 64)
    assert train.min() >= 0 and train.max() <= 1 and train.dtype == torch.float32


def test_two_sensors_read_the_same_digit_in_a_fixed_scrambled_order():
    train, test = digit_images(seed=0, dtype=torch.float64)
    quiet = TwoSensors(train, noise=0.0, seed=3)
    camera, scrambled = quiet(test[:10], seed=1)
    torch.testing.assert_close(scrambled, camera[:, quiet.order])
    assert sorted(quiet.order.tolist()) == list(range(64))
    noisy = TwoSensors(train, noise=0.2, seed=3)
    first, again, other = noisy(test[:10], seed=1), noisy(test[:10], seed=1), noisy(test[:10],
                                                                                     seed=2)
    torch.testing.assert_close(first[0], again[0])
    assert not torch.equal(first[0], other[0])
    torch.testing.assert_close(camera.mean(), torch.tensor(0.0, dtype=torch.float64),
                               atol=0.2, rtol=0)  # centred on the training mean
    with pytest.raises(ValueError, match="^noise"):
        TwoSensors(train, noise=-1.0)
