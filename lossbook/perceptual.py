"""Perceptual losses: feature reconstruction, style (Gram matrices) and total variation.

Chapter: *Perceptual and style losses* (``chapters/10_perceptual_style``).

A perceptual loss compares two images through the feature maps $\\phi_j$ of a fixed *loss
network* instead of pixel by pixel (Johnson, Alahi & Fei-Fei, 2016). The losses here take
feature maps, shape (N, C, H, W) or (C, H, W), so any network can supply them;
:class:`FeatureExtractor` is a small VGG-style network that does, with random weights (no
download) or, where torchvision and its weights are available, with the pretrained VGG16.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from lossbook import _checks as check
from lossbook import _samples as samples
from lossbook._numerics import full_precision, widened
from lossbook._reduce import reduce
from lossbook._samples import sample
from lossbook.catalog import Entry


def _feature_maps(name: str, value) -> None:
    """``value`` must be a floating tensor shaped (N, C, H, W) or (C, H, W)."""
    check.floating(name, value)
    if value.dim() not in (3, 4):
        raise check.ArgumentError(
            f"{name}: expected feature maps of shape (N, C, H, W) or (C, H, W), "
            f"got {tuple(value.shape)}"
        )


# Functions the chapter shows with show_source keep their lines within 75 characters, the
# width of the book's code column.
# ------------------------------------------------------------------ Gram matrix
def gram_matrix(features: torch.Tensor,
                normalize: bool = True) -> torch.Tensor:
    r"""Gram matrix of feature maps, one $C \times C$ matrix per sample.

    $$ G_{c c'} = \frac{1}{C H W} \sum_{h=1}^{H} \sum_{w=1}^{W}
       \phi_{c h w}\, \phi_{c' h w}, \qquad
       G = \frac{\Phi \Phi^\top}{C H W}, $$

    where $\Phi$ is the $C \times HW$ matrix whose rows are the flattened
    channels. Entry $(c, c')$ is the uncentred covariance (mean over
    positions of the product) of channels $c$ and $c'$, divided by $C$.
    $G$ is symmetric and positive semi-definite; permuting the $HW$
    positions leaves it unchanged; its size depends only on $C$.

    ``features``: (N, C, H, W) gives (N, C, C); (C, H, W) gives (C, C).
    ``normalize=False`` returns $\Phi\Phi^\top$ without the $1/(CHW)$
    (Gatys et al. divide the style loss by $4 C^2 (HW)^2$ instead).

    Reference: Johnson, Alahi & Fei-Fei (2016); Gatys et al. (2015).
    """
    _feature_maps("features", features)
    channels, height, width = features.shape[-3:]
    # Φ: (..., C, H·W), in float32 if half (sums of H·W products)
    flat = widened(features).flatten(start_dim=-2)
    with full_precision(features):  # no bfloat16 product in autocast
        gram = flat @ flat.transpose(-1, -2)  # (..., C, C)
    if normalize:
        gram = gram / (channels * height * width)
    return gram.to(features.dtype)


# ------------------------------------------------------------------ losses
def feature_reconstruction_loss(
    input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean"
) -> torch.Tensor:
    r"""Squared Euclidean distance of feature maps, divided by $CHW$.

    $$ \ell_{\text{feat}}^{\phi, j}(\hat y, y) = \frac{1}{C_j H_j W_j}
       \lVert \phi_j(\hat y) - \phi_j(y) \rVert_2^2 $$

    per sample; ``input`` $= \phi_j(\hat y)$ and ``target`` $= \phi_j(y)$
    are layer $j$'s feature maps, shape (N, C, H, W) or (C, H, W).
    ``'none'``: one value per sample, shape (N,) (or () unbatched);
    ``'mean'``: their batch mean, equal to ``mse_loss(input, target)``;
    ``'sum'``: their sum.

    Reference: Johnson, Alahi & Fei-Fei (2016).
    """
    _feature_maps("input", input)
    _feature_maps("target", target)
    check.same_shape("input", input, "target", target)
    check.reduction(reduction)
    squared = (input - target) ** 2
    per_sample = squared.mean(dim=(-3, -2, -1))  # ‖·‖² / (C·H·W)
    return reduce(per_sample, reduction)


def style_loss(
    input: Mapping[str, torch.Tensor],
    target: Mapping[str, torch.Tensor],
    *,
    weights: Mapping[str, float] | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Weighted squared Frobenius distance of Gram matrices.

    $$ \ell_{\text{style}}(\hat y, y) = \sum_{j \in J} w_j\,
       \lVert G_j(\hat y) - G_j(y) \rVert_F^2 $$

    with $G_j$ the normalised :func:`gram_matrix` of layer $j$.
    ``input`` and ``target`` map layer names to feature maps (as
    :class:`FeatureExtractor` returns them). The layers $J$ are the keys
    of ``weights``, or all of ``input``'s with $w_j = 1$ if it is None.
    A target may have another height and width (the channels must agree)
    and a batch of 1, broadcast against the input's. Reductions act over
    the batch, as in :func:`feature_reconstruction_loss`.

    Reference: Johnson, Alahi & Fei-Fei (2016); Gatys et al. (2016).
    """
    check.reduction(reduction)
    for name, value in (("input", input), ("target", target)):
        if not isinstance(value, Mapping):
            raise check.ArgumentTypeError(f"{name}: expected a mapping of layer names "
                            f"to feature maps, got {type(value).__name__}")
    if weights is None:
        weights = {layer: 1.0 for layer in input}
    if not weights:
        raise check.ArgumentError("weights: expected at least one layer")
    total = 0.0
    for layer, weight in weights.items():
        for name, maps in (("input", input), ("target", target)):
            if layer not in maps:
                raise check.ArgumentError(
                    f"{name}: no feature maps for layer {layer!r}")
            _feature_maps(f"{name}[{layer!r}]", maps[layer])
        ours, theirs = input[layer], target[layer]
        if ours.shape[-3] != theirs.shape[-3]:
            raise check.ArgumentError(
                f"target[{layer!r}]: expected {ours.shape[-3]} channels "
                f"(as the input), got {theirs.shape[-3]}")
        difference = gram_matrix(ours) - gram_matrix(theirs)
        frobenius2 = (difference**2).sum(dim=(-2, -1))
        total = total + weight * frobenius2
    return reduce(total, reduction)


def total_variation(img: torch.Tensor, *, reduction: str = "sum") -> torch.Tensor:
    r"""Anisotropic total variation of each image plane.

    $$ \mathrm{TV}(x) = \sum_{i=1}^{H-1} \sum_{j=1}^{W}
       \lvert x_{i+1, j} - x_{i, j}\rvert
       + \sum_{i=1}^{H} \sum_{j=1}^{W-1}
       \lvert x_{i, j+1} - x_{i, j}\rvert $$

    ``img`` has shape (\*, H, W); the result has shape (\*), e.g. one
    value per sample and channel for (N, C, H, W): sum it for a loss.
    ``'sum'`` is the formula; ``'mean'`` divides each of the two sums by
    its number of terms, $(H-1)W$ and $H(W-1)$, so the value does not grow
    with the resolution. These are kornia's conventions: ``ones`` gives 0,
    ``arange(16).reshape(4, 4)`` gives $12 \cdot 4 + 12 \cdot 1 = 60$
    (``'sum'``) or $4 + 1 = 5$ (``'mean'``). The gradient of $\lvert\cdot
    \rvert$ at a zero difference is taken as 0.

    Reference: ``kornia.losses.total_variation``; Rudin et al. (1992).
    """
    check.floating("img", img)
    if img.dim() < 2:
        raise check.ArgumentError(
            f"img: expected shape (*, H, W), got {tuple(img.shape)}")
    check.reduction(reduction, ("mean", "sum"))
    vertical = (img[..., 1:, :] - img[..., :-1, :]).abs()
    horizontal = (img[..., :, 1:] - img[..., :, :-1]).abs()
    if reduction == "mean":
        return vertical.mean(dim=(-2, -1)) + horizontal.mean(dim=(-2, -1))
    return vertical.sum(dim=(-2, -1)) + horizontal.sum(dim=(-2, -1))


# --------------------------------------------------------------------------- loss network
#: ImageNet channel statistics: VGG expects inputs standardised with them.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: VGG16's convolutional blocks (output channels of each 3 × 3 convolution).
VGG16_BLOCKS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


class FeatureExtractor(nn.Module):
    """A VGG-style loss network whose named layers return feature maps.

    Blocks of 3 × 3 convolutions and ReLUs, each block ending in a 2 × 2 pooling, named as in
    VGG: ``conv2_1`` is the first convolution of block 2, ``relu2_1`` its ReLU, ``pool2`` the
    block's pooling. The input is an image batch (N, 3, H, W) with values in [0, 1]; it is
    standardised with the ImageNet mean and standard deviation first. The parameters are
    frozen: a loss network stays fixed while the image (or another network) is optimised.

    The default network is small (one convolution of 16, 32, 64 and 128 channels per block)
    and randomly initialised: Kaiming-normal weights drawn from a CPU generator seeded with
    ``seed``, so they are the same on every device. Random convolutional features already
    support image reconstruction and texture synthesis (He, Wang & Hopcroft, 2016;
    Ustyuzhaninov et al., 2017). :meth:`vgg16` loads the pretrained VGG16 of Simonyan &
    Zisserman (2015) when torchvision is installed.

    ``pool``: ``"max"`` (VGG's; tolerant of small shifts) or ``"avg"`` (smoother gradients;
    Gatys et al. use it when optimising an image). ``padding_mode``: how the convolutions pad
    the border (``"circular"`` by default: no image border for synthesis to exaggerate;
    VGG16 uses ``"zeros"``).
    """

    def __init__(self, blocks: Sequence[Sequence[int]] = ((16,), (32,), (64,), (128,)), *,
                 in_channels: int = 3, pool: str = "max", padding_mode: str = "circular",
                 seed: int = 0):
        super().__init__()
        if pool not in ("avg", "max"):
            raise check.ArgumentError(f"pool: expected 'avg' or 'max', got {pool!r}")
        if not blocks or not all(blocks):
            raise check.ArgumentError(
                "blocks: expected at least one block of at least one convolution")
        generator = torch.Generator().manual_seed(seed)
        self.layers = nn.ModuleDict()
        #: The last ReLU of each block (``relu1_2``, ``relu2_2``, ... in VGG16): the default.
        self.default_layers = [f"relu{b}_{len(block)}" for b, block in enumerate(blocks, 1)]
        channels = in_channels
        for b, block in enumerate(blocks, start=1):
            for i, out_channels in enumerate(block, start=1):
                conv = nn.Conv2d(channels, out_channels, kernel_size=3, padding=1,
                                 padding_mode=padding_mode)
                with torch.no_grad():  # Kaiming normal: keeps the activations' scale per layer
                    std = (2.0 / (channels * 9)) ** 0.5
                    conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator) * std)
                    conv.bias.zero_()
                self.layers[f"conv{b}_{i}"] = conv
                self.layers[f"relu{b}_{i}"] = nn.ReLU()
                channels = out_channels
            self.layers[f"pool{b}"] = nn.AvgPool2d(2) if pool == "avg" else nn.MaxPool2d(2)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.requires_grad_(False)

    @property
    def names(self) -> list[str]:
        """Every layer's name, in order."""
        return list(self.layers)

    def forward(self, images: torch.Tensor,
                layers: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        """Feature maps ``{name: (N, C, H, W)}`` of the requested ``layers``.

        The default is the last ReLU of every block. Computation stops after the deepest
        requested layer.
        """
        check.floating("images", images)
        if images.dim() != 4 or images.shape[1] != self.mean.shape[1]:
            raise check.ArgumentError(
                f"images: expected shape (N, {self.mean.shape[1]}, H, W) with "
                             f"values in [0, 1], got {tuple(images.shape)}")
        wanted = list(layers) if layers is not None else self.default_layers
        unknown = [name for name in wanted if name not in self.layers]
        if unknown:
            raise check.ArgumentError(f"layers: unknown layer {unknown[0]!r}; the network has "
                             f"{', '.join(self.names)}")
        remaining, features = set(wanted), {}
        x = (images - self.mean.to(images)) / self.std.to(images)
        for name, layer in self.layers.items():
            if not remaining:
                break
            x = layer(x)
            if name in remaining:
                features[name] = x
                remaining.discard(name)
        return {name: features[name] for name in wanted}

    @classmethod
    def from_vgg(cls, features: nn.Sequential, pool: str = "max") -> FeatureExtractor:
        """A FeatureExtractor with the convolutions of a VGG ``features`` stack.

        ``features`` is torchvision's ``vgg16(...).features`` (or any stack of Conv2d, ReLU
        and pooling layers in VGG's order); its weights are copied, its layers renamed.
        """
        blocks, block = [], []
        for layer in features:
            if isinstance(layer, nn.Conv2d):
                block.append(layer)
            elif isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
                blocks.append(block)
                block = []
        if block:
            raise check.ArgumentError(
                "features: expected every block of convolutions to end in a pooling")
        extractor = cls([[conv.out_channels for conv in b] for b in blocks],
                        in_channels=blocks[0][0].in_channels, pool=pool, padding_mode="zeros")
        for b, convs in enumerate(blocks, start=1):
            for i, conv in enumerate(convs, start=1):
                extractor.layers[f"conv{b}_{i}"].load_state_dict(conv.state_dict())
        return extractor.requires_grad_(False)

    @classmethod
    def vgg16(cls, pool: str = "max") -> FeatureExtractor:
        """The pretrained VGG16 of torchvision (ImageNet weights), as a FeatureExtractor.

        Needs torchvision, and its weights (downloaded on first use, about 530 MB, then
        cached). Raises ``ImportError`` when torchvision is missing, so a caller can fall
        back to the random network.
        """
        try:
            from torchvision.models import VGG16_Weights, vgg16
        except ImportError as error:
            raise ImportError("FeatureExtractor.vgg16 needs torchvision "
                              "(pip install torchvision)") from error
        model = vgg16(weights=VGG16_Weights.IMAGENET1K_V1)
        return cls.from_vgg(model.features, pool=pool).eval()


CATALOG = (
    Entry(feature_reconstruction_loss, chapter="10_perceptual_style",
          task="image synthesis, super-resolution",
          summary=r"$\frac{1}{CHW}\lVert\phi_j(\hat y) - \phi_j(y)\rVert_2^2$",
          reference=None, input_kind="feature maps", convex=True, bounded=False,
          robust=False,
          inputs=sample("features", "features")),
    Entry(style_loss, chapter="10_perceptual_style", task="style transfer, texture synthesis",
          summary=r"$\sum_j w_j \lVert G_j(\hat y) - G_j(y)\rVert_F^2$",
          reference=None, input_kind="feature maps per layer", convex=False, bounded=False,
          robust=False,
          inputs=samples.style()),
    Entry(total_variation, chapter="10_perceptual_style", task="image smoothness prior",
          summary=r"$\sum \lvert x_{i+1,j} - x_{i,j}\rvert + \lvert x_{i,j+1} - x_{i,j}\rvert$",
          reference="kornia.losses.total_variation", input_kind="images", convex=True,
          bounded=False, robust=True,
          inputs=sample("features")),
)
