"""lossbook.overlap: box losses against torchvision's published definitions (written out here,
since torchvision cannot be installed), mask losses against scikit-learn and hand formulas;
edge cases (empty input, zero-area and touching boxes, empty masks) and bad input."""

import math

import pytest
import sklearn.metrics
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lossbook
import lossbook.overlap as ov
from lossbook.grading.overlap import grade_dice_loss, grade_generalized_box_iou_loss
from tests.reference import assert_matches, generator

REDUCTIONS = ["none", "mean", "sum"]
BOX_LOSSES = ["box_iou_loss", "generalized_box_iou_loss", "distance_box_iou_loss",
              "complete_box_iou_loss"]


def random_boxes(*shape, seed=0, dtype=torch.float64, device="cpu", scale=10.0):
    """Valid (x1, y1, x2, y2) boxes: a random corner plus a random positive size."""
    corner = torch.rand(*shape, 2, generator=generator(seed), dtype=dtype) * scale
    size = torch.rand(*shape, 2, generator=generator(seed + 1), dtype=dtype) * scale + 0.1
    return torch.cat([corner, corner + size], dim=-1).to(device)


# --------------------------------------------------------------------------- references
# Written from the definitions in torchvision.ops (boxes.py, giou_loss.py, diou_loss.py,
# ciou_loss.py, _utils.py) and the GIoU/DIoU/CIoU papers, one formula at a time.
def ref_parts(b1, b2):
    """Per-coordinate tensors, intersection (clamped sides) and union of paired boxes."""
    x1, y1, x2, y2 = b1.unbind(-1)
    u1, v1, u2, v2 = b2.unbind(-1)
    inter_w = (torch.minimum(x2, u2) - torch.maximum(x1, u1)).clamp(min=0)
    inter_h = (torch.minimum(y2, v2) - torch.maximum(y1, v1)).clamp(min=0)
    inter = inter_w * inter_h
    union = (x2 - x1) * (y2 - y1) + (u2 - u1) * (v2 - v1) - inter
    hull_w = torch.maximum(x2, u2) - torch.minimum(x1, u1)
    hull_h = torch.maximum(y2, v2) - torch.minimum(y1, v1)
    return (x1, y1, x2, y2, u1, v1, u2, v2), inter, union, hull_w, hull_h


def tv_reduce(loss, reduction):
    """torchvision: 'mean' of an empty loss is 0 * sum, 'sum' sums, 'none' returns it."""
    if reduction == "mean":
        return loss.mean() if loss.numel() > 0 else 0.0 * loss.sum()
    return loss.sum() if reduction == "sum" else loss


def ref_box_iou(b1, b2):
    """torchvision.ops.box_iou: (N, M) pairwise inter / union, no eps."""
    _, inter, union, _, _ = ref_parts(b1[:, None, :], b2[None, :, :])
    return inter / union


def ref_iou_loss(b1, b2, reduction="none", eps=1e-7):
    _, inter, union, _, _ = ref_parts(b1, b2)
    return tv_reduce(1 - inter / (union + eps), reduction)


def ref_giou_loss(b1, b2, reduction="none", eps=1e-7):
    """GIoU = IoU - (|C| - |U|) / |C|, both fractions with eps added below."""
    _, inter, union, hull_w, hull_h = ref_parts(b1, b2)
    hull = hull_w * hull_h
    giou = inter / (union + eps) - (hull - union) / (hull + eps)
    return tv_reduce(1 - giou, reduction)


def ref_diou_terms(b1, b2, eps):
    (x1, y1, x2, y2, u1, v1, u2, v2), inter, union, hull_w, hull_h = ref_parts(b1, b2)
    iou = inter / (union + eps)
    centre_distance = ((x1 + x2) / 2 - (u1 + u2) / 2) ** 2 + ((y1 + y2) / 2 - (v1 + v2) / 2) ** 2
    diagonal = hull_w**2 + hull_h**2 + eps
    return iou, 1 - iou + centre_distance / diagonal


def ref_diou_loss(b1, b2, reduction="none", eps=1e-7):
    return tv_reduce(ref_diou_terms(b1, b2, eps)[1], reduction)


def ref_ciou_loss(b1, b2, reduction="none", eps=1e-7):
    """DIoU + alpha v with v = 4/pi^2 (atan(w_gt/h_gt) - atan(w/h))^2, alpha without grad."""
    iou, diou = ref_diou_terms(b1, b2, 1e-7)
    x1, y1, x2, y2 = b1.unbind(-1)
    u1, v1, u2, v2 = b2.unbind(-1)
    angle2, angle1 = torch.atan((u2 - u1) / (v2 - v1)), torch.atan((x2 - x1) / (y2 - y1))
    v = 4 / math.pi**2 * (angle2 - angle1) ** 2
    with torch.no_grad():
        alpha = v / (1 - iou + v + eps)
    return tv_reduce(diou + alpha * v, reduction)


REFERENCES = {"box_iou_loss": ref_iou_loss, "generalized_box_iou_loss": ref_giou_loss,
              "distance_box_iou_loss": ref_diou_loss, "complete_box_iou_loss": ref_ciou_loss}


# --------------------------------------------------------------------------- boxes
def test_box_iou_matches_torchvision_definition(device, dtype):
    b1 = random_boxes(5, dtype=dtype, device=device)
    b2 = random_boxes(7, seed=2, dtype=dtype, device=device)
    assert_matches(ov.box_iou, ref_box_iou, b1, b2)
    assert ov.box_iou(b1, b2).shape == (5, 7)


@pytest.mark.parametrize("name", BOX_LOSSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(), (6,), (2, 3)], ids=["single", "batch", "2-d batch"])
def test_box_losses_match_torchvision_definitions(device, dtype, name, reduction, shape):
    b1 = random_boxes(*shape, dtype=dtype, device=device)
    b2 = random_boxes(*shape, seed=5, dtype=dtype, device=device)
    assert_matches(getattr(ov, name), REFERENCES[name], b1, b2, reduction=reduction)


@pytest.mark.parametrize("name", ["box_iou_loss", "generalized_box_iou_loss",
                                  "distance_box_iou_loss"])
def test_box_losses_use_eps_like_torchvision(name):
    b1, b2 = random_boxes(8, scale=1e-3), random_boxes(8, seed=3, scale=1e-3)
    assert_matches(getattr(ov, name), REFERENCES[name], b1, b2, eps=1e-4)


def test_known_values_from_the_papers_formulas():
    a = torch.tensor([0.0, 0.0, 2.0, 2.0], dtype=torch.float64)
    b = torch.tensor([1.0, 1.0, 3.0, 3.0], dtype=torch.float64)
    # IoU = 1/7, enclosing box 3 x 3 = 9, union 7; centres (1, 1) and (2, 2), diagonal^2 = 18
    assert ov.generalized_box_iou_loss(a, b).item() == pytest.approx(1.079365, abs=1e-6)
    assert ov.generalized_box_iou_loss(a, b).item() == pytest.approx(68 / 63, rel=1e-6)
    assert ov.box_iou_loss(a, b).item() == pytest.approx(6 / 7, rel=1e-6)
    assert ov.distance_box_iou_loss(a, b).item() == pytest.approx(1 - 1 / 7 + 2 / 18, rel=1e-6)
    assert ov.complete_box_iou_loss(a, b).item() == pytest.approx(1 - 1 / 7 + 2 / 18, rel=1e-6)
    assert ov.box_iou(a[None], b[None]).item() == pytest.approx(1 / 7)


def test_ciou_aspect_term_on_a_hand_example():
    a = torch.tensor([0.0, 0.0, 4.0, 2.0], dtype=torch.float64)  # 4 x 2, centre (2, 1)
    b = torch.tensor([0.0, 0.0, 2.0, 2.0], dtype=torch.float64)  # 2 x 2, centre (1, 1)
    iou, rho2, c2 = 4 / 8, 1.0, 16 + 4
    v = 4 / math.pi**2 * (math.atan(1.0) - math.atan(2.0)) ** 2
    expected = 1 - iou + rho2 / c2 + v / (1 - iou + v) * v
    assert ov.complete_box_iou_loss(a, b).item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("name", BOX_LOSSES)
def test_empty_input_mean_is_zero_like_torchvision(device, name):
    empty = torch.zeros(0, 4, device=device, requires_grad=True)
    loss = getattr(ov, name)(empty, empty.detach(), reduction="mean")
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    assert getattr(ov, name)(empty, empty, reduction="sum").item() == 0.0
    assert getattr(ov, name)(empty, empty).shape == (0,)
    assert ov.box_iou(empty, empty[:0]).shape == (0, 0)


DEGENERATE = torch.tensor([
    # boxes1                 boxes2
    [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]],  # the same point
    [[0.0, 0.0, 0.0, 0.0], [2.0, 3.0, 2.0, 3.0]],  # two different points
    [[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 2.0, 2.0]],  # a point inside a box
    [[0.0, 0.0, 0.0, 3.0], [0.0, 0.0, 0.0, 2.0]],  # two vertical segments
    [[0.0, 0.0, 4.0, 0.0], [1.0, -1.0, 2.0, 1.0]],  # a horizontal segment through a box
    [[0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 2.0, 1.0]],  # boxes touching along an edge
    [[0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 2.0, 2.0]],  # boxes touching at a corner
    [[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 2.0]],  # identical boxes
], dtype=torch.float64)


@pytest.mark.parametrize("name", BOX_LOSSES)
def test_degenerate_boxes_give_finite_values_and_gradients(device, dtype, name):
    b1 = DEGENERATE[:, 0].to(device, dtype).requires_grad_()
    b2 = DEGENERATE[:, 1].to(device, dtype).requires_grad_()
    loss = getattr(ov, name)(b1, b2)
    loss.sum().backward()
    assert torch.isfinite(loss).all()
    assert torch.isfinite(b1.grad).all() and torch.isfinite(b2.grad).all()
    assert loss[-1].abs().item() < 1e-6  # identical boxes: no loss
    assert loss[1].item() >= 1.0  # two distinct points share nothing


def test_degenerate_box_values_agree_with_torchvision_where_it_is_finite():
    b1, b2 = DEGENERATE[:, 0], DEGENERATE[:, 1]
    for name in ["box_iou_loss", "generalized_box_iou_loss", "distance_box_iou_loss"]:
        torch.testing.assert_close(getattr(ov, name)(b1, b2), REFERENCES[name](b1, b2))
    reference = ref_ciou_loss(b1, b2)  # atan(w / h) is NaN for points: 0 / 0
    finite = torch.isfinite(reference)
    assert not finite.all()
    torch.testing.assert_close(ov.complete_box_iou_loss(b1, b2)[finite], reference[finite])


def test_box_iou_of_zero_area_boxes_is_zero_not_nan():
    points = DEGENERATE[:2, 0].clone().requires_grad_()
    iou = ov.box_iou(points, points.detach())
    assert iou.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    iou.sum().backward()
    assert torch.isfinite(points.grad).all()


def test_disjoint_boxes_give_the_iou_loss_no_gradient_and_giou_one():
    target = torch.tensor([[3.0, 3.0, 4.0, 4.0]])
    for start in ([1.0, 1.0, 2.0, 2.0], [-5.0, 0.0, -4.0, 1.0]):  # near and far misses
        prediction = torch.tensor([start], requires_grad=True)
        assert ov.box_iou_loss(prediction, target).item() == 1.0
        ov.box_iou_loss(prediction, target).sum().backward()
        assert prediction.grad.abs().sum().item() == 0.0
        prediction.grad = None
        ov.generalized_box_iou_loss(prediction, target).sum().backward()
        assert (prediction.grad[0, 2:] < 0).all()  # descent moves the far corner towards it


box_pairs = st.integers(0, 10_000).map(
    lambda seed: (random_boxes(4, seed=seed), random_boxes(4, seed=seed + 7)))


@settings(max_examples=60, deadline=None)
@given(pair=box_pairs)
def test_box_losses_are_symmetric_and_bounded(pair):
    b1, b2 = pair
    bounds = {"box_iou_loss": 1.0, "generalized_box_iou_loss": 2.0,
              "distance_box_iou_loss": 2.0, "complete_box_iou_loss": 3.0}
    for name, upper in bounds.items():
        loss = getattr(ov, name)(b1, b2)
        if name != "complete_box_iou_loss":  # alpha v uses (w2/h2 - w1/h1): symmetric too
            torch.testing.assert_close(loss, getattr(ov, name)(b2, b1))
        assert ((loss >= 0) & (loss <= upper)).all()
    giou = ov.generalized_box_iou_loss(b1, b2)
    assert (giou >= ov.box_iou_loss(b1, b2) - 1e-12).all()  # the penalty is never negative


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.1, 1000.0))
def test_iou_losses_are_scale_invariant(seed, scale):
    b1, b2 = random_boxes(5, seed=seed), random_boxes(5, seed=seed + 1)
    for name in BOX_LOSSES:
        loss = getattr(ov, name)
        torch.testing.assert_close(loss(b1 * scale, b2 * scale, eps=0.0), loss(b1, b2, eps=0.0))


# --------------------------------------------------------------------------- masks
def masks(n, c, h, w, seed=0, dtype=torch.float64, device="cpu"):
    """Random probabilities (N, C, H, W) and a random binary target of the same shape."""
    p = torch.rand(n, c, h, w, generator=generator(seed), dtype=dtype)
    y = (torch.rand(n, c, h, w, generator=generator(seed + 1)) > 0.6).to(dtype)
    return p.to(device), y.to(device)


def ref_mask_loss(kind, p, y, alpha=0.5, beta=0.5, smooth=1.0, reduction="mean"):
    """One sample and one class at a time, straight from the formulas."""
    rows = []
    for n in range(p.shape[0]):
        row = []
        for c in range(p.shape[1]):
            pc, yc = p[n, c].flatten(), y[n, c].flatten()
            tp, fp, fn = (pc * yc).sum(), (pc * (1 - yc)).sum(), ((1 - pc) * yc).sum()
            if kind == "dice":
                score = (2 * tp + smooth) / (2 * tp + fp + fn + smooth)
            elif kind == "jaccard":
                score = (tp + smooth) / (tp + fp + fn + smooth)
            else:
                score = (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)
            row.append(1 - score)
        rows.append(torch.stack(row))
    loss = torch.stack(rows)
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smooth", [0.0, 1.0, 10.0])
def test_mask_losses_match_their_formulas(device, dtype, reduction, smooth):
    p, y = masks(3, 2, 5, 4, dtype=dtype, device=device)
    assert_matches(ov.dice_loss, lambda p, y, **k: ref_mask_loss("dice", p, y, **k),
                   p, y, smooth=smooth, reduction=reduction)
    assert_matches(ov.soft_jaccard_loss, lambda p, y, **k: ref_mask_loss("jaccard", p, y, **k),
                   p, y, smooth=smooth, reduction=reduction)
    assert_matches(ov.tversky_loss, lambda p, y, **k: ref_mask_loss("tversky", p, y, **k),
                   p, y, alpha=0.3, beta=0.7, smooth=smooth, reduction=reduction)


def test_mask_losses_pass_gradcheck():
    p, y = masks(2, 1, 3, 3)
    p = p.clamp(0.05, 0.95).requires_grad_()
    for loss in (ov.dice_loss, ov.soft_jaccard_loss, ov.tversky_loss):
        assert torch.autograd.gradcheck(lambda p, f=loss: f(p, y, reduction="none"), (p,))


def test_hard_dice_and_jaccard_are_sklearns_f1_and_jaccard_scores():
    p, y = masks(1, 1, 8, 8, seed=3)
    hard = (p > 0.5).double()
    flat_y, flat_p = y.flatten().numpy(), hard.flatten().numpy()
    f1 = sklearn.metrics.f1_score(flat_y, flat_p)
    jaccard = sklearn.metrics.jaccard_score(flat_y, flat_p)
    assert 1 - ov.dice_loss(hard, y, smooth=0.0).item() == pytest.approx(f1)
    assert 1 - ov.soft_jaccard_loss(hard, y, smooth=0.0).item() == pytest.approx(jaccard)
    assert jaccard == pytest.approx(f1 / (2 - f1))  # J = D / (2 - D)


def test_tversky_special_cases_are_dice_and_jaccard():
    p, y = masks(2, 3, 4, 4, seed=4)
    torch.testing.assert_close(ov.tversky_loss(p, y, alpha=1.0, beta=1.0, smooth=1.0),
                               ov.soft_jaccard_loss(p, y, smooth=1.0))
    torch.testing.assert_close(ov.tversky_loss(p, y, alpha=0.5, beta=0.5, smooth=0.5),
                               ov.dice_loss(p, y, smooth=1.0))


def test_tversky_beta_above_alpha_charges_misses_more_than_false_alarms():
    y = torch.zeros(1, 1, 10, 10, dtype=torch.float64)
    y[..., :5, :] = 1
    partial = y.clone()
    partial[..., :2, :] = 0  # as a prediction of y: 20 misses; y as a prediction of it: 20 FP
    kwargs = dict(alpha=0.3, beta=0.7, smooth=0.0)
    misses, false_alarms = ov.tversky_loss(partial, y, **kwargs), ov.tversky_loss(y, partial,
                                                                                  **kwargs)
    assert misses.item() == pytest.approx(1 - 30 / (30 + 0.7 * 20))
    assert false_alarms.item() == pytest.approx(1 - 30 / (30 + 0.3 * 20))
    torch.testing.assert_close(ov.dice_loss(partial, y), ov.dice_loss(y, partial))  # symmetric


def test_class_index_targets_equal_one_hot_targets(device, dtype):
    probs = torch.softmax(torch.randn(2, 4, 3, 5, generator=generator(0), dtype=dtype), 1)
    labels = torch.randint(0, 4, (2, 3, 5), generator=generator(1))
    one_hot = torch.nn.functional.one_hot(labels, 4).permute(0, 3, 1, 2).to(dtype)
    probs, labels, one_hot = probs.to(device), labels.to(device), one_hot.to(device)
    for loss in (ov.dice_loss, ov.soft_jaccard_loss, ov.tversky_loss):
        torch.testing.assert_close(loss(probs, labels, reduction="none"),
                                   loss(probs, one_hot, reduction="none"))
        assert loss(probs, labels, reduction="none").shape == (2, 4)


@pytest.mark.parametrize("loss, false_positive_weight", [
    (ov.dice_loss, 1.0), (ov.soft_jaccard_loss, 1.0), (ov.tversky_loss, 0.3)])
def test_empty_ground_truth_convention(loss, false_positive_weight):
    empty = torch.zeros(1, 1, 4, 4, dtype=torch.float64)
    some = empty.clone()
    some[..., 0, :2] = 1.0  # two false-positive pixels
    assert loss(empty, empty, smooth=1.0).item() == 0.0  # nothing to find, nothing found
    score = 1 / (false_positive_weight * 2 + 1)  # s / (weight * FP + s)
    assert loss(some, empty, smooth=1.0).item() == pytest.approx(1 - score)
    assert loss(empty, empty, smooth=0.0).item() == 1.0  # finite, not 0/0
    p = some.clone().requires_grad_()
    loss(p, empty, smooth=0.0).backward()
    assert p.grad.abs().sum().item() == 0.0  # without smoothing nothing pushes FP down


def test_thresholded_masks_carry_no_gradient_but_probabilities_do():
    p, y = masks(1, 1, 4, 4)
    p.requires_grad_()
    assert not ov.dice_loss((p > 0.5).double(), y).requires_grad
    ov.dice_loss(p, y).backward()
    assert p.grad.abs().sum().item() > 0


# --------------------------------------------------------------------------- bad input
def boxes(*rows):
    return torch.tensor(rows, dtype=torch.float32)


BAD_INPUT = [
    ("three coordinates", lambda: ov.generalized_box_iou_loss(torch.zeros(2, 3), torch.zeros(2, 3)),
     ValueError,
     r"boxes1: expected boxes of shape \(\.\.\., 4\) as \(x1, y1, x2, y2\), got \(2, 3\)"),
    ("different box counts", lambda: ov.box_iou_loss(torch.zeros(2, 4), torch.zeros(3, 4)),
     ValueError, r"boxes2: expected shape \(2, 4\) \(the shape of boxes1\), got \(3, 4\)"),
    ("x2 below x1", lambda: ov.distance_box_iou_loss(boxes([2, 0, 1, 1]), boxes([0, 0, 1, 1])),
     ValueError, r"boxes1: expected x1 <= x2 and y1 <= y2, got \[2, 0, 1, 1\]"),
    ("y2 below y1 in boxes2", lambda: ov.complete_box_iou_loss(boxes([0, 0, 1, 1]),
                                                               boxes([0, 3, 1, 1])),
     ValueError, r"boxes2: expected x1 <= x2 and y1 <= y2, got \[0, 3, 1, 1\]"),
    ("NaN box", lambda: ov.box_iou_loss(boxes([0, 0, float("nan"), 1]), boxes([0, 0, 1, 1])),
     ValueError, "boxes1: expected x1 <= x2"),
    ("integer boxes", lambda: ov.box_iou(torch.zeros(2, 4, dtype=torch.long),
                                         torch.zeros(2, 4)),
     TypeError, "boxes1: expected a floating-point tensor, got torch.int64"),
    ("box_iou on a batch of pairs", lambda: ov.box_iou(torch.zeros(2, 3, 4), torch.zeros(3, 4)),
     ValueError, r"boxes1: expected boxes of shape \(N, 4\)"),
    ("unknown reduction", lambda: ov.generalized_box_iou_loss(boxes([0, 0, 1, 1]),
                                                              boxes([0, 0, 1, 1]),
                                                              reduction="avg"),
     ValueError, "reduction: expected one of 'none', 'mean', 'sum', got 'avg'"),
    ("logits as mask input", lambda: ov.dice_loss(torch.full((1, 1, 2, 2), 3.0),
                                                  torch.ones(1, 1, 2, 2)),
     ValueError, r"input: expected probabilities in \[0, 1\], got 3"),
    ("logits with index targets", lambda: ov.dice_loss(torch.full((1, 2, 2, 2), -1.0),
                                                       torch.zeros(1, 2, 2, dtype=torch.long)),
     ValueError, r"input: expected probabilities in \[0, 1\], got -1"),
    ("class index out of range", lambda: ov.soft_jaccard_loss(
        torch.full((1, 3, 2, 2), 0.3), torch.tensor([[[0, 1], [2, 5]]])),
     ValueError, r"target: class indices must be in \[0, 3\), got 5"),
    ("mask without a class dim", lambda: ov.dice_loss(torch.rand(4, 4), torch.ones(4, 4)),
     ValueError, r"input: expected probabilities of shape \(N, C, d1, \.\.\.\), got \(4, 4\)"),
    ("index target of wrong shape", lambda: ov.tversky_loss(
        torch.rand(2, 3, 4, 4), torch.zeros(2, 4, 5, dtype=torch.long)),
     ValueError, r"target: expected shape \(2, 4, 4\)"),
    ("float target of wrong shape", lambda: ov.dice_loss(torch.rand(2, 1, 4, 4),
                                                         torch.rand(2, 4, 4)),
     ValueError, r"target: expected shape \(2, 1, 4, 4\)"),
    ("negative Tversky weight", lambda: ov.tversky_loss(torch.rand(1, 1, 2, 2),
                                                        torch.ones(1, 1, 2, 2), alpha=-0.1),
     ValueError, "alpha, beta: expected non-negative weights"),
    *((f"negative smooth ({loss.__name__})",
       lambda loss=loss: loss(torch.rand(1, 1, 2, 2), torch.ones(1, 1, 2, 2), smooth=-1.0),
       ValueError, "^smooth: expected a value >= 0, got -1.0")
      for loss in (ov.dice_loss, ov.soft_jaccard_loss, ov.tversky_loss)),
    ("boolean target", lambda: ov.dice_loss(torch.rand(1, 1, 2, 2),
                                            torch.ones(1, 1, 2, 2, dtype=torch.bool)),
     TypeError, "target: expected integer class indices"),
]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in BAD_INPUT],
                         ids=[c[0] for c in BAD_INPUT])
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --------------------------------------------------------------------------- exports, graders
def test_everything_is_exported_at_the_top_level():
    for name in BOX_LOSSES + ["box_iou", "dice_loss", "soft_jaccard_loss", "tversky_loss"]:
        assert getattr(lossbook, name) is getattr(ov, name)


def student_giou(b1, b2):
    x1 = torch.maximum(b1[..., 0], b2[..., 0])
    y1 = torch.maximum(b1[..., 1], b2[..., 1])
    x2 = torch.minimum(b1[..., 2], b2[..., 2])
    y2 = torch.minimum(b1[..., 3], b2[..., 3])
    inter = (x2 - x1).clamp(min=0) * (y2 - y1).clamp(min=0)
    area = (b1[..., 2] - b1[..., 0]) * (b1[..., 3] - b1[..., 1]) + (b2[..., 2] - b2[..., 0]) * (
        b2[..., 3] - b2[..., 1])
    union = area - inter
    hull = (torch.maximum(b1[..., 2], b2[..., 2]) - torch.minimum(b1[..., 0], b2[..., 0])) * (
        torch.maximum(b1[..., 3], b2[..., 3]) - torch.minimum(b1[..., 1], b2[..., 1]))
    return 1 - inter / (union + 1e-7) + (hull - union) / (hull + 1e-7)


def test_giou_grader_passes_a_right_answer_and_fails_plain_iou():
    assert grade_generalized_box_iou_loss(student_giou).score == 1.0

    def iou_only(b1, b2):
        return ov.box_iou_loss(b1, b2)

    report = grade_generalized_box_iou_loss(iou_only)
    assert report.score < 1.0


def student_dice(p, y, smooth=1.0):
    dims = tuple(range(2, p.dim()))
    return 1 - (2 * (p * y).sum(dims) + smooth) / (p.sum(dims) + y.sum(dims) + smooth)


def test_dice_grader_passes_a_right_answer_and_fails_the_notes_version():
    assert grade_dice_loss(student_dice).score == 1.0

    def note_dice(p, y, smooth=1.0):  # the source note: no smoothing, whole batch at once
        dims = tuple(range(2, p.dim()))
        return 1 - 2 * (p * y).sum(dims) / (p + y).sum(dims)

    report = grade_dice_loss(note_dice)
    assert any("empty" in text and not ok for ok, text in report.checks)
    assert report.score < 1.0


def test_unimplemented_exercises_score_zero():
    def student(*args, **kwargs):
        raise NotImplementedError

    for grader in (grade_generalized_box_iou_loss, grade_dice_loss):
        report = grader(student)
        assert report.score == 0.0 and "not implemented yet" in str(report)
