"""lossbook.sequence: ctc_loss against torch.nn.functional.ctc_loss and against brute-force
enumeration of all paths; the alignment table, greedy decoding, edge cases and bad input."""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import lossbook
import lossbook.sequence as seq
from lossbook.grading.sequence import grade_ctc_negative_log_likelihood
from tests.reference import assert_matches, generator

REDUCTIONS = ["none", "mean", "sum"]


def ctc_problem(frames, batch, classes, longest, blank, seed=0, device="cpu",
                dtype=torch.float64, feasible=False):
    """Random logits (T, N, C), padded targets without the blank, and random lengths (long
    enough for any target of ``longest`` labels if ``feasible``)."""
    logits = torch.randn(frames, batch, classes, generator=generator(seed), dtype=dtype) * 2
    labels = torch.tensor([c for c in range(classes) if c != blank])
    picks = torch.randint(0, classes - 1, (batch, longest), generator=generator(seed + 1))
    shortest = 2 * longest + 1 if feasible else 1
    input_lengths = torch.randint(shortest, frames + 1, (batch,), generator=generator(seed + 2))
    target_lengths = torch.randint(0, longest + 1, (batch,), generator=generator(seed + 3))
    input_lengths[0] = frames  # the longest input is used in full
    return (logits.to(device), labels[picks].to(device), input_lengths.to(device),
            target_lengths.to(device))


def through_log_softmax(ctc):
    """Compare as a network uses CTC: on logits, through log_softmax (see ctc_loss's gradient
    note: torch's backward already includes the log-softmax Jacobian's y_k term)."""
    def loss(logits, *args, **kwargs):
        return ctc(F.log_softmax(logits, dim=2), *args, **kwargs)
    return loss


def concatenate(padded, target_lengths):
    return torch.cat([row[:length] for row, length in zip(padded, target_lengths.tolist())])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("blank", [0, 3, 5])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_matches_torch_on_random_lengths(device, dtype, reduction, blank,
                                                  zero_infinity):
    # Without zero_infinity every target is feasible: torch's gradient of an inf loss is NaN.
    logits, targets, input_lengths, target_lengths = ctc_problem(
        12, 5, 6, 4, blank, seed=blank, device=device, dtype=dtype, feasible=not zero_infinity)
    for form in (targets, concatenate(targets, target_lengths)):
        assert_matches(through_log_softmax(seq.ctc_loss), through_log_softmax(F.ctc_loss),
                       logits, form, input_lengths, target_lengths, blank=blank,
                       reduction=reduction, zero_infinity=zero_infinity)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ctc_loss_values_match_torch_including_infinities(reduction):
    logits, targets, input_lengths, target_lengths = ctc_problem(6, 8, 4, 5, blank=0, seed=3)
    log_probs = F.log_softmax(logits, dim=2)
    ours = seq.ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction=reduction)
    theirs = F.ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction=reduction)
    assert torch.isinf(theirs).any()  # the problem includes infeasible targets
    torch.testing.assert_close(ours, theirs)


def test_lengths_may_be_tuples_lists_or_tensors():
    logits, targets, input_lengths, target_lengths = ctc_problem(7, 3, 5, 3, blank=0, seed=4)
    log_probs = F.log_softmax(logits, dim=2)
    expected = F.ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction="none")
    for convert in (tuple, list, torch.tensor):
        got = seq.ctc_loss(log_probs, targets, convert(input_lengths.tolist()),
                           convert(target_lengths.tolist()), reduction="none")
        torch.testing.assert_close(got, expected)


def test_unbatched_input_matches_torch():
    logits = torch.randn(9, 5, generator=generator(5), dtype=torch.float64)
    target = torch.tensor([1, 4, 4, 2])
    log_probs = F.log_softmax(logits, dim=1)
    for reduction in REDUCTIONS:
        ours = seq.ctc_loss(log_probs, target, torch.tensor(9), torch.tensor(4),
                            reduction=reduction)
        theirs = F.ctc_loss(log_probs, target, torch.tensor(9), torch.tensor(4),
                            reduction=reduction)
        torch.testing.assert_close(ours, theirs)
        assert ours.shape == theirs.shape


def test_gradient_with_respect_to_log_probs_is_torchs_minus_the_probabilities():
    logits, targets, input_lengths, target_lengths = ctc_problem(8, 3, 5, 3, blank=0, seed=6)
    target_lengths = torch.tensor([3, 1, 2])
    input_lengths = torch.tensor([8, 6, 8])
    ours_in = F.log_softmax(logits, dim=2).requires_grad_()
    theirs_in = ours_in.detach().clone().requires_grad_()
    seq.ctc_loss(ours_in, targets, input_lengths, target_lengths, reduction="sum").backward()
    F.ctc_loss(theirs_in, targets, input_lengths, target_lengths, reduction="sum").backward()
    used = (torch.arange(8)[:, None] < input_lengths).unsqueeze(2)  # frames each sequence uses
    expected = theirs_in.grad - theirs_in.detach().exp() * used
    torch.testing.assert_close(ours_in.grad, expected)
    occupancy = -ours_in.grad.sum(dim=2)  # posterior of being *somewhere* at each used frame
    torch.testing.assert_close(occupancy, used.squeeze(2).double())


def brute_force_nll(log_probs, target, blank):
    """-log of the summed probability of every path that collapses to ``target``."""
    frames, classes = log_probs.shape
    total = torch.zeros((), dtype=log_probs.dtype)
    for path in itertools.product(range(classes), repeat=frames):
        collapsed = [k for k, _ in itertools.groupby(path) if k != blank]
        if collapsed == target:
            total = total + log_probs[torch.arange(frames), torch.tensor(path)].sum().exp()
    return -torch.log(total)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), frames=st.integers(1, 5), classes=st.integers(2, 3),
       length=st.integers(0, 3), blank=st.integers(0, 2))
def test_ctc_loss_is_the_sum_over_all_paths(seed, frames, classes, length, blank):
    blank = blank % classes
    logits = torch.randn(frames, classes, generator=generator(seed), dtype=torch.float64)
    log_probs = F.log_softmax(logits, dim=1)
    labels = [c for c in range(classes) if c != blank]
    picks = torch.randint(0, len(labels), (length,), generator=generator(seed + 1)).tolist()
    target = [labels[i] for i in picks]
    expected = brute_force_nll(log_probs, target, blank)
    got = seq.ctc_loss(log_probs, torch.tensor(target, dtype=torch.long), frames, length,
                       blank=blank, reduction="sum")
    torch.testing.assert_close(got, expected)  # inf when no path collapses to the target


def test_hand_example_two_frames_one_label():
    # paths for "1" over two frames: (1, 1), (0, 1), (1, 0) with blank 0
    y = torch.tensor([[0.6, 0.4], [0.3, 0.7]], dtype=torch.float64)
    p = 0.4 * 0.7 + 0.6 * 0.7 + 0.4 * 0.3
    loss = seq.ctc_loss(y.log(), torch.tensor([1]), 2, 1, reduction="sum")
    assert loss.item() == pytest.approx(-math.log(p))
    best_path = seq.ctc_greedy_decode(y.log())
    assert best_path == [1]


def test_repeated_labels_need_a_blank_between_them():
    log_probs = F.log_softmax(torch.randn(3, 3, generator=generator(7)), dim=1)
    twice = torch.tensor([1, 1])
    assert torch.isinf(seq.ctc_loss(log_probs[:2], twice, 2, 2))  # "1 1" collapses to "1"
    assert torch.isfinite(seq.ctc_loss(log_probs, twice, 3, 2))  # "1 - 1"
    assert torch.isfinite(seq.ctc_loss(log_probs[:2], torch.tensor([1, 2]), 2, 2))


def test_zero_infinity_zeroes_value_and_gradient_like_torch():
    log_probs = F.log_softmax(torch.randn(2, 2, 3, generator=generator(8)), dim=2)
    targets = torch.tensor([[1, 1], [1, 2]])
    for ctc in (seq.ctc_loss, F.ctc_loss):
        x = log_probs.detach().clone().requires_grad_()
        loss = ctc(x, targets, (2, 2), (2, 2), reduction="none", zero_infinity=True)
        loss.sum().backward()
        assert loss[0].item() == 0.0 and loss[1].item() > 0
        assert x.grad[:, 0].abs().sum().item() == 0.0


def test_infeasible_target_without_zero_infinity_has_zero_gradient_not_nan():
    x = F.log_softmax(torch.randn(2, 1, 3, generator=generator(9)), dim=2).requires_grad_()
    loss = seq.ctc_loss(x, torch.tensor([[1, 1]]), (2,), (2,), reduction="sum")
    loss.backward()
    assert torch.isinf(loss) and (x.grad == 0).all()


def test_no_frames_and_empty_targets_match_torch():
    log_probs = F.log_softmax(torch.randn(4, 3, 5, generator=generator(10),
                                          dtype=torch.float64), dim=2)
    targets = torch.tensor([[1, 2], [3, 3], [1, 1]])
    for lengths in [((0, 4, 4), (0, 2, 2)), ((0, 4, 2), (1, 0, 2))]:
        for reduction in REDUCTIONS:
            torch.testing.assert_close(
                seq.ctc_loss(log_probs, targets, *lengths, reduction=reduction),
                F.ctc_loss(log_probs, targets, *lengths, reduction=reduction))


def test_mean_divides_by_target_length_then_averages():
    logits, targets, input_lengths, _ = ctc_problem(10, 4, 5, 3, blank=0, seed=11)
    target_lengths = torch.tensor([3, 1, 0, 2])
    log_probs = F.log_softmax(logits, dim=2)
    per_sequence = seq.ctc_loss(log_probs, targets, (10,) * 4, target_lengths, reduction="none")
    mean = seq.ctc_loss(log_probs, targets, (10,) * 4, target_lengths)
    torch.testing.assert_close(mean, (per_sequence / torch.tensor([3, 1, 1, 2])).mean())


def test_alignment_table_ends_in_the_likelihood_and_starts_in_two_cells():
    logits = torch.randn(6, 4, generator=generator(12), dtype=torch.float64)
    log_probs, target = F.log_softmax(logits, dim=1), torch.tensor([2, 3, 3])
    table = seq.ctc_alignment_table(log_probs, target)
    assert table.shape == (6, 7)
    assert torch.isfinite(table[0, :2]).all() and torch.isinf(table[0, 2:]).all()
    torch.testing.assert_close(table[0, :2], log_probs[0, [0, 2]])
    nll = -torch.logsumexp(table[-1, -2:], dim=0)
    torch.testing.assert_close(nll, F.ctc_loss(log_probs, target, torch.tensor(6),
                                               torch.tensor(3), reduction="sum"))
    assert torch.isinf(table[1, 4:]).all()  # two frames can read at most two labels: s <= 3


def test_greedy_decode_collapses_repeats_then_drops_blanks():
    path = torch.tensor([0, 1, 1, 0, 1, 2, 2, 0, 0, 3])  # "-11-122--3"
    log_probs = F.one_hot(path, 4).double().mul(5).log_softmax(1)
    assert seq.ctc_greedy_decode(log_probs) == [1, 1, 2, 3]
    assert seq.ctc_greedy_decode(log_probs, blank=2) == [0, 1, 0, 1, 0, 3]
    batch = torch.stack([log_probs, log_probs.flip(0)], dim=1)
    assert seq.ctc_greedy_decode(batch, [10, 4]) == [[1, 1, 2, 3], [3, 2]]


# --------------------------------------------------------------------------- bad input
LOG_PROBS = F.log_softmax(torch.randn(5, 2, 4, generator=generator(13)), dim=2)
TARGETS = torch.tensor([[1, 2], [3, 1]])

BAD_INPUT = [
    ("a blank inside a target", lambda: seq.ctc_loss(LOG_PROBS, torch.tensor([[1, 0], [3, 1]]),
                                                     (5, 5), (2, 2)),
     ValueError, r"targets: labels must be in \[0, 4\) and differ from the blank 0, got 0"),
    ("label out of range", lambda: seq.ctc_loss(LOG_PROBS, torch.tensor([[1, 7], [3, 1]]),
                                                (5, 5), (2, 2)),
     ValueError, r"targets: labels must be in \[0, 4\) .* got 7"),
    ("input longer than T", lambda: seq.ctc_loss(LOG_PROBS, TARGETS, (6, 5), (2, 2)),
     ValueError, r"input_lengths: expected values in \[0, 5\] \(the number of frames\)"),
    ("target longer than padding", lambda: seq.ctc_loss(LOG_PROBS, TARGETS, (5, 5), (3, 2)),
     ValueError, r"target_lengths: expected values in \[0, 2\], got 3"),
    ("concatenated total wrong", lambda: seq.ctc_loss(LOG_PROBS, torch.tensor([1, 2, 3]),
                                                      (5, 5), (2, 2)),
     ValueError, r"targets: concatenated targets must hold sum\(target_lengths\) = 4 labels"),
    ("one length missing", lambda: seq.ctc_loss(LOG_PROBS, TARGETS, (5,), (2, 2)),
     ValueError, r"input_lengths: expected 2 integer length\(s\), one per sequence, got \[5\]"),
    ("float lengths", lambda: seq.ctc_loss(LOG_PROBS, TARGETS, torch.tensor([5.0, 5.0]), (2, 2)),
     TypeError, "input_lengths: expected integer lengths"),
    ("float targets", lambda: seq.ctc_loss(LOG_PROBS, TARGETS.float(), (5, 5), (2, 2)),
     TypeError, "targets: expected integer labels"),
    ("blank out of range", lambda: seq.ctc_loss(LOG_PROBS, TARGETS, (5, 5), (2, 2), blank=4),
     ValueError, r"blank: expected an index in \[0, 4\), got 4"),
    ("batch-first log_probs", lambda: seq.ctc_loss(LOG_PROBS[None], TARGETS, (5, 5), (2, 2)),
     ValueError, r"log_probs: expected shape \(T, N, C\) or \(T, C\), got \(1, 5, 2, 4\)"),
    ("padded rows of another batch", lambda: seq.ctc_loss(LOG_PROBS, TARGETS[:1], (5, 5),
                                                          (2, 2)),
     ValueError, r"targets: expected 2 padded rows \(N, S\), got shape \(1, 2\)"),
    ("unknown reduction", lambda: seq.ctc_loss(LOG_PROBS, TARGETS, (5, 5), (2, 2),
                                               reduction="batchmean"),
     ValueError, "reduction: expected one of 'none', 'mean', 'sum', got 'batchmean'"),
    ("integer log_probs", lambda: seq.ctc_loss(TARGETS, TARGETS, (2, 2), (2, 2)),
     TypeError, "log_probs: expected a floating-point tensor"),
    ("table with a batch", lambda: seq.ctc_alignment_table(LOG_PROBS, TARGETS[0]),
     ValueError, r"log_probs, target: expected shapes \(T, C\) and \(S,\)"),
    ("decode a 4-D tensor", lambda: seq.ctc_greedy_decode(LOG_PROBS[None]),
     ValueError, r"log_probs: expected shape \(T, N, C\) or \(T, C\)"),
]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in BAD_INPUT],
                         ids=[c[0] for c in BAD_INPUT])
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --------------------------------------------------------------------------- exports, grader
def test_everything_is_exported_at_the_top_level():
    for name in ("ctc_loss", "ctc_alignment_table", "ctc_greedy_decode"):
        assert getattr(lossbook, name) is getattr(seq, name)


def student_ctc(log_probs, target):
    """The recursion in probability space, as the exercise allows for short sequences."""
    extended = [0]
    for label in target.tolist():
        extended += [label, 0]
    y = log_probs.exp()
    alpha = [y[0, symbol] if s < 2 else y.new_zeros(()) for s, symbol in enumerate(extended)]
    for t in range(1, y.shape[0]):
        new = []
        for s, symbol in enumerate(extended):
            total = alpha[s] + (alpha[s - 1] if s >= 1 else 0)
            if s >= 2 and symbol != extended[s - 2]:
                total = total + alpha[s - 2]
            new.append(total * y[t, symbol])
        alpha = new
    return -torch.log(sum(alpha[-2:]))


def test_ctc_grader_passes_a_right_answer_and_fails_the_best_path():
    assert grade_ctc_negative_log_likelihood(student_ctc).score == 1.0

    def best_path_only(log_probs, target):  # the note's error: the best path, not the sum
        return -log_probs.max(dim=1).values.sum()

    assert grade_ctc_negative_log_likelihood(best_path_only).score < 0.5


def test_unimplemented_ctc_exercise_scores_zero():
    def student(log_probs, target):
        raise NotImplementedError

    report = grade_ctc_negative_log_likelihood(student)
    assert report.score == 0.0 and "not implemented yet" in str(report)
