"""Batch-level, vectorised, seeded data augmentation.

Every transform works on a whole batch ``x`` of shape ``(N, C, H, W)``, float32 on the
[0, 1] scale (what :class:`~striate.data.DataLoader` produces before normalising). Random
parameters are drawn per sample from a ``numpy.random.Generator`` and applied with
vectorised NumPy (broadcast masks, index grids, one bilinear gather for geometric warps):
there is no Python loop over samples or pixels.

Call convention::

    y = t(x, rng=rng)                    # images only
    y, targets = t(x, labels, rng=rng)   # with labels (int64 (N,) or soft (N, K))

``rng`` is a Generator or an int seed; when omitted the transform uses its own generator,
seeded with 0 at construction (deterministic across runs, different at each call). Mixing
transforms (:class:`MixUp`, :class:`CutMix`) need labels and return soft targets
``(N, num_classes)`` float32 whose rows sum to 1. Inputs are not modified.

Parameters are checked at construction (TypeError for a wrong type, ValueError naming the
parameter and giving the expected and the actual value: NaN, infinities, reversed ranges
and non-positive sizes are refused). Images with no pixels (H or W = 0) come back as an
empty batch of the same shape from every transform that keeps the size (:class:`CutMix`
pastes nothing: targets are the samples' own); :class:`RandomResizedCrop`, which has to
sample pixels to fill its output, refuses them, and :class:`RandomCrop` refuses a crop
larger than the padded image as for any size.

Example:
    >>> import numpy as np
    >>> t = Compose([RandomCrop(28, padding=4), RandomHorizontalFlip()])
    >>> x = np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32)
    >>> t(x, rng=0).shape
    (8, 1, 28, 28)
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from striate.data._checks import channel_vector, finite_pair
from striate.kernels._validate import finite, int_tuple, integer, pair, real

RngLike = np.random.Generator | int | None

_GRAY = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _range(v: float | Sequence[float], fn: str, name: str, center: float = 0.0,
           lo_bound: float | None = None) -> tuple[float, float]:
    """A finite number ``v >= 0`` -> ``(center - v, center + v)``, or a given finite
    ``(lo, hi)`` pair with ``lo <= hi``; with ``lo_bound``, ``lo`` is raised to it (``hi``
    must reach it)."""
    if isinstance(v, (int, float, np.floating, np.integer)):
        d = finite(name, v, fn)
        if d < 0:
            raise ValueError(f"{fn}: expected {name} >= 0, got {d}")
        lo, hi = center - d, center + d
    else:
        lo, hi = finite_pair(name, v, fn)
    if lo_bound is not None:
        if hi < lo_bound:
            raise ValueError(f"{fn}: expected {name} to reach {lo_bound} or more, got "
                             f"({lo}, {hi})")
        lo = max(lo, lo_bound)
    return lo, hi


def _positive_pair(name: str, v: Any, fn: str) -> tuple[float, float]:
    """A finite ``(lo, hi)`` range with ``0 < lo <= hi`` (scales and aspect ratios)."""
    lo, hi = finite_pair(name, v, fn)
    if lo <= 0:
        raise ValueError(f"{fn}: expected {name} to be (lo, hi) with 0 < lo <= hi, got "
                         f"({lo}, {hi})")
    return lo, hi


def _probability(p: Any, fn: str) -> float:
    p = real("p", p, fn)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{fn}: p must be in [0, 1], got {p}")
    return p


def _check_nonempty(x: np.ndarray, who: str) -> None:
    if x.shape[2] == 0 or x.shape[3] == 0:
        raise ValueError(f"{who}: expected images with at least one pixel, got "
                         f"{x.shape[2]}x{x.shape[3]} images")


def _check_batch(x: Any, who: str) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{who}: expected a numpy array of shape (N, C, H, W), got "
                        f"{type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{who}: expected images of shape (N, C, H, W), got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{who}: expected float images on the [0, 1] scale, got dtype {x.dtype}"
                        " (use ToFloat() first for uint8)")
    return x


def _one_hot(labels: np.ndarray, num_classes: int, who: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim == 2:
        if labels.shape[1] != num_classes:
            raise ValueError(f"{who}: soft targets have {labels.shape[1]} classes, expected "
                             f"{num_classes}")
        return labels.astype(np.float32, copy=False)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{who}: expected int labels (N,) or soft targets (N, K), got "
                         f"{labels.dtype} of shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{who}: label out of range [0, {num_classes}): {labels.min()}.."
                         f"{labels.max()}")
    out = np.zeros((labels.shape[0], num_classes), dtype=np.float32)
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


class Transform:
    """Base class: subclasses implement :meth:`apply` (images only) or override
    :meth:`apply_with_targets` (transforms that change the targets)."""

    _rng: np.random.Generator | None = None

    def _generator(self, rng: RngLike) -> np.random.Generator:
        if isinstance(rng, np.random.Generator):
            return rng
        if rng is not None:
            return np.random.default_rng(rng)
        if self._rng is None:
            self._rng = np.random.default_rng(0)
        return self._rng

    def __call__(self, images: np.ndarray, labels: np.ndarray | None = None, *,
                 rng: RngLike = None) -> Any:
        g = self._generator(rng)
        if labels is None:
            return self.apply(self._validate(images), g)
        x = self._validate(images)
        y = np.asarray(labels)
        if y.ndim == 0 or y.shape[0] != x.shape[0]:
            raise ValueError(f"{type(self).__name__}: {x.shape[0]} images but labels of shape "
                             f"{y.shape} (expected (N,) labels or (N, K) targets)")
        return self.apply_with_targets(x, y, g)

    def _validate(self, x: Any) -> np.ndarray:
        return _check_batch(x, type(self).__name__)

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Transform a batch (float, (N, C, H, W)); must not modify ``x``."""
        raise NotImplementedError

    def apply_with_targets(self, x: np.ndarray, y: np.ndarray,
                           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return self.apply(x, rng), y

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class Compose(Transform):
    """Apply ``transforms`` in order (an empty list is the identity)."""

    def __init__(self, transforms: Sequence[Transform]) -> None:
        self.transforms = list(transforms)
        for t in self.transforms:
            if not isinstance(t, Transform):
                raise TypeError(f"Compose: expected Transform instances, got {type(t).__name__}")

    def _validate(self, x: Any) -> np.ndarray:
        return self.transforms[0]._validate(x) if self.transforms else \
            _check_batch(x, "Compose")

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for t in self.transforms:
            x = t.apply(t._validate(x), rng)
        return x

    def apply_with_targets(self, x: np.ndarray, y: np.ndarray,
                           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        for t in self.transforms:
            x, y = t.apply_with_targets(t._validate(x), y, rng)
        return x, y


class RandomChoice(Transform):
    """Apply one of ``transforms`` to the whole batch, chosen with probabilities ``p``
    (e.g. ``RandomChoice([MixUp(0.2, 10), CutMix(1.0, 10)])``)."""

    def __init__(self, transforms: Sequence[Transform], p: Sequence[float] | None = None):
        if not transforms:
            raise ValueError("RandomChoice: needs at least one transform")
        self.transforms = list(transforms)
        for t in self.transforms:
            if not isinstance(t, Transform):
                raise TypeError(f"RandomChoice: expected Transform instances, got "
                                f"{type(t).__name__}")
        self.p: list[float] | None = None
        if p is not None:
            n = len(self.transforms)
            if isinstance(p, (str, bytes)) or not hasattr(p, "__len__") or len(p) != n:
                raise TypeError(f"RandomChoice: expected p to be {n} weights (one per "
                                f"transform), got {p!r}")
            w = [finite("p", v, "RandomChoice") for v in p]
            if min(w) < 0 or sum(w) <= 0:
                raise ValueError(f"RandomChoice: expected p to be weights >= 0 with a positive "
                                 f"sum, got {p!r}")
            self.p = [v / sum(w) for v in w]

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self.transforms[rng.choice(len(self.transforms), p=self.p)].apply(x, rng)

    def apply_with_targets(self, x: np.ndarray, y: np.ndarray,
                           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        t = self.transforms[rng.choice(len(self.transforms), p=self.p)]
        return t.apply_with_targets(x, y, rng)


# --------------------------------------------------------------------------------------------
# Value transforms
# --------------------------------------------------------------------------------------------
class ToFloat(Transform):
    """uint8 (or any) images -> float32 divided by ``divisor`` (default 255: the [0, 1] scale,
    exactly ``v / 255`` as the loader computes it)."""

    def __init__(self, divisor: float = 255.0) -> None:
        self.divisor = finite("divisor", divisor, "ToFloat")
        if self.divisor == 0:
            raise ValueError("ToFloat: expected a non-zero divisor, got 0.0")

    def _validate(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 4 or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
            raise ValueError(f"ToFloat: expected numeric images of shape (N, C, H, W), got "
                             f"{x.dtype} of shape {x.shape}")
        return x

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.divide(x, np.float32(self.divisor), dtype=np.float32)


class Normalize(Transform):
    """``(x - mean) / std`` per channel (scalars broadcast to every channel)."""

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]) -> None:
        self.mean = channel_vector("mean", mean, "Normalize")
        self.std = channel_vector("std", std, "Normalize", positive=True)

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        c = x.shape[1]
        for name, v in (("mean", self.mean), ("std", self.std)):
            if v.size not in (1, c):
                raise ValueError(f"Normalize: {name} has {v.size} values, images have {c} "
                                 "channels")
        m = self.mean.reshape(1, -1, 1, 1)
        s = (1.0 / self.std).astype(np.float32).reshape(1, -1, 1, 1)
        out = np.subtract(x, m, dtype=np.float32)  # the only allocation: the result
        out *= s
        return out


# --------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------
_TLS = threading.local()


def _scratch(key: str, shape: tuple[int, ...], dtype: Any = np.float32) -> np.ndarray:
    """A per-thread reusable temporary buffer (never returned to callers).

    Multi-MB temporaries freed and re-allocated on every batch cost page faults with glibc's
    default malloc (it returns them to the OS); reusing them makes the warps several times
    faster. Each loader worker thread has its own buffers.
    """
    cache = getattr(_TLS, "buffers", None)
    if cache is None:
        cache = _TLS.buffers = {}
    buf = cache.get(key)
    if buf is None or buf.shape != shape or buf.dtype != np.dtype(dtype):
        buf = cache[key] = np.empty(shape, dtype=dtype)
    return buf


#: Longest image side the warps accept: their float32 coordinates address every pixel
#: exactly only below 2**24 (the padded frame adds 2).
MAX_WARP_SIDE = 2**24 - 2


def _check_warp_side(h: int, w: int, who: str) -> None:
    if max(h, w) > MAX_WARP_SIDE:
        raise ValueError(f"{who}: expected images with sides up to {MAX_WARP_SIDE} pixels "
                         f"(float32 coordinates), got {h}x{w}")


def _bilinear_sample(x: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                     fill: float = 0.0, who: str = "warp") -> np.ndarray:
    """Sample ``x`` (N, C, H, W) at source coordinates ``xs``, ``ys`` (N, Ho, Wo) (pixel
    units, pixel centres at integers) with bilinear weights; points outside take ``fill``.

    The batch is padded by one pixel of ``fill`` and coordinates are clamped into the padded
    frame, so every corner read is in bounds and the outside blends with ``fill``. Then, per
    channel, four flat gathers through one index array (shifted views give the other
    corners) and in-place blends into reused buffers: no per-sample loop. Flat indices are
    integers (exact at any size); coordinates are float32, so sides are limited to
    :data:`MAX_WARP_SIDE`.

    Raises:
        ValueError: a side of ``x`` longer than :data:`MAX_WARP_SIDE` (named ``who``).
    """
    n, c, h, w = x.shape
    _check_warp_side(h, w, who)
    ho, wo = xs.shape[1], xs.shape[2]
    p = ho * wo
    hp, wp = h + 2, w + 2
    xp = _scratch("bl_pad", (c, n, hp, wp))
    xp.fill(fill)
    xp[:, :, 1:-1, 1:-1] = x.transpose(1, 0, 2, 3)
    fx = _scratch("bl_fx", (n, p))
    fy = _scratch("bl_fy", (n, p))
    x0f = _scratch("bl_x0f", (n, p))
    y0f = _scratch("bl_y0f", (n, p))
    np.add(xs, np.float32(1.0), out=fx.reshape(n, ho, wo), casting="same_kind")
    np.add(ys, np.float32(1.0), out=fy.reshape(n, ho, wo), casting="same_kind")
    np.clip(fx, 0.0, wp - 1.0, out=fx)
    np.clip(fy, 0.0, hp - 1.0, out=fy)
    np.floor(fx, out=x0f)
    np.floor(fy, out=y0f)
    np.clip(x0f, 0.0, wp - 2.0, out=x0f)  # np.clip: about 3x faster than np.minimum here
    np.clip(y0f, 0.0, hp - 2.0, out=y0f)
    fx -= x0f  # fractional parts in [0, 1]
    fy -= y0f
    # Flat index of the top-left corner, y0 * wp + x0 + sample * hp * wp, in integers (in
    # float32 it was exact only below 2**24: a 4096x4096 image passes that). Each axis goes
    # through int32 (exact: integers below MAX_WARP_SIDE), which converts several
    # times faster than float32 -> int64 directly.
    idx = _scratch("bl_idx", (n, p), np.intp)
    axis = _scratch("bl_axis", (n, p), np.int32)
    np.copyto(axis, y0f, casting="unsafe")
    np.copyto(idx, axis)
    idx *= wp
    np.copyto(axis, x0f, casting="unsafe")
    idx += axis
    idx += (np.arange(n, dtype=np.intp) * (hp * wp))[:, None]
    a = _scratch("bl_a", (n, p))
    b = _scratch("bl_b", (n, p))
    cc = _scratch("bl_c", (n, p))
    d = _scratch("bl_d", (n, p))
    out = np.empty((n, c, p), dtype=np.float32)
    for ch in range(c):
        flat = xp[ch].reshape(-1)
        flat.take(idx, out=a, mode="clip")  # indices are in range; "clip" avoids buffering
        flat[1:].take(idx, out=b, mode="clip")
        flat[wp:].take(idx, out=cc, mode="clip")
        flat[wp + 1:].take(idx, out=d, mode="clip")
        b -= a
        b *= fx
        a += b  # top row
        d -= cc
        d *= fx
        cc += d  # bottom row
        cc -= a
        cc *= fy
        np.add(a, cc, out=out[:, ch])
    return out.reshape(n, c, ho, wo)


def _affine_sample(x: np.ndarray, inv: np.ndarray, fill: float = 0.0,
                   who: str = "warp") -> np.ndarray:
    """Warp ``x`` with per-sample inverse affine maps ``inv`` (N, 2, 3): output pixel
    ``(u, v)`` (coordinates relative to the image centre) reads input point
    ``inv @ (u, v, 1)`` (relative to the centre)."""
    n, c, h, w = x.shape
    _check_warp_side(h, w, who)
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    u = (np.arange(w, dtype=np.float32) - np.float32(cx))[None, None, :]
    v = (np.arange(h, dtype=np.float32) - np.float32(cy))[None, :, None]
    a = inv.astype(np.float32)
    a[:, 0, 2] += np.float32(cx)
    a[:, 1, 2] += np.float32(cy)
    a = a[:, :, :, None, None]
    xs = _scratch("aff_xs", (n, h, w))
    ys = _scratch("aff_ys", (n, h, w))
    tmp = _scratch("aff_tmp", (n, h, w))
    for out, r in ((xs, 0), (ys, 1)):
        np.multiply(a[:, r, 0], u, out=out)
        np.multiply(a[:, r, 1], v, out=tmp)
        out += tmp
        out += a[:, r, 2]
    return _bilinear_sample(x, xs, ys, fill, who)


def _inverse_affine(angle_deg: np.ndarray, tx: np.ndarray, ty: np.ndarray, scale: np.ndarray,
                    shear_x_deg: np.ndarray, shear_y_deg: np.ndarray) -> np.ndarray:
    """Per-sample inverse of ``p_out = R(angle) @ Shear @ diag(scale) @ p_in + t`` (N, 2, 3).

    Positive ``angle`` rotates counter-clockwise as displayed (y axis pointing down), as in
    torchvision; shears are angles in degrees along x and y.
    """
    th = np.deg2rad(angle_deg)
    cos, sin = np.cos(th), np.sin(th)
    sx, sy = np.tan(np.deg2rad(shear_x_deg)), np.tan(np.deg2rad(shear_y_deg))
    # Forward matrix F = R @ [[1, sx], [sy, 1]] * scale, with R = [[cos, sin], [-sin, cos]].
    f00 = (cos + sin * sy) * scale
    f01 = (cos * sx + sin) * scale
    f10 = (-sin + cos * sy) * scale
    f11 = (-sin * sx + cos) * scale
    det = f00 * f11 - f01 * f10
    det = np.where(np.abs(det) < 1e-12, 1e-12, det)
    i00, i01, i10, i11 = f11 / det, -f01 / det, -f10 / det, f00 / det
    inv = np.empty((angle_deg.shape[0], 2, 3), dtype=np.float64)
    inv[:, 0, 0], inv[:, 0, 1] = i00, i01
    inv[:, 1, 0], inv[:, 1, 1] = i10, i11
    inv[:, 0, 2] = -(i00 * tx + i01 * ty)
    inv[:, 1, 2] = -(i10 * tx + i11 * ty)
    return inv


class RandomCrop(Transform):
    """Pad, then crop a random ``size`` window per sample.

    Args:
        size: output ``(H, W)`` or int.
        padding: int (all sides), ``(left/right, top/bottom)`` or ``(left, top, right,
            bottom)`` pixels.
        padding_mode: "constant" (``fill``), "edge", "reflect" or "symmetric".
        fill: constant padding value.

    Shape:
        (N, C, H, W) -> (N, C, size[0], size[1]).
    """

    def __init__(self, size: int | Sequence[int], padding: int | Sequence[int] = 0,
                 padding_mode: str = "constant", fill: float = 0.0) -> None:
        self.size = pair("size", size, "RandomCrop", min_value=1)
        pad = int_tuple("padding", padding, "RandomCrop", "an int, 2 or 4 ints")
        if isinstance(padding, (int, np.integer)):
            pad = pad * 4
        elif len(pad) == 2:
            pad = pad * 2
        elif len(pad) != 4:
            raise ValueError(f"RandomCrop: padding must be an int, 2 or 4 ints, got {padding!r}")
        if min(pad) < 0:
            raise ValueError(f"RandomCrop: padding must be >= 0, got {padding!r}")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"RandomCrop: padding_mode must be constant, edge, reflect or "
                             f"symmetric, got {padding_mode!r}")
        self.padding = pad  # left, top, right, bottom
        self.padding_mode = padding_mode
        self.fill = finite("fill", fill, "RandomCrop")

    def _pad(self, x: np.ndarray) -> np.ndarray:
        left, top, right, bottom = self.padding
        if not any(self.padding):
            return x
        n, c, h, w = x.shape
        if self.padding_mode == "constant":
            out = np.full((n, c, h + top + bottom, w + left + right), self.fill, dtype=x.dtype)
            out[:, :, top:top + h, left:left + w] = x
            return out
        return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), mode=self.padding_mode)

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        th, tw = self.size
        xp = self._pad(x)
        n, _, hp, wp = xp.shape
        if hp < th or wp < tw:
            raise ValueError(f"RandomCrop: crop size {self.size} larger than padded image "
                             f"{(hp, wp)}")
        oy = rng.integers(0, hp - th + 1, size=n)
        ox = rng.integers(0, wp - tw + 1, size=n)
        windows = sliding_window_view(xp, (th, tw), axis=(2, 3))  # (N, C, Hp-th+1, Wp-tw+1, th, tw)
        return windows[np.arange(n), :, oy, ox]


class RandomHorizontalFlip(Transform):
    """Mirror each sample left-right with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = _probability(p, type(self).__name__)

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        flip = rng.random(x.shape[0]) < self.p
        out = x.copy()
        out[flip] = x[flip, :, :, ::-1]
        return out


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror each sample top-bottom with probability ``p``."""

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        flip = rng.random(x.shape[0]) < self.p
        out = x.copy()
        out[flip] = x[flip, :, ::-1, :]
        return out


class RandomAffine(Transform):
    """Random rotation, translation, scale and shear per sample, bilinear resampling.

    Args:
        degrees: rotation range ``(-d, d)`` or ``(lo, hi)`` in degrees (counter-clockwise).
        translate: max fraction ``(fx, fy)`` of width/height to shift by, or None.
        scale: ``(lo, hi)`` zoom range, or None.
        shear: x-shear range in degrees (number ``s`` -> ``(-s, s)``, or ``(lo, hi)``), or 4
            values ``(xlo, xhi, ylo, yhi)``; None for no shear.
        fill: value of points mapped from outside the image.
    """

    def __init__(self, degrees: float | Sequence[float] = 0.0,
                 translate: Sequence[float] | None = None, scale: Sequence[float] | None = None,
                 shear: float | Sequence[float] | None = None, fill: float = 0.0) -> None:
        fn = "RandomAffine"
        self.degrees = _range(degrees, fn, "degrees")
        if translate is not None:
            if isinstance(translate, (str, bytes)) or not hasattr(translate, "__len__") \
                    or len(translate) != 2:
                raise TypeError(f"RandomAffine: translate must be 2 fractions in [0, 1], got "
                                f"{translate!r}")
            translate = tuple(finite("translate", t, fn) for t in translate)
            if not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError(f"RandomAffine: translate must be 2 fractions in [0, 1], got "
                                 f"{translate!r}")
        self.translate = translate
        self.scale = None if scale is None else _positive_pair("scale", scale, fn)
        self.shear: tuple[float, float, float, float] | None
        if shear is None:
            self.shear = None
        elif isinstance(shear, (int, float, np.integer, np.floating)):
            self.shear = (*_range(shear, fn, "shear"), 0.0, 0.0)
        elif hasattr(shear, "__len__") and len(shear) == 4 and not isinstance(shear, str):
            self.shear = (*finite_pair("shear[:2]", shear[:2], fn),
                          *finite_pair("shear[2:]", shear[2:], fn))
        elif hasattr(shear, "__len__") and len(shear) == 2 and not isinstance(shear, str):
            self.shear = (*finite_pair("shear", shear, fn), 0.0, 0.0)
        else:
            raise TypeError(f"RandomAffine: shear must be a number, 2 or 4 values, got "
                            f"{shear!r}")
        self.fill = finite("fill", fill, fn)

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, _, h, w = x.shape
        angle = rng.uniform(self.degrees[0], self.degrees[1], n)
        if self.translate is not None:
            tx = np.round(rng.uniform(-1, 1, n) * self.translate[0] * w)
            ty = np.round(rng.uniform(-1, 1, n) * self.translate[1] * h)
        else:
            tx = ty = np.zeros(n)
        sc = rng.uniform(self.scale[0], self.scale[1], n) if self.scale else np.ones(n)
        if self.shear is not None:
            shx = rng.uniform(self.shear[0], self.shear[1], n)
            shy = rng.uniform(self.shear[2], self.shear[3], n)
        else:
            shx = shy = np.zeros(n)
        inv = _inverse_affine(angle, tx, ty, sc, shx, shy)
        return _affine_sample(x, inv, self.fill, "RandomAffine")


def _sample_boxes(rng: np.random.Generator, n: int, h: int, w: int, scale: tuple[float, float],
                  ratio: tuple[float, float], tries: int = 10
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-sample boxes of area fraction in ``scale`` and aspect ratio (w/h) in ``ratio``,
    the first of ``tries`` candidates that fits (torchvision's rule), vectorised.

    Returns ``(top, left, height, width, found)``.
    """
    area = h * w * rng.uniform(scale[0], scale[1], (n, tries))
    logr = rng.uniform(math.log(ratio[0]), math.log(ratio[1]), (n, tries))
    ar = np.exp(logr)
    bw = np.round(np.sqrt(area * ar)).astype(np.int64)
    bh = np.round(np.sqrt(area / ar)).astype(np.int64)
    ok = (bw > 0) & (bw <= w) & (bh > 0) & (bh <= h)
    found = ok.any(axis=1)
    first = np.argmax(ok, axis=1)
    rows = np.arange(n)
    bh, bw = bh[rows, first], bw[rows, first]
    u = rng.random((n, 2))
    top = np.floor(u[:, 0] * (h - bh + 1)).astype(np.int64)
    left = np.floor(u[:, 1] * (w - bw + 1)).astype(np.int64)
    return top, left, bh, bw, found


class RandomResizedCrop(Transform):
    """Crop a random box (area fraction in ``scale``, aspect ratio in ``ratio``) per sample and
    resize it to ``size`` (bilinear, no antialiasing).

    When none of 10 candidate boxes fits, the whole image (cropped centrally to the nearest
    allowed ratio) is used, like torchvision. Images with no pixels (H or W = 0) are refused:
    there is nothing to crop the output from.

    Raises:
        TypeError, ValueError: at construction, ``size`` not positive ints, ``scale`` or
            ``ratio`` not a finite ``(lo, hi)`` with ``0 < lo <= hi``; at call time, empty
            images.
    """

    def __init__(self, size: int | Sequence[int], scale: Sequence[float] = (0.08, 1.0),
                 ratio: Sequence[float] = (3 / 4, 4 / 3)) -> None:
        self.size = pair("size", size, "RandomResizedCrop", min_value=1)
        self.scale = _positive_pair("scale", scale, "RandomResizedCrop")
        self.ratio = _positive_pair("ratio", ratio, "RandomResizedCrop")

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        _check_nonempty(x, "RandomResizedCrop")
        n, _, h, w = x.shape
        top, left, bh, bw, found = _sample_boxes(rng, n, h, w, self.scale, self.ratio)
        # Fallback: central crop at the clamped aspect ratio.
        in_ratio = w / h
        if in_ratio < self.ratio[0]:
            fw, fh = w, int(round(w / self.ratio[0]))
        elif in_ratio > self.ratio[1]:
            fh, fw = h, int(round(h * self.ratio[1]))
        else:
            fw, fh = w, h
        bh = np.where(found, bh, fh)
        bw = np.where(found, bw, fw)
        top = np.where(found, top, (h - fh) // 2)
        left = np.where(found, left, (w - fw) // 2)
        ho, wo = self.size
        jo = (np.arange(wo) + 0.5)[None, :]
        io = (np.arange(ho) + 0.5)[None, :]
        xs1 = left[:, None] + jo * (bw[:, None] / wo) - 0.5  # (N, Wo)
        ys1 = top[:, None] + io * (bh[:, None] / ho) - 0.5  # (N, Ho)
        # Clamp to the box's pixel centres so edge pixels are not blended with the outside.
        xs1 = np.clip(xs1, left[:, None], (left + bw - 1)[:, None])
        ys1 = np.clip(ys1, top[:, None], (top + bh - 1)[:, None])
        xs = np.broadcast_to(xs1[:, None, :], (n, ho, wo))
        ys = np.broadcast_to(ys1[:, :, None], (n, ho, wo))
        return _bilinear_sample(x, xs, ys, who="RandomResizedCrop")


class RandomErasing(Transform):
    """Erase a random rectangle per sample with probability ``p``.

    Args:
        p: probability per sample.
        scale: area fraction range of the rectangle.
        ratio: aspect-ratio range of the rectangle.
        value: fill value (number or per-channel), or "random" (uniform [0, 1) noise; images
            are on the [0, 1] scale before the loader normalises them).
    """

    def __init__(self, p: float = 0.5, scale: Sequence[float] = (0.02, 0.33),
                 ratio: Sequence[float] = (0.3, 3.3), value: float | Sequence[float] | str = 0.0
                 ) -> None:
        fn = "RandomErasing"
        self.p = _probability(p, fn)
        self.scale = finite_pair("scale", scale, fn)
        if not 0.0 <= self.scale[0] <= self.scale[1] <= 1.0:
            raise ValueError(f"RandomErasing: expected scale to be area fractions (lo, hi) with "
                             f"0 <= lo <= hi <= 1, got {self.scale}")
        self.ratio = _positive_pair("ratio", ratio, fn)
        if isinstance(value, str):
            if value != "random":
                raise ValueError(f"RandomErasing: value must be a number, a sequence or "
                                 f"'random', got {value!r}")
            self._fill = None
        else:
            self._fill = channel_vector("value", value, fn).reshape(1, -1, 1, 1)
        self.value = value

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, c, h, w = x.shape
        top, left, bh, bw, found = _sample_boxes(rng, n, h, w, self.scale, self.ratio)
        use = found & (rng.random(n) < self.p)
        rows = np.arange(h)[None, :]
        cols = np.arange(w)[None, :]
        in_r = (rows >= top[:, None]) & (rows < (top + bh)[:, None])  # (N, H)
        in_c = (cols >= left[:, None]) & (cols < (left + bw)[:, None])  # (N, W)
        mask = (in_r[:, :, None] & in_c[:, None, :] & use[:, None, None])[:, None]  # (N,1,H,W)
        if self._fill is None:
            fill = rng.random(x.shape, dtype=np.float32)
        else:
            fill = self._fill
            if fill.size not in (1, c):
                raise ValueError(f"RandomErasing: value has {fill.size} values, images have "
                                 f"{c} channels")
        return np.where(mask, fill, x).astype(x.dtype, copy=False)


# --------------------------------------------------------------------------------------------
# Colour
# --------------------------------------------------------------------------------------------
def _gray(x: np.ndarray) -> np.ndarray:
    """Luma (N, 1, H, W) of RGB or gray images."""
    if x.shape[1] == 3:
        return np.einsum("nchw,c->nhw", x, _GRAY)[:, None]
    return x.mean(axis=1, keepdims=True)


def _blend(img: np.ndarray, other: np.ndarray | float, factor: np.ndarray) -> np.ndarray:
    """``other + factor * (img - other)`` per sample, clipped to [0, 1] (PIL's ImageEnhance)."""
    f = factor.astype(np.float32).reshape(-1, 1, 1, 1)
    return np.clip(other + f * (img - other), 0.0, 1.0).astype(np.float32, copy=False)


def _wrap01(h: np.ndarray) -> np.ndarray:
    """``h mod 1`` for ``h`` in [-1, 2), in place, without the slow float remainder."""
    h -= np.floor(h)
    return h


def _rgb_to_hsv(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RGB (N, 3, H, W) in [0, 1] -> hue in [0, 1), saturation, value, each (N, H, W)."""
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    maxc = np.maximum(np.maximum(r, g), b)
    minc = np.minimum(np.minimum(r, g), b)
    delta = maxc - minc
    inv_delta = np.divide(np.float32(1.0), delta, out=np.zeros_like(delta), where=delta > 0)
    s = np.divide(delta, maxc, out=np.zeros_like(delta), where=maxc > 0)
    # Hue sector by the channel holding the max (red wins ties, then green), as colorsys.
    hue = np.where(maxc == r, (g - b) * inv_delta,
                   np.where(maxc == g, 2.0 + (b - r) * inv_delta, 4.0 + (r - g) * inv_delta))
    hue *= np.float32(1.0 / 6.0)
    return _wrap01(hue), s, maxc


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Branch-free HSV -> RGB: channel ``f(k) = v - v s clip(min(k', 4 - k'), 0, 1)`` with
    ``k' = (k + 6 h) mod 6`` and ``k = 5, 3, 1`` for R, G, B (``h`` in [0, 1))."""
    h6 = (h * 6.0).astype(np.float32)
    vs = (v * s).astype(np.float32)
    out = np.empty((h.shape[0], 3) + h.shape[1:], dtype=np.float32)
    kk = np.empty_like(h6)
    tmp = np.empty_like(h6)
    for ch, k in enumerate((5.0, 3.0, 1.0)):
        np.add(h6, np.float32(k), out=kk)
        kk -= np.float32(6.0) * (kk >= 6.0)  # (k + 6h) mod 6, as k + 6h < 12
        np.subtract(np.float32(4.0), kk, out=tmp)
        np.minimum(kk, tmp, out=tmp)
        np.clip(tmp, 0.0, 1.0, out=tmp)
        tmp *= vs
        np.subtract(v, tmp, out=out[:, ch])
    return out


class ColorJitter(Transform):
    """Random brightness, contrast, saturation and hue per sample (applied in that order).

    Args:
        brightness: ``b`` -> factor in ``[max(0, 1-b), 1+b]`` (or a ``(lo, hi)`` range).
        contrast: same, blending with the mean gray level of each image.
        saturation: same, blending with the gray image (RGB only).
        hue: shift in ``[-hue, hue]`` of the hue circle, ``0 <= hue <= 0.5`` (RGB only).
    """

    def __init__(self, brightness: float | Sequence[float] = 0.0,
                 contrast: float | Sequence[float] = 0.0,
                 saturation: float | Sequence[float] = 0.0, hue: float = 0.0) -> None:
        fn = "ColorJitter"
        self.brightness = _range(brightness, fn, "brightness", 1.0, 0.0)
        self.contrast = _range(contrast, fn, "contrast", 1.0, 0.0)
        self.saturation = _range(saturation, fn, "saturation", 1.0, 0.0)
        self.hue = finite("hue", hue, fn)
        if not 0.0 <= self.hue <= 0.5:
            raise ValueError(f"ColorJitter: hue must be in [0, 0.5], got {hue}")

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, c = x.shape[:2]
        if c != 3 and (self.saturation != (1.0, 1.0) or self.hue):
            raise ValueError(f"ColorJitter: saturation/hue need RGB images (3 channels), got "
                             f"{c} channels")
        out = x.astype(np.float32, copy=True)
        if out.size == 0:  # empty images: nothing to jitter (and no mean gray level)
            return out
        if self.brightness != (1.0, 1.0):
            out = _blend(out, 0.0, rng.uniform(*self.brightness, n))
        if self.contrast != (1.0, 1.0):
            mean = _gray(out).mean(axis=(1, 2, 3), keepdims=True)
            out = _blend(out, mean, rng.uniform(*self.contrast, n))
        if self.saturation != (1.0, 1.0):
            out = _blend(out, _gray(out), rng.uniform(*self.saturation, n))
        if self.hue:
            hh, ss, vv = _rgb_to_hsv(out)
            shift = rng.uniform(-self.hue, self.hue, n)[:, None, None]
            hh += shift.astype(np.float32)
            out = _hsv_to_rgb(_wrap01(hh), ss, vv)
        return out


# --------------------------------------------------------------------------------------------
# Sample mixing
# --------------------------------------------------------------------------------------------
class MixUp(Transform):
    """MixUp (Zhang et al. 2018): ``x = lam * x + (1 - lam) * x[perm]``, with the same mix of
    one-hot targets; ``lam ~ Beta(alpha, alpha)``, one per batch, ``perm`` a random
    permutation of the batch.

    Args:
        alpha: Beta parameter (> 0).
        num_classes: number of classes of the soft targets.

    Returns (when called with labels):
        ``(images, targets float32 (N, num_classes))``; rows of targets sum to 1.
    """

    def __init__(self, alpha: float = 0.2, num_classes: int = 10) -> None:
        fn = type(self).__name__
        self.alpha = finite("alpha", alpha, fn)
        if self.alpha <= 0:
            raise ValueError(f"{fn}: alpha must be > 0, got {alpha}")
        self.num_classes = integer("num_classes", num_classes, fn)
        if self.num_classes < 1:
            raise ValueError(f"{fn}: num_classes must be >= 1, got {num_classes}")
        self.last_lam: float | None = None

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise ValueError(f"{type(self).__name__} mixes labels too: call it with labels, "
                         "t(images, labels, rng=...)")

    def apply_with_targets(self, x: np.ndarray, y: np.ndarray,
                           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        t = _one_hot(y, self.num_classes, type(self).__name__)
        lam = float(rng.beta(self.alpha, self.alpha))
        perm = rng.permutation(x.shape[0])
        self.last_lam = lam
        lam32 = np.float32(lam)
        xm = (lam32 * x + (np.float32(1.0) - lam32) * x[perm]).astype(np.float32, copy=False)
        tm = (lam32 * t + (np.float32(1.0) - lam32) * t[perm]).astype(np.float32, copy=False)
        return xm, tm


class CutMix(MixUp):
    """CutMix (Yun et al. 2019): paste a box of ``x[perm]`` into ``x``; targets mix with the
    pasted area fraction. ``lam ~ Beta(alpha, alpha)`` sets the box area ``(1 - lam) H W``
    (clipped at the border); the target weight of ``x`` is ``1 - box_area / (H W)`` exactly.
    Images with no pixels (H or W = 0) have nothing to paste: they come back unchanged with
    their own one-hot targets (``last_lam`` 1).
    """

    def __init__(self, alpha: float = 1.0, num_classes: int = 10) -> None:
        super().__init__(alpha, num_classes)
        self.last_box: tuple[int, int, int, int] | None = None

    def apply_with_targets(self, x: np.ndarray, y: np.ndarray,
                           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        n, _, h, w = x.shape
        t = _one_hot(y, self.num_classes, type(self).__name__)
        if h == 0 or w == 0:
            self.last_lam, self.last_box = 1.0, (0, 0, 0, 0)
            return x.astype(np.float32, copy=True), t
        lam = float(rng.beta(self.alpha, self.alpha))
        perm = rng.permutation(n)
        cut = math.sqrt(1.0 - lam)
        ch, cw = int(h * cut), int(w * cut)
        cy, cx = int(rng.integers(0, h)), int(rng.integers(0, w))
        y0, y1 = max(cy - ch // 2, 0), min(cy + ch // 2, h)
        x0, x1 = max(cx - cw // 2, 0), min(cx + cw // 2, w)
        out = x.astype(np.float32, copy=True)
        out[:, :, y0:y1, x0:x1] = x[perm, :, y0:y1, x0:x1]
        lam_adj = 1.0 - (y1 - y0) * (x1 - x0) / float(h * w)
        self.last_lam = lam_adj
        self.last_box = (y0, y1, x0, x1)
        la = np.float32(lam_adj)
        tm = (la * t + (np.float32(1.0) - la) * t[perm]).astype(np.float32, copy=False)
        return out, tm


# --------------------------------------------------------------------------------------------
# TrivialAugment
# --------------------------------------------------------------------------------------------
def _sharpen_degenerate(x: np.ndarray) -> np.ndarray:
    """PIL's SMOOTH filter (3x3 kernel [[1,1,1],[1,5,1],[1,1,1]] / 13) on the interior,
    border pixels unchanged."""
    out = x.copy()
    if x.shape[2] < 3 or x.shape[3] < 3:
        return out
    acc = 5.0 * x[:, :, 1:-1, 1:-1]
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if dy == 1 and dx == 1:
                continue
            acc = acc + x[:, :, dy:dy + x.shape[2] - 2, dx:dx + x.shape[3] - 2]
    out[:, :, 1:-1, 1:-1] = acc / 13.0
    return out


def _equalize(x: np.ndarray) -> np.ndarray:
    """Per-image, per-channel histogram equalisation (PIL's ImageOps.equalize), vectorised
    with one ``bincount`` over (image, channel, level) keys."""
    n, c, h, w = x.shape
    q = np.clip(np.rint(x * 255.0), 0, 255).astype(np.int64).reshape(n * c, h * w)
    rows = n * c
    keys = q + (np.arange(rows, dtype=np.int64) * 256)[:, None]
    hist = np.bincount(keys.ravel(), minlength=rows * 256).reshape(rows, 256)
    last = 255 - np.argmax(hist[:, ::-1] > 0, axis=1)
    step = (hist.sum(axis=1) - hist[np.arange(rows), last]) // 255
    cum = np.cumsum(hist, axis=1) - hist
    safe = np.where(step > 0, step, 1)[:, None]
    lut = np.minimum((cum + (step // 2)[:, None]) // safe, 255)
    lut = np.where((step > 0)[:, None], lut, np.arange(256)[None, :])
    out = np.take_along_axis(lut, q, axis=1)
    return (out.astype(np.float32) / 255.0).reshape(n, c, h, w)


def _linspace_at(lo: float, hi: float, k: int, i: np.ndarray) -> np.ndarray:
    """``np.linspace(lo, hi, k)[i]`` (same arithmetic, same values) without the ``k`` values:
    ``i * step + lo``, and exactly ``hi`` at ``i == k - 1``."""
    out = i * ((hi - lo) / (k - 1)) + lo
    out[i == k - 1] = hi
    return out


class TrivialAugmentWide(Transform):
    """TrivialAugment (Müller & Hutter 2021), "wide" magnitudes: each sample gets ONE op,
    chosen uniformly, with a magnitude drawn uniformly from ``num_magnitude_bins`` bins.

    Ops: identity, shear x/y (up to 0.99), translate x/y (up to the image size), rotate (up to
    135 degrees), brightness, color (saturation), contrast, sharpness (factor 1 +/- up to
    0.99), posterize (8..2 bits), solarize (threshold 1..0), autocontrast, equalize. Signed
    magnitudes get a random sign. The batch is split by op and each group is transformed in
    one vectorised call; all geometric ops share one bilinear warp. ``ops`` restricts the
    op set (default: all of :attr:`OPS`).
    """

    OPS = ("identity", "shear_x", "shear_y", "translate_x", "translate_y", "rotate",
           "brightness", "color", "contrast", "sharpness", "posterize", "solarize",
           "autocontrast", "equalize")

    def __init__(self, num_magnitude_bins: int = 31, fill: float = 0.0,
                 ops: Sequence[str] | None = None) -> None:
        fn = "TrivialAugmentWide"
        self.num_magnitude_bins = integer("num_magnitude_bins", num_magnitude_bins, fn)
        if self.num_magnitude_bins < 2:
            raise ValueError(f"TrivialAugmentWide: num_magnitude_bins must be >= 2, got "
                             f"{num_magnitude_bins}")
        self.fill = finite("fill", fill, fn)
        if isinstance(ops, str):
            raise TypeError(f"TrivialAugmentWide: expected ops to be a sequence of op names, "
                            f"got {ops!r}")
        ops = self.OPS if ops is None else tuple(ops)
        unknown = [o for o in ops if o not in self.OPS]
        if unknown or not ops:
            raise ValueError(f"TrivialAugmentWide: unknown ops {unknown} (known: {self.OPS})"
                             if unknown else "TrivialAugmentWide: ops must not be empty")
        self.ops = ops
        self._op_ids = np.array([self.OPS.index(o) for o in ops], dtype=np.int64)

    def _magnitudes(self, op: str, bins: np.ndarray, h: int, w: int) -> np.ndarray:
        """Magnitude of bin ``bins`` of ``op``: ``np.linspace(lo, hi, k)[bins]`` computed for
        the drawn bins only (the same values, without the ``k``-element table)."""
        k = self.num_magnitude_bins
        if op in ("shear_x", "shear_y", "brightness", "color", "contrast", "sharpness"):
            return _linspace_at(0.0, 0.99, k, bins)
        if op == "translate_x":
            return _linspace_at(0.0, float(w), k, bins)
        if op == "translate_y":
            return _linspace_at(0.0, float(h), k, bins)
        if op == "rotate":
            return _linspace_at(0.0, 135.0, k, bins)
        if op == "posterize":
            return (8 - np.round(bins / ((k - 1) / 6))).astype(np.int64)
        if op == "solarize":
            return _linspace_at(1.0, 0.0, k, bins)
        return np.zeros(bins.shape)

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, c, h, w = x.shape
        op_idx = self._op_ids[rng.integers(0, self._op_ids.size, n)]
        bins = rng.integers(0, self.num_magnitude_bins, n)
        sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
        out = x.astype(np.float32, copy=True)
        if out.size == 0:  # empty images: every op is the identity
            return out
        # Geometric ops: one warp for every sample that drew one.
        geo = (op_idx >= 1) & (op_idx <= 5)
        if geo.any():
            gi = np.flatnonzero(geo)
            ops = op_idx[gi]
            m = np.zeros(gi.size)  # signed magnitude of each sample's op
            for k in range(1, 6):
                sel = ops == k
                if sel.any():
                    m[sel] = self._magnitudes(self.OPS[k], bins[gi][sel], h, w) * sign[gi][sel]
            # Shear magnitudes are tangents (torchvision's convention), converted to degrees.
            shx = np.where(ops == 1, np.rad2deg(np.arctan(m)), 0.0)
            shy = np.where(ops == 2, np.rad2deg(np.arctan(m)), 0.0)
            tx = np.where(ops == 3, np.round(m), 0.0)
            ty = np.where(ops == 4, np.round(m), 0.0)
            angle = np.where(ops == 5, m, 0.0)
            inv = _inverse_affine(angle, tx, ty, np.ones(gi.size), shx, shy)
            out[gi] = _affine_sample(x[gi], inv, self.fill, "TrivialAugmentWide")
        for k in range(6, len(self.OPS)):
            gi = np.flatnonzero(op_idx == k)
            if gi.size == 0:
                continue
            op = self.OPS[k]
            xs = out[gi]
            mag = self._magnitudes(op, bins[gi], h, w)
            if op in ("brightness", "color", "contrast", "sharpness"):
                factor = 1.0 + mag * sign[gi]
                if op == "brightness":
                    out[gi] = _blend(xs, 0.0, factor)
                elif op == "color":
                    if c == 3:
                        out[gi] = _blend(xs, _gray(xs), factor)
                elif op == "contrast":
                    out[gi] = _blend(xs, _gray(xs).mean(axis=(1, 2, 3), keepdims=True), factor)
                else:
                    out[gi] = _blend(xs, _sharpen_degenerate(xs), factor)
            elif op == "posterize":
                shift = (8 - mag).astype(np.uint8).reshape(-1, 1, 1, 1)
                q = np.clip(np.rint(xs * 255.0), 0, 255).astype(np.uint8)
                out[gi] = ((q >> shift) << shift).astype(np.float32) / 255.0
            elif op == "solarize":
                thr = mag.astype(np.float32).reshape(-1, 1, 1, 1)
                out[gi] = np.where(xs >= thr, 1.0 - xs, xs)
            elif op == "autocontrast":
                lo = xs.min(axis=(2, 3), keepdims=True)
                hi = xs.max(axis=(2, 3), keepdims=True)
                rng_ = hi - lo
                out[gi] = np.where(rng_ > 0, (xs - lo) / np.where(rng_ > 0, rng_, 1.0), xs)
            elif op == "equalize":
                out[gi] = _equalize(xs)
        return out


# --------------------------------------------------------------------------------------------
# Presets
# --------------------------------------------------------------------------------------------
PRESETS = ("none", "light", "standard", "strong")


def augmentation_preset(name: str, image_shape: Sequence[int], *,
                        hflip: bool | None = None) -> Compose:
    """A ready-made augmentation pipeline.

    Args:
        name: "none" (identity), "light" (a random crop with one pixel of zero padding,
            plus the horizontal flip when ``hflip``), "standard" (random crop with ``H // 8`` pixels of zero
            padding, e.g. 4 for 32x32 and 3 for 28x28, plus a horizontal flip when ``hflip``),
            "strong" (standard + :class:`TrivialAugmentWide` + :class:`RandomErasing` with
            p=0.25).
        image_shape: ``(C, H, W)`` of the images.
        hflip: use horizontal flips; None means True for RGB and False for grayscale (digits
            and characters must not be mirrored). Pass ``dataset.hflip_safe`` (True for
            Fashion-MNIST and CIFAR).

    Returns:
        A :class:`Compose` to pass as ``DataLoader(transform=...)``.

    Raises:
        ValueError: unknown name or bad shape.
    """
    if name not in PRESETS:
        raise ValueError(f"augmentation_preset: unknown preset {name!r}; known: {PRESETS}")
    if len(image_shape) != 3 or min(image_shape) <= 0:
        raise ValueError(f"augmentation_preset: image_shape must be (C, H, W), got "
                         f"{tuple(image_shape)}")
    c, h, w = (int(s) for s in image_shape)
    if hflip is None:
        hflip = c == 3
    if name == "none":
        return Compose([])
    pad = 1 if name == "light" else max(1, h // 8)
    ops: list[Transform] = [RandomCrop((h, w), padding=pad)]
    if hflip:
        ops.append(RandomHorizontalFlip())
    if name == "strong":
        ops += [TrivialAugmentWide(), RandomErasing(p=0.25)]
    return Compose(ops)


__all__ = [
    "CutMix", "ColorJitter", "Compose", "MixUp", "Normalize", "PRESETS", "RandomAffine",
    "RandomChoice", "RandomCrop", "RandomErasing", "RandomHorizontalFlip", "RandomResizedCrop",
    "RandomVerticalFlip", "ToFloat", "Transform", "TrivialAugmentWide", "augmentation_preset",
]
