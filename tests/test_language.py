"""lossbook.language against torch and the papers' formulas: linear_cross_entropy on PyTorch's
own op_db samples and error inputs, label smoothing and half precision on materialised logits,
the memory it saves, z-loss, and the preference losses (Bradley–Terry, DPO, IPO, SimPO)."""

import math
import re
import warnings

import pytest
import torch
import torch.nn.functional as F

import lossbook
import lossbook.language as lang
from lossbook import _checks as check
from tests.conformance import torch_testing
from tests.reference import TOLERANCES, assert_matches, classes, generator, rand, randn

REDUCTIONS = ["none", "mean", "sum"]
LCEO = torch.nn.LinearCrossEntropyOptions


# --------------------------------------------------------------------------- op_db
def op_infos():
    op_db = torch_testing("common_methods_invocations").op_db  # leaves torch's flags settable
    found = {o.variant_test_name: o for o in op_db
             if o.name == "nn.functional.linear_cross_entropy"}
    assert set(found) == {"", "chunked", "chunked_none"}
    return found


def floating_leaves(sample):
    tensors = [sample.input, *sample.args, *sample.kwargs.values()]
    return [t for t in tensors if isinstance(t, torch.Tensor) and t.requires_grad]


def run(function, sample):
    """``function`` on a fresh copy of ``sample``: output and the gradients of every leaf."""
    sample = sample.transform(lambda t: t.detach().clone().requires_grad_(t.requires_grad)
                              if isinstance(t, torch.Tensor) else t)
    with warnings.catch_warnings():  # torch: "options ignored" for probability targets
        warnings.simplefilter("ignore")
        out = function(sample.input, *sample.args, **sample.kwargs)
    projection = torch.rand(out.shape, generator=generator(1), dtype=torch.float64).to(out)
    grads = torch.autograd.grad((out * projection).sum(), floating_leaves(sample))
    return out, grads


@pytest.mark.parametrize("variant", ["", "chunked", "chunked_none"])
def test_linear_cross_entropy_matches_torch_on_op_db_samples(device, dtype, variant):
    samples = list(op_infos()[variant].sample_inputs(device, dtype, requires_grad=True))
    assert len(samples) > 70
    for i, sample in enumerate(samples):
        ours, our_grads = run(lossbook.linear_cross_entropy, sample)
        theirs, their_grads = run(F.linear_cross_entropy, sample)
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, i
        assert len(our_grads) == len(their_grads) >= 2
        msg = lambda m, i=i, s=sample: f"sample {i} {s}: {m}"  # noqa: E731
        torch.testing.assert_close(ours, theirs, msg=msg, **TOLERANCES[dtype])
        for a, b in zip(our_grads, their_grads):
            torch.testing.assert_close(a, b, msg=msg, **TOLERANCES[dtype])


def test_linear_cross_entropy_raises_torchs_errors_on_op_db_error_inputs(device):
    errors = list(op_infos()[""].error_inputs(device))
    assert len(errors) == 6
    for error in errors:
        s = error.sample_input
        with pytest.raises(check.ArgumentError) as raised:
            lossbook.linear_cross_entropy(s.input, *s.args, **s.kwargs)
        assert isinstance(raised.value, error.error_type)  # RuntimeError, as torch
        assert re.search(error.error_regex, str(raised.value)), str(raised.value)


def test_signature_is_torchs():
    import inspect

    ours = inspect.signature(lossbook.linear_cross_entropy).parameters.values()
    theirs = inspect.signature(F.linear_cross_entropy).parameters.values()
    assert [(p.name, p.kind, p.default) for p in ours] == [
        (p.name, p.kind, p.default) for p in theirs]


# --------------------------------------------------------------------------- beyond op_db
def materialised(x, w, target, linear_bias=None, **kwargs):
    """The reference: torch's logits, then torch's cross_entropy."""
    kwargs.pop("options", None)
    logits = F.linear(x, w.flatten(0, -2), linear_bias if linear_bias is None
                      else linear_bias.flatten())
    logits = logits.reshape(*x.shape[:-1], *w.shape[:-1])
    kwargs["ignore_index"] = -100 if kwargs.get("ignore_index") is None else kwargs["ignore_index"]
    return F.cross_entropy(logits, target, **kwargs)


LAYOUTS = {  # input, linear_weight, target shapes (class indices)
    "unbatched": ((6,), (11, 6), ()),
    "batch": ((13, 6), (11, 6), (13,)),
    "K-dimensional": ((7, 6), (11, 3, 6), (7, 3)),
}


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("chunk", [1, 4, None], ids=["rows=1", "rows=4", "default"])
def test_label_smoothing_weights_and_padding_match_cross_entropy(
        device, dtype, layout, reduction, label_smoothing, chunk):
    x_shape, w_shape, t_shape = layout
    x = randn(*x_shape, dtype=dtype, device=device)
    w = randn(*w_shape, seed=1, dtype=dtype, device=device)
    bias = randn(*w_shape[:-1], seed=2, dtype=dtype, device=device)
    target = classes(*t_shape, num_classes=w_shape[0], seed=3, device=device)
    target = torch.where(classes(*t_shape, num_classes=3, seed=4, device=device) == 0,
                         -1, target)  # about a third is padding
    if target.dim():
        target.view(-1)[0] = 2  # at least one kept token
    class_weight = rand(w_shape[0], seed=5, dtype=dtype, device=device) + 0.5
    options = LCEO(batch_chunk_size=chunk) if chunk else None
    assert_matches(lang.linear_cross_entropy, materialised, x, w, target, linear_bias=bias,
                   weight=class_weight, reduction=reduction, ignore_index=-1,
                   label_smoothing=label_smoothing, options=options)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_probability_targets_match_cross_entropy_including_the_target_gradient(
        device, dtype, reduction, label_smoothing):
    x = randn(9, 5, dtype=dtype, device=device)
    w = randn(4, 2, 5, seed=1, dtype=dtype, device=device)
    q = torch.softmax(randn(9, 4, 2, seed=2, dtype=dtype, device=device), dim=1)
    class_weight = rand(4, seed=3, dtype=dtype, device=device) + 0.5
    assert_matches(lang.linear_cross_entropy, materialised, x, w, q, weight=class_weight,
                   reduction=reduction, label_smoothing=label_smoothing,
                   options=LCEO(batch_chunk_size=2))


@pytest.mark.parametrize("half", [torch.float16, torch.bfloat16])
def test_half_precision_logits_are_normalised_in_float32(device, half):
    x = randn(32, 16, device=device, scale=4).to(half)
    w = randn(50, 16, seed=1, device=device, scale=4).to(half)
    target = classes(32, num_classes=50, seed=2, device=device)
    ours = lang.linear_cross_entropy(x, w, target, options=LCEO(batch_chunk_size=8))
    exact = materialised(x.double(), w.double(), target)  # logits near 100: exact in float64
    assert ours.dtype == half
    torch.testing.assert_close(ours.double(), exact, atol=0, rtol=2e-2)


def test_chunk_size_options_follow_torch(device):
    # "aspect_ratio:k" is torch's documented rule; torch's own resolution is the reference.
    for rows, in_features, classes_, method in [(4096, 512, 128_000, "aspect_ratio"),
                                                (1000, 64, 5000, "aspect_ratio:2"),
                                                (7, 3, 50, "aspect_ratio:4")]:
        theirs = LCEO(chunking_method=method)._adjust(rows, in_features, classes_,
                                                       torch.float32).batch_chunk_size
        ours = lang._rows_per_chunk(LCEO(chunking_method=method), rows, in_features, classes_)
        assert ours == theirs
    assert lang._rows_per_chunk(LCEO(batch_chunk_size=3), 10, 5, 7) == 3
    assert lang._rows_per_chunk(LCEO(chunking_method=None), 10, 5, 7) == 10
    assert lang._rows_per_chunk(None, 4096, 512, 128_000) == 512  # logits = weight's size
    with pytest.raises(check.ArgumentError, match="options: batch_chunk_size"):
        x, w = randn(64, 8, device=device), randn(50, 8, device=device)
        lang.linear_cross_entropy(x, w, classes(64, num_classes=50, device=device),
                                  options=LCEO(batch_chunk_size=5, chunking_method="aspect_ratio"))


def test_tensor_memory_counts_new_storage_until_it_is_freed():
    x = torch.zeros(1000, dtype=torch.float32)
    with lang.TensorMemory() as memory:
        view = x[:500].t()  # a view of an old tensor: nothing new
        assert memory.peak == 0
        a = x + 1  # 4000 bytes
        b = a * 2  # 4000 more
        del a, b
        c = torch.empty(250, dtype=torch.float64)  # 2000 bytes, after both were freed
    assert (memory.peak, memory.live) == (8000, 2000)
    del view, c


def test_chunking_keeps_the_logits_out_of_memory():
    n, d, v = 512, 16, 3000
    x = randn(n, d, dtype=torch.float32).requires_grad_()
    w = randn(v, d, seed=1, dtype=torch.float32).requires_grad_()
    target = classes(n, num_classes=v, seed=2)
    peaks = {}
    for name, f in (("torch", F.linear_cross_entropy), ("lossbook", lang.linear_cross_entropy)):
        with lang.TensorMemory() as memory:
            f(x, w, target, options=LCEO(batch_chunk_size=32)
              if f is lang.linear_cross_entropy else None).backward()
        peaks[name] = memory.peak
        x.grad = w.grad = None
    logits = n * v * 4
    assert peaks["torch"] >= 2 * logits  # logits and their log-softmax (or gradient)
    assert peaks["lossbook"] < logits / 4  # gradients of x and w, and a chunk or two


def test_linear_cross_entropy_edge_cases_are_torchs(device):
    x = randn(4, 3, dtype=torch.float64, device=device)
    w = randn(5, 3, seed=1, dtype=torch.float64, device=device)
    padding = torch.full((4,), -100, device=device)
    for reduction in REDUCTIONS:  # every token padding: 0/0 = NaN for 'mean', as torch
        assert_matches(lang.linear_cross_entropy, F.linear_cross_entropy, x, w, padding,
                       reduction=reduction)
    x_nan = x.clone()
    x_nan[1, 0] = math.nan
    loss = lang.linear_cross_entropy(x_nan, w, classes(4, num_classes=5, device=device),
                                     reduction="none")
    assert loss.isnan().tolist() == [False, True, False, False]
    empty = lang.linear_cross_entropy(x[:0], w, padding[:0])
    assert empty.isnan()  # mean over no token
    with pytest.raises(check.ArgumentError, match="target: class indices must be in"):
        lang.linear_cross_entropy(x, w, torch.tensor([0, 1, 5, 2], device=device))
    with pytest.raises(check.ArgumentError, match="weight: class weights are not diff"):
        lang.linear_cross_entropy(x, w, padding, weight=torch.ones(5, requires_grad=True,
                                                                  device=device))
    with pytest.raises(check.ArgumentTypeError, match="linear_weight: expected dtype"):
        lang.linear_cross_entropy(x, w.float(), padding)


# --------------------------------------------------------------------------- z-loss
def z_loss_by_hand(logits, target=None, ignore_index=-100, coefficient=1e-4,
                   reduction="mean"):
    per_token = coefficient * torch.logsumexp(logits, dim=1) ** 2
    keep = torch.ones_like(per_token, dtype=torch.bool) if target is None else (
        target != ignore_index)
    per_token = per_token * keep
    if reduction == "none":
        return per_token
    return per_token.sum() / keep.sum() if reduction == "mean" else per_token.sum()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("padded", [False, True])
def test_z_loss_matches_palms_formula(device, dtype, reduction, padded):
    logits = randn(6, 9, 3, dtype=dtype, device=device, scale=4)
    target = classes(6, 3, num_classes=9, seed=1, device=device)
    target[0, :2] = -100
    args = (logits, target) if padded else (logits,)
    assert_matches(lambda *a, **k: lang.z_loss(*a, coefficient=0.5, **k),
                   lambda *a, **k: z_loss_by_hand(*a, coefficient=0.5, **k),
                   *args, reduction=reduction)


def test_z_loss_hand_case_and_half_precision():
    logits = torch.tensor([[0.0, math.log(3.0)], [1e4, 1e4]])  # log Z = log 4, 1e4 + log 2
    expected = torch.tensor([math.log(4) ** 2, (1e4 + math.log(2)) ** 2]) * 1e-4
    torch.testing.assert_close(lang.z_loss(logits, reduction="none"), expected)
    half = lang.z_loss(logits.half(), reduction="none")  # log Z in float32, no inf
    assert half.dtype == torch.float16 and half.isfinite().all()
    with pytest.raises(check.ArgumentError, match="target: expected shape"):
        lang.z_loss(logits, torch.zeros(3, dtype=torch.long))


# --------------------------------------------------------------------------- preferences
def logps(*shape, seed, dtype=torch.float64, device="cpu"):
    return -rand(*shape, seed=seed, dtype=dtype, device=device) * 8


def dpo_by_hand(pc, pr, rc, rr, beta):
    return -F.logsigmoid(beta * ((pc - rc) - (pr - rr)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bradley_terry_is_the_logistic_loss_of_the_reward_margin(device, dtype, reduction):
    chosen, rejected = (randn(10, seed=s, dtype=dtype, device=device, scale=3) for s in (1, 2))
    assert_matches(lang.bradley_terry_loss, lambda c, r, reduction: reduce_by_hand(
        -F.logsigmoid(c - r), reduction), chosen, rejected, reduction=reduction)
    margin = (chosen - rejected).detach()
    torch.testing.assert_close(  # the logistic (soft margin) loss of the margin, label +1
        lang.bradley_terry_loss(margin, torch.zeros_like(margin), reduction=reduction),
        F.soft_margin_loss(margin, torch.ones_like(margin), reduction=reduction))


def reduce_by_hand(loss, reduction):
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def test_bradley_terry_is_finite_at_extreme_margins():
    loss = lang.bradley_terry_loss(torch.tensor([-1e4, 1e4]), torch.zeros(2), reduction="none")
    assert loss.tolist() == [1e4, 0.0]
    naive = -torch.log(torch.sigmoid(torch.tensor(-1e4)))
    assert naive.isinf()  # the reason for softplus


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("beta", [0.1, 2.0])
def test_dpo_and_ipo_match_the_papers_formulas(device, dtype, reduction, beta):
    args = [logps(7, seed=s, dtype=dtype, device=device) for s in range(4)]
    assert_matches(lang.dpo_loss, lambda *a, beta, reduction: reduce_by_hand(
        dpo_by_hand(*a, beta), reduction), *args, beta=beta, reduction=reduction)

    def ipo_by_hand(pc, pr, rc, rr, beta, reduction):  # Azar et al. eq. 17, TRL's convention
        return reduce_by_hand(((pc - rc) - (pr - rr) - 1 / (2 * beta)) ** 2, reduction)

    assert_matches(lang.ipo_loss, ipo_by_hand, *args, beta=beta, reduction=reduction)


def test_dpo_is_bradley_terry_on_implicit_rewards_and_a_hand_case():
    pc, pr, rc, rr = (torch.tensor([v], dtype=torch.float64) for v in (-1.0, -3.0, -2.0, -2.0))
    # h = (-1 + 2) - (-3 + 2) = 2, beta h = 1: -log sigma(1) = log(1 + e^-1)
    assert lang.dpo_loss(pc, pr, rc, rr, beta=0.5).item() == pytest.approx(
        math.log(1 + math.exp(-1)), rel=1e-12)
    assert lang.ipo_loss(pc, pr, rc, rr, beta=0.5).item() == pytest.approx(1.0)  # (2 - 1)^2
    args = [logps(5, seed=s) for s in range(4)]
    torch.testing.assert_close(
        lang.dpo_loss(*args, beta=0.3),
        lang.bradley_terry_loss(0.3 * (args[0] - args[2]), 0.3 * (args[1] - args[3])))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_simpo_matches_the_papers_formula(device, dtype, reduction):
    pc, pr = (logps(8, seed=s, dtype=dtype, device=device) * 5 for s in (1, 2))
    lc, lr = (classes(8, num_classes=30, seed=s, device=device) + 1 for s in (3, 4))

    def by_hand(pc, pr, lc, lr, beta, gamma, reduction):  # Meng et al. eq. 6
        return reduce_by_hand(-F.logsigmoid(beta * pc / lc - beta * pr / lr - gamma), reduction)

    assert_matches(lang.simpo_loss, by_hand, pc, pr, lc, lr, beta=2.5, gamma=1.2,
                   reduction=reduction)
    # a hand case: average log-probabilities -1 and -2, beta = 2, gamma = 0.5: -log sigma(1.5)
    value = lang.simpo_loss(torch.tensor([-4.0]), torch.tensor([-6.0]), torch.tensor([4]),
                            torch.tensor([3]))
    assert value.item() == pytest.approx(math.log(1 + math.exp(-1.5)), rel=1e-6)


def test_preference_losses_reject_bad_arguments():
    a, b = torch.zeros(3), torch.zeros(4)
    with pytest.raises(check.ArgumentError, match="policy_rejected_logps: expected shape"):
        lang.dpo_loss(a, b, a, a)
    with pytest.raises(check.ArgumentError, match="beta: expected a number > 0"):
        lang.ipo_loss(a, a, a, a, beta=0.0)
    with pytest.raises(check.ArgumentError, match="rejected_lengths: expected lengths > 0"):
        lang.simpo_loss(a, a, torch.ones(3), torch.tensor([1, 0, 2]))
    with pytest.raises(check.ArgumentTypeError, match="chosen_rewards"):
        lang.bradley_terry_loss(torch.zeros(3, dtype=torch.long), a)
    with pytest.raises(check.ArgumentError, match="reduction"):
        lang.bradley_terry_loss(a, a, reduction="batchmean")


def test_preference_losses_keep_half_precision_and_compile_free_checks():
    half = [logps(4, seed=s, dtype=torch.float32).half() for s in range(4)]
    for loss in (lang.dpo_loss(*half), lang.ipo_loss(*half),
                 lang.bradley_terry_loss(*half[:2]),
                 lang.simpo_loss(*half[:2], torch.ones(4), torch.ones(4))):
        assert loss.dtype == torch.float16 and loss.isfinite()


# --------------------------------------------------------------------------- grader
def test_dpo_grader_passes_a_stable_answer_fails_a_naive_one_and_refuses_lossbooks():
    import functools

    from lossbook.grading.language import grade_dpo_loss

    def stable(pc, pr, rc, rr, beta):
        return F.softplus(-beta * ((pc - rc) - (pr - rr)))

    def naive(pc, pr, rc, rr, beta):
        return -torch.log(torch.sigmoid(beta * ((pc - rc) - (pr - rr))))

    assert grade_dpo_loss(stable).score == 1.0
    report = grade_dpo_loss(naive)
    failed = [text for ok, text in report.checks if not ok]
    assert failed and all("thousands" in text for text in failed)
    for own in (lossbook.dpo_loss, functools.partial(lang.dpo_loss, reduction="none")):
        refused = grade_dpo_loss(own)
        assert refused.score == 0.0 and "implement it yourself" in str(refused)


# --------------------------------------------------------------------------- catalog
@pytest.mark.parametrize("entry", lang.CATALOG, ids=lambda e: e.name)
def test_catalog_samples_make_valid_differentiable_calls(entry, device, dtype):
    sample = entry.inputs(generator(0), dtype, device)
    args = [a.detach().clone().requires_grad_() if a.is_floating_point() else a
            for a in sample.args]
    loss = entry.function(*args, **sample.kwargs)
    assert loss.dim() == 0 and loss.dtype == dtype and loss.isfinite()
    (grad,) = torch.autograd.grad(loss, args[0])
    assert grad.shape == args[0].shape and grad.isfinite().all()
