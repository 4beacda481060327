"""lossbook: loss functions from first principles, in plain PyTorch.

Torch-named losses are available at the top level, so ``lossbook.cross_entropy`` can replace
``torch.nn.functional.cross_entropy`` line for line. Each family also lives in its own module
(``lossbook.information``, ...), named as in the book's chapters.
"""

from lossbook import catalog, data, display, grading, plot, runtime
from lossbook.gan import (
    cycle_consistency_loss,
    d_loss_hinge,
    d_loss_lsgan,
    d_loss_minimax,
    d_loss_wasserstein,
    g_loss_hinge,
    g_loss_lsgan,
    g_loss_minimax,
    g_loss_nonsaturating,
    g_loss_wasserstein,
    gradient_penalty,
    r1_penalty,
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

__version__ = "0.1.0"

__all__ = [
    "catalog", "data", "display", "grading", "plot", "runtime",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "entropy",
    "js_divergence", "kl_div", "label_smoothing", "log_softmax", "logsumexp", "nll_loss",
    "softmax", "softplus", "zero_one_loss",
    "cycle_consistency_loss", "d_loss_hinge", "d_loss_lsgan", "d_loss_minimax",
    "d_loss_wasserstein", "g_loss_hinge", "g_loss_lsgan", "g_loss_minimax",
    "g_loss_nonsaturating", "g_loss_wasserstein", "gradient_penalty", "r1_penalty",
]
