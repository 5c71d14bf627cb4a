"""Vision transformer (Dosovitskiy et al. 2020) with torchvision's names, sized for 28x28 and
32x32 images.

``conv_proj`` (patch embedding: a p x p conv with stride p), ``class_token``,
``encoder.pos_embedding`` (learned), ``encoder.layers.encoder_layer_{i}`` pre-norm blocks
(``ln_1``, ``self_attention`` = :class:`~striate.nn.attention.MultiheadAttention`, ``ln_2``,
``mlp.0``/``mlp.3`` with GELU), ``encoder.ln``, ``heads.head``.  The position embeddings fix
the number of patches, so a ViT takes exactly ``image_size x image_size`` inputs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from striate import nn
from striate.functional._zoo_ops import prepend_class_token
from striate.models._common import check_input, check_options
from striate.models.registry import register_model
from striate.nn import init as _init
from striate.nn.attention import MultiheadAttention

__all__ = ["EncoderBlock", "VisionTransformer", "vit_tiny", "vit_tiny_32"]


class MLPBlock(nn.Sequential):
    """Linear (``0``) -> GELU -> Dropout -> Linear (``3``) -> Dropout."""

    def __init__(self, in_dim: int, mlp_dim: int, dropout: float) -> None:
        super().__init__(nn.Linear(in_dim, mlp_dim), nn.GELU(), nn.Dropout(dropout),
                         nn.Linear(mlp_dim, in_dim), nn.Dropout(dropout))
        for m in (self[0], self[3]):
            _init.xavier_uniform_(m.weight)
            _init.normal_(m.bias, 0.0, 1e-6)


class EncoderBlock(nn.Module):
    """Pre-norm transformer block: ``x + attn(ln_1(x))`` then ``x + mlp(ln_2(x))``.

    Shape:
        (N, L, E) -> (N, L, E)
    """

    def __init__(self, num_heads: int, hidden_dim: int, mlp_dim: int, dropout: float,
                 attention_dropout: float) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.ln_1 = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.self_attention = MultiheadAttention(hidden_dim, num_heads,
                                                 dropout=attention_dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.mlp = MLPBlock(hidden_dim, mlp_dim, dropout)

    def forward(self, x: Any) -> Any:
        y = self.ln_1(x)
        y, _ = self.self_attention(y, y, y, need_weights=False)
        x = self.dropout(y) + x
        return x + self.mlp(self.ln_2(x))


class Encoder(nn.Module):
    """Position embedding + dropout + ``layers`` (``encoder_layer_i``) + final ``ln``."""

    def __init__(self, seq_length: int, num_layers: int, num_heads: int, hidden_dim: int,
                 mlp_dim: int, dropout: float, attention_dropout: float) -> None:
        super().__init__()
        self.pos_embedding = nn.Parameter(np.empty((1, seq_length, hidden_dim), np.float32))
        _init.normal_(self.pos_embedding, 0.0, 0.02)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.Sequential()
        for i in range(num_layers):
            self.layers.add_module(f"encoder_layer_{i}", EncoderBlock(
                num_heads, hidden_dim, mlp_dim, dropout, attention_dropout))
        self.ln = nn.LayerNorm(hidden_dim, eps=1e-6)

    def forward(self, x: Any) -> Any:
        x = self.dropout(x + self.pos_embedding)
        return self.ln(self.layers(x))


class VisionTransformer(nn.Module):
    """ViT.

    Args:
        image_size: the (square) input size; must be divisible by ``patch_size``.
        patch_size: side of a patch.
        num_layers, num_heads, hidden_dim, mlp_dim: transformer size.
        dropout, attention_dropout: dropout rates.
        num_classes: outputs.
        in_channels: input image channels.
        name: model name for error messages.

    Shape:
        (N, in_channels, image_size, image_size) -> (N, num_classes)
    """

    def __init__(self, image_size: int, patch_size: int, num_layers: int, num_heads: int,
                 hidden_dim: int, mlp_dim: int, dropout: float = 0.0,
                 attention_dropout: float = 0.0, num_classes: int = 1000, in_channels: int = 3,
                 name: str = "vit") -> None:
        super().__init__()
        if image_size % patch_size != 0:
            raise ValueError(f"{name}: image_size ({image_size}) must be divisible by "
                             f"patch_size ({patch_size})")
        self.name = name
        self.image_size = image_size
        self.patch_size = patch_size
        self.hidden_dim = hidden_dim
        self.in_channels = in_channels
        self.conv_proj = nn.Conv2d(in_channels, hidden_dim, patch_size, stride=patch_size)
        seq_length = (image_size // patch_size) ** 2 + 1
        self.class_token = nn.Parameter(np.zeros((1, 1, hidden_dim), np.float32))
        self.encoder = Encoder(seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout,
                               attention_dropout)
        self.seq_length = seq_length
        self.heads = nn.Sequential()
        self.heads.add_module("head", nn.Linear(hidden_dim, num_classes))
        fan_in = in_channels * patch_size * patch_size
        _init.trunc_normal_(self.conv_proj.weight, std=math.sqrt(1.0 / fan_in))
        _init.zeros_(self.conv_proj.bias)
        _init.zeros_(self.heads.head.weight)
        _init.zeros_(self.heads.head.bias)

    def _process_input(self, x: Any) -> Any:
        check_input(self.name, x, self.in_channels, exact=self.image_size,
                    why="the learned position embeddings fix the number of patches")
        n = x.shape[0]
        x = self.conv_proj(x)  # (N, E, h, w)
        x = x.reshape(n, self.hidden_dim, -1)
        return x.permute(0, 2, 1)

    def forward(self, x: Any) -> Any:
        x = prepend_class_token(self._process_input(x), self.class_token)
        x = self.encoder(x)
        return self.heads(x[:, 0])


@register_model("vit_tiny")
def vit_tiny(num_classes: int = 10, in_channels: int = 3, image_size: int = 28,
             patch_size: int = 4, **cfg: Any) -> VisionTransformer:
    """Tiny ViT for 28x28 images (4x4 patches -> 49 tokens + class token; 6 layers, 4 heads,
    E=64, MLP 128; 0.2M parameters).  Pass ``image_size=32`` for 32x32 (64 tokens)."""
    check_options("vit_tiny", cfg, VisionTransformer,
                  fixed=("image_size", "patch_size", "num_classes", "in_channels"))
    args = {"num_layers": 6, "num_heads": 4, "hidden_dim": 64, "mlp_dim": 128}
    args.update(cfg)
    return VisionTransformer(image_size, patch_size, num_classes=num_classes,
                             in_channels=in_channels, name="vit_tiny", **args)


@register_model("vit_tiny_32")
def vit_tiny_32(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> VisionTransformer:
    """:func:`vit_tiny` for 32x32 images (CIFAR)."""
    cfg.setdefault("image_size", 32)
    return vit_tiny(num_classes, in_channels, **cfg)
