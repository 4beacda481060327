"""lossbook: loss functions from first principles, in plain PyTorch.

Torch-named losses are available at the top level, so ``lossbook.cross_entropy`` can replace
``torch.nn.functional.cross_entropy`` line for line. Each family also lives in its own module
(``lossbook.information``, ...), named as in the book's chapters.
"""

from lossbook import catalog, data, display, grading, plot, runtime
from lossbook.information import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    entropy,
    js_divergence,
    kl_div,
    label_smoothing,
    log_softmax,
    logsumexp,
    nll_loss,
    softmax,
    softplus,
    zero_one_loss,
)
from lossbook.overlap import (
    box_iou,
    box_iou_loss,
    complete_box_iou_loss,
    dice_loss,
    distance_box_iou_loss,
    generalized_box_iou_loss,
    soft_jaccard_loss,
    tversky_loss,
)
from lossbook.sequence import ctc_alignment_table, ctc_greedy_decode, ctc_loss

__version__ = "0.1.0"

__all__ = [
    "catalog", "data", "display", "grading", "plot", "runtime",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "entropy",
    "js_divergence", "kl_div", "label_smoothing", "log_softmax", "logsumexp", "nll_loss",
    "softmax", "softplus", "zero_one_loss",
    "box_iou", "box_iou_loss", "complete_box_iou_loss", "dice_loss", "distance_box_iou_loss",
    "generalized_box_iou_loss", "soft_jaccard_loss", "tversky_loss",
    "ctc_alignment_table", "ctc_greedy_decode", "ctc_loss",
]
