"""lossbook: loss functions from first principles, in plain PyTorch.

Torch-named losses are available at the top level, so ``lossbook.cross_entropy`` can replace
``torch.nn.functional.cross_entropy`` line for line. Each family also lives in its own module
(``lossbook.information``, ...), named as in the book's chapters.
"""

from lossbook import catalog, data, display, grading, plot, runtime
from lossbook.embedding import (
    batch_all,
    batch_hard,
    contrastive_loss,
    cosine_embedding_loss,
    info_nce_loss,
    pairwise_distance,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
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
from lossbook.margin import (
    hinge_embedding_loss,
    hinge_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
    squared_hinge_loss,
)

__version__ = "0.1.0"

__all__ = [
    "catalog", "data", "display", "grading", "plot", "runtime",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "entropy",
    "js_divergence", "kl_div", "label_smoothing", "log_softmax", "logsumexp", "nll_loss",
    "softmax", "softplus", "zero_one_loss",
    "hinge_embedding_loss", "hinge_loss", "margin_ranking_loss", "multi_margin_loss",
    "multilabel_margin_loss", "multilabel_soft_margin_loss", "soft_margin_loss",
    "squared_hinge_loss",
    "batch_all", "batch_hard", "contrastive_loss", "cosine_embedding_loss", "info_nce_loss",
    "pairwise_distance", "triplet_margin_loss", "triplet_margin_with_distance_loss",
]
