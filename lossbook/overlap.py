"""Overlap losses: the IoU family for boxes, Dice, soft Jaccard and Tversky for masks.

Chapter: *Detection and segmentation losses* (``chapters/08_detection_segmentation``).

**Boxes** are ``(x1, y1, x2, y2)`` with ``x1 <= x2`` and ``y1 <= y2``, in a tensor of shape
``(..., 4)``. The box losses keep ``torchvision.ops``'s names, argument order, defaults
(``reduction="none"``, ``eps=1e-7``) and conventions, including its one surprise: the
``'mean'`` of no boxes at all is 0, not NaN (an image without objects contributes nothing).
Zero-area and touching boxes give finite values and gradients. Areas are computed in float32
for half-precision boxes (a 1000-pixel box has an area of $10^6$, beyond float16's 65504), as
torchvision's box operations do, and the result is returned in the boxes' dtype.

**Masks** are probabilities of shape ``(N, C, d1, ...)`` (``C = 1`` for a binary foreground
mask); the target is either a float mask of the same shape (binary, one-hot or soft) or class
indices of shape ``(N, d1, ...)``. The scores are computed per sample and per class, summing
over the spatial dimensions, so ``reduction="none"`` returns ``(N, C)``. The sums are taken in
float32 for half-precision masks (a 256 x 256 mask sums to up to 65536, beyond float16's
range) and the loss is returned in the input's dtype.
"""

from __future__ import annotations

import math

import torch

from lossbook import _checks as check
from lossbook import _samples as samples
from lossbook._numerics import widened
from lossbook._reduce import reduce
from lossbook._samples import sample
from lossbook.catalog import Entry


# --------------------------------------------------------------------------- boxes
def _check_boxes(boxes1: torch.Tensor, boxes2: torch.Tensor, paired: bool) -> None:
    """Floating ``(..., 4)`` boxes with ``x1 <= x2`` and ``y1 <= y2`` (one device sync)."""
    for name, boxes in (("boxes1", boxes1), ("boxes2", boxes2)):
        check.floating(name, boxes)
        if boxes.shape[-1:] != (4,) or (not paired and boxes.dim() != 2):
            expected = "(..., 4)" if paired else "(N, 4)"
            raise check.ArgumentError(
                f"{name}: expected boxes of shape {expected} as (x1, y1, x2, y2), "
                             f"got {tuple(boxes.shape)}")
    if paired:
        check.same_shape("boxes1", boxes1, "boxes2", boxes2)
    check.values(*((name, b, (b[..., 2] >= b[..., 0]) & (b[..., 3] >= b[..., 1]),
                    "x1 <= x2 and y1 <= y2")
                   for name, b in (("boxes1", boxes1), ("boxes2", boxes2))))


def _area(boxes: torch.Tensor) -> torch.Tensor:
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def _intersection_union(boxes1: torch.Tensor, boxes2: torch.Tensor):
    """Areas of intersection and union of paired boxes (broadcasting over leading dims)."""
    width = torch.min(boxes1[..., 2], boxes2[..., 2]) - torch.max(boxes1[..., 0], boxes2[..., 0])
    height = torch.min(boxes1[..., 3], boxes2[..., 3]) - torch.max(boxes1[..., 1], boxes2[..., 1])
    # Boxes that do not overlap have intersection 0 and no gradient through it. A `where`
    # (rather than clamping width and height at 0) is torchvision's choice: touching boxes
    # then get no gradient from the zero-width side either.
    overlap = (width > 0) & (height > 0)
    intersection = torch.where(overlap, width * height, torch.zeros_like(width))
    return intersection, _area(boxes1) + _area(boxes2) - intersection


def _enclosing(boxes1: torch.Tensor, boxes2: torch.Tensor):
    """Width and height of the smallest box enclosing both boxes."""
    width = torch.max(boxes1[..., 2], boxes2[..., 2]) - torch.min(boxes1[..., 0], boxes2[..., 0])
    height = torch.max(boxes1[..., 3], boxes2[..., 3]) - torch.min(boxes1[..., 1], boxes2[..., 1])
    return width, height


def _reduce_boxes(loss: torch.Tensor, reduction: str, dtype: torch.dtype) -> torch.Tensor:
    """Reduce, and return in the boxes' ``dtype`` (areas were computed in float32 for half)."""
    # torchvision's convention: the mean over no boxes is 0 (with a graph), not NaN.
    if reduction == "mean" and loss.numel() == 0:
        return (loss.sum() * 0.0).to(dtype)
    return reduce(loss, reduction).to(dtype)


def box_iou(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    r"""Pairwise intersection over union, $\mathrm{IoU}(A, B) = |A \cap B| / |A \cup B|$.

    ``boxes1`` is (N, 4), ``boxes2`` is (M, 4); the result is (N, M). This is a metric, not a
    loss: it is 1 for identical boxes and 0 for disjoint ones. Where both boxes have zero
    area the union is 0 and torchvision returns $0/0$ = NaN; lossbook returns 0 (no overlap),
    with a zero gradient.

    Reference: ``torchvision.ops.box_iou``.
    """
    _check_boxes(boxes1, boxes2, paired=False)
    dtype, boxes1, boxes2 = boxes1.dtype, widened(boxes1), widened(boxes2)  # areas in float32
    intersection, union = _intersection_union(boxes1[:, None, :], boxes2[None, :, :])
    # Double `where`: the division never sees union = 0, so no NaN reaches the gradient.
    positive = union > 0
    safe_union = torch.where(positive, union, torch.ones_like(union))
    return torch.where(positive, intersection / safe_union, torch.zeros_like(union)).to(dtype)


def box_iou_loss(
    boxes1: torch.Tensor, boxes2: torch.Tensor, reduction: str = "none", eps: float = 1e-7
) -> torch.Tensor:
    r"""IoU loss $1 - \mathrm{IoU}(A, B)$ of paired boxes, $\mathrm{IoU} = I / (U + \varepsilon)$.

    Lies in [0, 1]: 0 for identical boxes, 1 for disjoint ones. For disjoint boxes the
    intersection is constantly 0, so the loss is flat and **its gradient is zero**: it cannot
    tell a near miss from a far one, nor say which way to move. GIoU, DIoU and CIoU add a
    penalty that fixes this. $\varepsilon$ keeps two zero-area boxes finite (loss 1).

    Reference: ``1 - torchvision.ops.box_iou`` on paired boxes (torchvision has no IoU loss);
    Yu et al. (2016), *UnitBox*.
    """
    _check_boxes(boxes1, boxes2, paired=True)
    check.reduction(reduction)
    dtype, boxes1, boxes2 = boxes1.dtype, widened(boxes1), widened(boxes2)  # areas in float32
    intersection, union = _intersection_union(boxes1, boxes2)
    return _reduce_boxes(1 - intersection / (union + eps), reduction, dtype)


def generalized_box_iou_loss(
    boxes1: torch.Tensor, boxes2: torch.Tensor, reduction: str = "none", eps: float = 1e-7
) -> torch.Tensor:
    r"""GIoU loss $1 - \mathrm{IoU} + \dfrac{|C| - |A \cup B|}{|C|}$, $C$ the enclosing box.

    $C$ is the smallest box containing both $A$ and $B$. The penalty is the fraction of $C$
    that neither box covers: for disjoint boxes it grows as they move apart, so the gradient
    pulls them together. Lies in [0, 2). Both divisions add $\varepsilon$ to the denominator,
    as torchvision does. The boxes [0, 0, 2, 2] and [1, 1, 3, 3] give $1 - 1/7 + 2/9 = 68/63$.

    Reference: ``torchvision.ops.generalized_box_iou_loss``; Rezatofighi et al. (2019).
    """
    _check_boxes(boxes1, boxes2, paired=True)
    check.reduction(reduction)
    dtype, boxes1, boxes2 = boxes1.dtype, widened(boxes1), widened(boxes2)  # areas in float32
    intersection, union = _intersection_union(boxes1, boxes2)
    iou = intersection / (union + eps)
    enclosing_width, enclosing_height = _enclosing(boxes1, boxes2)
    enclosing = enclosing_width * enclosing_height
    return _reduce_boxes(1 - iou + (enclosing - union) / (enclosing + eps), reduction, dtype)


def _centre_penalty(boxes1: torch.Tensor, boxes2: torch.Tensor, eps: float) -> torch.Tensor:
    r"""$\rho^2 / c^2$: squared centre distance over the enclosing box's squared diagonal."""
    centre1 = (boxes1[..., :2] + boxes1[..., 2:]) / 2
    centre2 = (boxes2[..., :2] + boxes2[..., 2:]) / 2
    distance = ((centre1 - centre2) ** 2).sum(dim=-1)
    enclosing_width, enclosing_height = _enclosing(boxes1, boxes2)
    return distance / (enclosing_width**2 + enclosing_height**2 + eps)


def distance_box_iou_loss(
    boxes1: torch.Tensor, boxes2: torch.Tensor, reduction: str = "none", eps: float = 1e-7
) -> torch.Tensor:
    r"""DIoU loss $1 - \mathrm{IoU} + \rho^2(b_A, b_B) / c^2$.

    $\rho$ is the distance between the two boxes' centres and $c$ the diagonal of the
    enclosing box. The penalty pulls the centres together directly, which converges faster
    than GIoU's area penalty (that one vanishes as soon as one box contains the other). Lies
    in [0, 2). $\varepsilon$ is added to the union and to $c^2$.

    Reference: ``torchvision.ops.distance_box_iou_loss``; Zheng et al. (2020).
    """
    _check_boxes(boxes1, boxes2, paired=True)
    check.reduction(reduction)
    dtype, boxes1, boxes2 = boxes1.dtype, widened(boxes1), widened(boxes2)  # areas in float32
    intersection, union = _intersection_union(boxes1, boxes2)
    iou = intersection / (union + eps)
    return _reduce_boxes(1 - iou + _centre_penalty(boxes1, boxes2, eps), reduction, dtype)


def _aspect_angle(width: torch.Tensor, height: torch.Tensor) -> torch.Tensor:
    r"""$\arctan(w / h)$ as ``atan2(w, h)``: $\pi/2$ (not a division by zero) when $h = 0$.

    A box of zero width *and* height has no aspect ratio; it is treated as square
    ($\pi/4$), with a zero gradient, where torchvision's ``atan(w / h)`` gives NaN.
    """
    point = (width == 0) & (height == 0)
    return torch.atan2(torch.where(point, torch.ones_like(width), width),
                       torch.where(point, torch.ones_like(height), height))


def complete_box_iou_loss(
    boxes1: torch.Tensor, boxes2: torch.Tensor, reduction: str = "none", eps: float = 1e-7
) -> torch.Tensor:
    r"""CIoU loss $1 - \mathrm{IoU} + \rho^2 / c^2 + \alpha v$: DIoU plus an aspect-ratio term.

    $v = \frac{4}{\pi^2} \left(\arctan\frac{w_B}{h_B} - \arctan\frac{w_A}{h_A}\right)^2$
    measures how different the two aspect ratios are, and
    $\alpha = v / (1 - \mathrm{IoU} + v + \varepsilon)$ is treated as a constant (no
    gradient), as in the paper and torchvision. Zero-area boxes are finite (see
    ``_aspect_angle``). torchvision uses ``eps`` only inside $\alpha$ and 1e-7 in its DIoU
    part; lossbook uses ``eps`` throughout (the same at the default).

    Reference: ``torchvision.ops.complete_box_iou_loss``; Zheng et al. (2020).
    """
    _check_boxes(boxes1, boxes2, paired=True)
    check.reduction(reduction)
    dtype, boxes1, boxes2 = boxes1.dtype, widened(boxes1), widened(boxes2)  # areas in float32
    intersection, union = _intersection_union(boxes1, boxes2)
    iou = intersection / (union + eps)
    width1, height1 = boxes1[..., 2] - boxes1[..., 0], boxes1[..., 3] - boxes1[..., 1]
    width2, height2 = boxes2[..., 2] - boxes2[..., 0], boxes2[..., 3] - boxes2[..., 1]
    angle_gap = _aspect_angle(width2, height2) - _aspect_angle(width1, height1)
    v = 4 / math.pi**2 * angle_gap**2
    with torch.no_grad():
        alpha = v / (1 - iou + v + eps)
    loss = 1 - iou + _centre_penalty(boxes1, boxes2, eps) + alpha * v
    return _reduce_boxes(loss, reduction, dtype)


# --------------------------------------------------------------------------- masks
def _as_masks(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Check ``input``/``target`` (one device sync) and return ``target`` as a float mask."""
    check.floating("input", input)
    check.tensor("target", target)
    if input.dim() < 3:
        raise check.ArgumentError(f"input: expected probabilities of shape (N, C, d1, ...), "
                         f"got {tuple(input.shape)}")
    if target.is_floating_point():
        check.same_shape("input", input, "target", target)
        check.unit_interval(input=input, target=target)
        return target.to(input.dtype)
    check.integer("target", target)
    num_classes = input.shape[1]
    expected = input.shape[:1] + input.shape[2:]
    check.shape("target", target, expected, "input's shape without the class dimension")
    check.values(check.probabilities_rule("input", input),
                 check.indices_rule("target", target, num_classes))
    classes = torch.arange(num_classes, device=target.device).view(-1, *[1] * (target.dim() - 1))
    return (target.unsqueeze(1) == classes).to(input.dtype)  # one-hot along dim 1


def _overlaps(input: torch.Tensor, target: torch.Tensor):
    """Soft counts per sample and class: true positives, predicted mass, target mass.

    In float32 for half-precision masks: a 256 x 256 sum overflows float16.
    """
    dims = tuple(range(2, input.dim()))
    input, target = widened(input), widened(target)
    return (input * target).sum(dims), input.sum(dims), target.sum(dims)


def dice_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    smooth: float = 1.0,
    eps: float = 1e-7,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Soft Dice loss $1 - \dfrac{2 \sum p\,y + s}{\sum p + \sum y + s}$ per sample and class.

    ``input`` holds probabilities $p$ (after a sigmoid or softmax), ``target`` the mask $y$
    (see the module docstring for shapes); sums run over the spatial dimensions. With hard
    $p$ and $y$ the fraction is the Dice coefficient (F1 score) $2|X \cap Y| / (|X| + |Y|)$;
    with probabilities it is differentiable. A thresholded prediction has no gradient.

    **Empty ground truth** ($\sum y = 0$): with ``smooth`` $s > 0$ the loss is
    $\sum p / (\sum p + s)$ — 0 for an empty prediction, growing with false positives, so
    $s$ sets how much an empty image counts. With $s = 0$ the loss is 1 whatever the
    prediction (no gradient); the denominator is clamped at ``eps`` so that an empty
    prediction of an empty mask gives 1, not $0/0$ = NaN. ``'mean'`` averages over samples
    and classes (background included; slice the ``'none'`` result to leave classes out).

    Reference: Milletari et al. (2016), *V-Net* (which squares $p$ and $y$ in the
    denominator); Sudre et al. (2017).
    """
    check.reduction(reduction)
    check.number("smooth", smooth, smooth >= 0, "a value >= 0")
    target = _as_masks(input, target)
    true_positive, predicted, actual = _overlaps(input, target)
    dice = (2 * true_positive + smooth) / (predicted + actual + smooth).clamp(min=eps)
    return reduce(1 - dice, reduction).to(input.dtype)


def soft_jaccard_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    smooth: float = 1.0,
    eps: float = 1e-7,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Soft Jaccard (IoU) loss $1 - \dfrac{\sum p\,y + s}{\sum p + \sum y - \sum p\,y + s}$.

    The mask version of :func:`box_iou_loss`: intersection over union with probabilities in
    place of sets. Jaccard $J$ and Dice $D$ of hard masks are tied by $J = D / (2 - D)$,
    so they rank predictions alike but Jaccard punishes partial overlaps more. Shapes, the
    empty-mask convention, ``smooth``, ``eps`` and reductions are those of :func:`dice_loss`.

    Reference: Rahman & Wang (2016); Berman et al. (2018), *Lovász-Softmax*.
    """
    check.reduction(reduction)
    check.number("smooth", smooth, smooth >= 0, "a value >= 0")
    target = _as_masks(input, target)
    true_positive, predicted, actual = _overlaps(input, target)
    union = predicted + actual - true_positive
    jaccard = (true_positive + smooth) / (union + smooth).clamp(min=eps)
    return reduce(1 - jaccard, reduction).to(input.dtype)


def tversky_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    alpha: float = 0.3,
    beta: float = 0.7,
    smooth: float = 1.0,
    eps: float = 1e-7,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Tversky loss $1 - \dfrac{TP + s}{TP + \alpha\,FP + \beta\,FN + s}$.

    Soft counts: $TP = \sum p\,y$, $FP = \sum p\,(1 - y)$, $FN = \sum (1 - p)\,y$. $\alpha$
    prices false positives and $\beta$ false negatives: $\beta > \alpha$ trades precision for
    recall, which helps with small structures. $\alpha = \beta = 1$ is :func:`soft_jaccard_loss`
    exactly; $\alpha = \beta = \frac12$ is :func:`dice_loss` with smoothing $2s$. The defaults
    0.3 and 0.7 are the paper's best. Shapes and conventions are those of :func:`dice_loss`.

    Reference: Salehi et al. (2017); Tversky (1977).
    """
    check.reduction(reduction)
    if alpha < 0 or beta < 0:
        raise check.ArgumentError(
            f"alpha, beta: expected non-negative weights, got {alpha}, {beta}")
    check.number("smooth", smooth, smooth >= 0, "a value >= 0")
    target = _as_masks(input, target)
    true_positive, predicted, actual = _overlaps(input, target)
    false_positive, false_negative = predicted - true_positive, actual - true_positive
    denominator = true_positive + alpha * false_positive + beta * false_negative + smooth
    tversky = (true_positive + smooth) / denominator.clamp(min=eps)
    return reduce(1 - tversky, reduction).to(input.dtype)


CATALOG = (
    Entry(box_iou_loss, chapter="08_detection_segmentation", task="bounding-box regression",
          summary=r"$1 - \vert A \cap B\vert / \vert A \cup B\vert$", reference=None,
          input_kind="boxes (x1, y1, x2, y2)", convex=False, bounded=True, robust=True,
          inputs=sample("boxes", "boxes")),
    Entry(generalized_box_iou_loss, chapter="08_detection_segmentation",
          task="bounding-box regression",
          summary=r"$1 - \mathrm{IoU} + \vert C \setminus (A \cup B)\vert / \vert C\vert$",
          reference="torchvision.ops.generalized_box_iou_loss",
          input_kind="boxes (x1, y1, x2, y2)", convex=False, bounded=True, robust=True,
          inputs=sample("boxes", "boxes")),
    Entry(distance_box_iou_loss, chapter="08_detection_segmentation",
          task="bounding-box regression", summary=r"$1 - \mathrm{IoU} + \rho^2 / c^2$",
          reference="torchvision.ops.distance_box_iou_loss",
          input_kind="boxes (x1, y1, x2, y2)", convex=False, bounded=True, robust=True,
          inputs=sample("boxes", "boxes")),
    Entry(complete_box_iou_loss, chapter="08_detection_segmentation",
          task="bounding-box regression",
          summary=r"$1 - \mathrm{IoU} + \rho^2 / c^2 + \alpha v$",
          reference="torchvision.ops.complete_box_iou_loss",
          input_kind="boxes (x1, y1, x2, y2)", convex=False, bounded=True, robust=True,
          inputs=sample("boxes", "boxes")),
    Entry(dice_loss, chapter="08_detection_segmentation", task="segmentation",
          summary=r"$1 - (2\sum p y + s) / (\sum p + \sum y + s)$", reference=None,
          input_kind="probabilities", convex=False, bounded=True, robust=True,
          inputs=samples.masks()),
    Entry(soft_jaccard_loss, chapter="08_detection_segmentation", task="segmentation",
          summary=r"$1 - (\sum p y + s) / (\sum p + \sum y - \sum p y + s)$", reference=None,
          input_kind="probabilities", convex=False, bounded=True, robust=True,
          inputs=samples.masks()),
    Entry(tversky_loss, chapter="08_detection_segmentation", task="segmentation",
          summary=r"$1 - (TP + s) / (TP + \alpha FP + \beta FN + s)$", reference=None,
          input_kind="probabilities", convex=False, bounded=True, robust=True,
          inputs=samples.masks()),
)
