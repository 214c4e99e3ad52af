r"""Low-precision arithmetic for training, emulated with numpy: rounding, loss scaling, master weights.

A binary floating-point format with :math:`m` stored mantissa bits and exponents
:math:`e_{\min} \le e \le e_{\max}` holds the numbers :math:`\pm (1.f)_2 \cdot 2^{e}` (normal) and
:math:`\pm (0.f)_2 \cdot 2^{e_{\min}}` (subnormal), with :math:`f` an :math:`m`-bit fraction
(IEEE 754-2008). Hence

* largest finite value :math:`(2 - 2^{-m})\, 2^{e_{\max}}`, smallest normal :math:`2^{e_{\min}}`,
  smallest subnormal :math:`2^{e_{\min} - m}`;
* machine epsilon :math:`\varepsilon = 2^{-m}`, the gap from 1 to the next number, and unit roundoff
  :math:`u = \varepsilon/2`: rounding to nearest gives :math:`\mathrm{fl}(x) = x(1 + \delta)`,
  :math:`|\delta| \le u`, for every :math:`x` in the normal range (Higham 2002, Theorem 2.2);
* the spacing (ulp) of the numbers in :math:`[2^e, 2^{e+1})` is :math:`2^{e - m}`, so an update
  :math:`w \leftarrow w - \Delta` with :math:`|\Delta|` below half the spacing at :math:`w` leaves
  :math:`w` unchanged (*stagnation*).

========  ====  ========  ========  =============================  =================  ===================
format    bits  exponent  mantissa  largest finite                 smallest normal    :math:`\varepsilon`
========  ====  ========  ========  =============================  =================  ===================
float16   16    5         10        65504                          :math:`2^{-14}`    :math:`2^{-10}`
bfloat16  16    8         7         :math:`(2-2^{-7})\,2^{127}`    :math:`2^{-126}`   :math:`2^{-7}`
float32   32    8         23        :math:`(2-2^{-23})\,2^{127}`   :math:`2^{-126}`   :math:`2^{-23}`
float64   64    11        52        :math:`(2-2^{-52})\,2^{1023}`  :math:`2^{-1022}`  :math:`2^{-52}`
========  ====  ========  ========  =============================  =================  ===================

bfloat16 is the upper half of a float32: the same 8 exponent bits, so the same range, with 7 of its
23 mantissa bits (Kalamkar et al. 2019). numpy has no bfloat16 type, so :func:`round_to` rounds the
float32 bit pattern to its upper 16 bits and returns the result held in a float32 (every bfloat16
and float16 value is exact in float32, so a chapter can compute on it).

Mixed-precision training (Micikevicius et al. 2018) runs the forward and backward passes in float16
and keeps three safeguards, each emulated here:

* *loss scaling*: a gradient entry of magnitude at most :math:`2^{-25}`, half the smallest float16
  subnormal :math:`2^{-24} \approx 6 \cdot 10^{-8}`, rounds to 0, and one below the smallest normal
  :math:`2^{-14}` keeps fewer than 11 significant bits. Multiplying the loss by :math:`S` multiplies every gradient by :math:`S` (the chain
  rule is linear in :math:`\partial L/\partial a^{(L)}`), lifting them into range; the update uses
  the gradients divided by :math:`S` again, in float32 (:func:`scale_and_check`,
  :func:`underflow_fraction`, :func:`overflow_fraction`). Too large an :math:`S` overflows to inf;
  *dynamic* loss scaling (:class:`DynamicLossScale`) skips such a step, halves :math:`S`, and doubles
  it again after a run of finite steps, the policy of PyTorch's ``GradScaler`` and NVIDIA's Apex;
* *float32 master weights* (:func:`master_weights_step`): the update is added to a float32 copy of
  the weights, so small updates accumulate instead of stagnating as they do when the weights
  themselves are held in float16 (:func:`lowp_step`);
* float32 accumulation of sums (not modelled here).

Stable formulas: :func:`logsumexp` shifts by the maximum,
:math:`\log\sum_k e^{x_k} = m + \log\sum_k e^{x_k - m}`, :math:`m = \max_k x_k`, so no exponential
exceeds 1; the textbook :func:`naive_logsumexp` overflows once some :math:`e^{x_k}` exceeds the
largest finite value: in float16 a single entry overflows from :math:`x = 11.09375`, the first
float16 above :math:`\ln 65520 \approx 11.090` (65520 = 65504 + half an ulp), and with :math:`n` equal
entries from about :math:`\ln(65520/n)`, so the naive float16 result never exceeds about 11.09. (The stable sigmoid is
:func:`gradlab.activations.sigmoid`; the stable cross-entropy, :func:`gradlab.losses.softmax_cross_entropy`.)

Sources: IEEE Standard for Floating-Point Arithmetic, IEEE Std 754-2008; N. J. Higham, *Accuracy
and Stability of Numerical Algorithms*, 2nd ed., SIAM, 2002 (unit roundoff, §2.1-2.2);
P. Micikevicius et al., "Mixed Precision Training", ICLR 2018; D. Kalamkar et al., "A Study of
BFLOAT16 for Deep Learning Training", arXiv:1905.12322, 2019.

Examples
--------
>>> import numpy as np
>>> from gradlab import precision
>>> precision.info("bfloat16").max == (2 - 2**-7) * 2.0**127
True
>>> float(precision.round_to(1 + 2**-8, "bfloat16"))  # halfway between 1 and 1 + 2**-7: ties to even
1.0
>>> float(precision.round_to(70000.0, "float16"))     # past 65504: overflow
inf
>>> g = np.array([1e-8, 1e-3])                        # 1e-8 is below half of 2**-24
>>> precision.underflow_fraction(g, "float16"), precision.underflow_fraction(g, "float16", scale=2.0**10)
(0.5, 0.0)
>>> float(precision.lowp_step(1.0, -2.0**-12, 1.0, "float16"))  # 1 + 2**-12 rounds back to 1
1.0
>>> master, model = precision.master_weights_step(1.0, -2.0**-12, 1.0, "float16")
>>> float(master), float(model)                       # the float32 master copy moved
(1.000244140625, 1.0)
>>> x = np.array([10.0, 12.0], dtype=np.float16)
>>> with np.errstate(over="ignore"):
...     naive = precision.naive_logsumexp(x)
>>> float(naive), float(precision.logsumexp(x)), precision.logsumexp(x).dtype
(inf, 12.125, dtype('float16'))
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import as_array, check_nonnegative, check_positive, check_positive_int, check_real

__all__ = [
    "FORMATS",
    "FormatInfo",
    "info",
    "round_to",
    "ulp",
    "underflow_fraction",
    "overflow_fraction",
    "DynamicLossScale",
    "static_loss_scale",
    "scale_and_check",
    "master_weights_step",
    "lowp_step",
    "logsumexp",
    "naive_logsumexp",
]

#: The formats every function here accepts as ``fmt``, narrowest first.
FORMATS: tuple[str, ...] = ("float16", "bfloat16", "float32", "float64")



@dataclass(frozen=True)
class FormatInfo:
    r"""The parameters and limits of one floating-point format.

    Attributes
    ----------
    name : str
        One of :data:`FORMATS`.
    bits : int
        Total width: 1 sign bit + ``exponent_bits`` + ``mantissa_bits``.
    exponent_bits : int
        Width of the biased exponent field.
    mantissa_bits : int
        Stored fraction bits :math:`m`, without the implicit leading 1 (precision :math:`p = m + 1`).
    max : float
        Largest finite value, :math:`(2 - 2^{-m})\, 2^{e_{\max}}`.
    smallest_normal : float
        :math:`2^{e_{\min}}`.
    smallest_subnormal : float
        :math:`2^{e_{\min} - m}`, the smallest positive value.
    eps : float
        Machine epsilon :math:`2^{-m}`, the gap from 1 to the next larger number.
    unit_roundoff : float
        :math:`u = \varepsilon/2`, the largest relative error of rounding to nearest in the normal range.
    """

    name: str
    bits: int
    exponent_bits: int
    mantissa_bits: int
    max: float
    smallest_normal: float
    smallest_subnormal: float
    eps: float
    unit_roundoff: float


def _check_fmt(fmt: Any) -> str:
    if not isinstance(fmt, str):
        raise TypeError(f"fmt must be a format name (str), one of {', '.join(map(repr, FORMATS))}, got {type(fmt).__name__}")
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(map(repr, FORMATS))}, got {fmt!r}")
    return fmt


def _bfloat16_from_bits(bits: int) -> float:
    """The value of the 16-bit bfloat16 pattern ``bits``: it is the upper half of a float32."""
    word = np.array([bits], dtype=np.uint16).astype(np.uint32) << np.uint32(16)
    return float(word.view(np.float32)[0])


def _make_info(name: str) -> FormatInfo:
    if name == "bfloat16":
        # Decoded from the bit patterns themselves, not from closed forms, so the tests that
        # compare with the closed forms check the encoding: 0x7F7F = exponent 254, fraction all
        # ones (the largest finite); 0x0080 = exponent 1, fraction 0 (smallest normal);
        # 0x0001 = exponent 0, last fraction bit (smallest subnormal).
        eps = _bfloat16_from_bits(0x3F81) - 1.0  # the next number after 1.0 (0x3F80) minus 1
        return FormatInfo(
            name="bfloat16", bits=16, exponent_bits=8, mantissa_bits=7,
            max=_bfloat16_from_bits(0x7F7F), smallest_normal=_bfloat16_from_bits(0x0080),
            smallest_subnormal=_bfloat16_from_bits(0x0001), eps=eps, unit_roundoff=eps / 2,
        )
    fi = np.finfo(np.dtype(name))
    return FormatInfo(
        name=name, bits=int(fi.bits), exponent_bits=int(fi.nexp), mantissa_bits=int(fi.nmant),
        max=float(fi.max), smallest_normal=float(fi.smallest_normal),
        smallest_subnormal=float(fi.smallest_subnormal), eps=float(fi.eps), unit_roundoff=float(fi.eps) / 2,
    )


_INFO: dict[str, FormatInfo] = {name: _make_info(name) for name in FORMATS}


def info(fmt: str) -> FormatInfo:
    r"""The limits of format ``fmt``: largest finite, smallest normal and subnormal, :math:`\varepsilon`, :math:`u`.

    float16, float32 and float64 come from :class:`numpy.finfo`; bfloat16, which numpy lacks,
    from its bit patterns (1 sign, 8 exponent, 7 mantissa bits) decoded as the upper half of a
    float32: 0x7F7F is the largest finite value :math:`(2 - 2^{-7})\,2^{127}`, 0x0080 the smallest
    normal :math:`2^{-126}`, 0x0001 the smallest subnormal :math:`2^{-133}`.

    Parameters
    ----------
    fmt : str
        One of :data:`FORMATS`.

    Returns
    -------
    FormatInfo
    """
    return _INFO[_check_fmt(fmt)]


def _round_bfloat16(x32: NDArray[np.float32]) -> NDArray[np.float32]:
    """Round float32 values to the nearest bfloat16 (ties to even), on their bit patterns."""
    u = x32.view(np.uint32)  # x32 is a fresh C-ordered copy (from _round), so the view is valid
    # Adding 0x7FFF plus the lowest kept bit, then clearing the low 16 bits, rounds the discarded
    # half to nearest with ties to even; a carry ripples into the exponent, so 0x7F7FFFFF-ish
    # values overflow to the infinity pattern 0x7F800000, and subnormals round like any value.
    lsb = (u >> np.uint32(16)) & np.uint32(1)
    rounded = (u + np.uint32(0x7FFF) + lsb) & np.uint32(0xFFFF0000)
    # A NaN whose payload sits only in the low 16 bits (e.g. 0x7F800001) would round to inf, and
    # 0xFFFFxxxx would wrap around: keep its sign and upper bits and set the quiet bit instead.
    nan = np.isnan(x32)
    if np.any(nan):
        rounded = np.where(nan, (u & np.uint32(0xFFFF0000)) | np.uint32(0x00400000), rounded)
    return rounded.astype(np.uint32).view(np.float32)


def _round(arr: NDArray[Any], fmt: str) -> NDArray[Any]:
    """round_to without the argument checks (``arr`` is already a floating array)."""
    if fmt == "float64":
        return np.array(arr, dtype=np.float64, copy=True)
    # Overflow to +-inf and underflow to a subnormal or 0 are the intended results of rounding a
    # too-large or too-small value, not accidents.
    with np.errstate(over="ignore", under="ignore"):
        x32 = np.array(arr, dtype=np.float32, copy=True)
        if fmt == "float32":
            return x32
        if fmt == "float16":
            return x32.astype(np.float16).astype(np.float32)
    return _round_bfloat16(x32)


def round_to(x: ArrayLike, fmt: str) -> NDArray[Any]:
    r"""The nearest value of format ``fmt`` to each entry of ``x`` (round to nearest, ties to even).

    Overflow gives :math:`\pm\infty` (every value at or beyond :math:`\max + \mathrm{ulp}/2` in
    magnitude), NaN stays NaN, signed zeros are kept, and subnormals are kept, not flushed to 0.
    float16 uses numpy's float16 cast; bfloat16 rounds the float32 bit pattern to its upper
    16 bits (a NaN is handled apart so that it never rounds to inf).

    Double rounding: an input of higher precision than float32 (float64) is first rounded to
    float32, as frameworks do when they cast a float64 array to a 16-bit type. At a tie this can
    differ from rounding the float64 value directly: :math:`1 + 2^{-8} + 2^{-30}` lies above the
    bfloat16 midpoint :math:`1 + 2^{-8}`, so it should round up to :math:`1 + 2^{-7}`, but float32
    rounds it to the midpoint itself, which then ties to even: ``round_to`` gives 1.

    Parameters
    ----------
    x : array_like
        Real numbers of any shape; integers and booleans are taken as float64.
    fmt : str
        One of :data:`FORMATS`.

    Returns
    -------
    numpy.ndarray
        Same shape as ``x`` (0-d for a scalar); float32 for ``"float16"``, ``"bfloat16"`` and
        ``"float32"`` (the values are exact there), float64 for ``"float64"``.
    """
    fmt = _check_fmt(fmt)
    return _round(as_array(x, "x"), fmt)


def _emin_emax(fi: FormatInfo) -> tuple[int, int]:
    emin = int(np.log2(fi.smallest_normal))
    emax = int(np.floor(np.log2(fi.max)))
    return emin, emax


def ulp(x: ArrayLike, fmt: str) -> NDArray[np.float64]:
    r"""The spacing of format ``fmt`` at :math:`|x|`: the unit in the last place.

    For :math:`2^e \le |x| < 2^{e+1}` it is :math:`2^{\max(e, e_{\min}) - m}`, the distance from
    a number of that binade to the next larger one; in the subnormal range and at 0 it is the
    smallest subnormal :math:`2^{e_{\min} - m}`. At the largest finite value it is the spacing of
    the top binade, :math:`2^{e_{\max} - m}` (65504 → 32 in float16), and for
    :math:`|x| \ge 2^{e_{\max}+1}`, beyond every finite number of the format, it is inf.
    ``x`` need not be representable in ``fmt``; it is used as given (float64).

    Parameters
    ----------
    x : array_like
        Real numbers, any shape.
    fmt : str
        One of :data:`FORMATS`.

    Returns
    -------
    numpy.ndarray
        float64, same shape as ``x``; NaN where ``x`` is inf or NaN.
    """
    fi = info(fmt)
    a = np.abs(np.asarray(as_array(x, "x"), dtype=np.float64))
    emin, emax = _emin_emax(fi)
    _, e = np.frexp(a)  # a = f * 2**e with f in [0.5, 1): floor(log2 a) = e - 1
    e = np.where(a == 0, emin, e.astype(np.int64) - 1)  # 0 lies in the subnormal range
    out = np.ldexp(1.0, np.maximum(e, emin) - fi.mantissa_bits)
    if emax + 1 < 1024:  # float64's 2**1024 is beyond every finite float64 input anyway
        out = np.where(a >= 2.0 ** (emax + 1), np.inf, out)
    return np.where(np.isfinite(a), out, np.nan)


def underflow_fraction(x: ArrayLike, fmt: str, *, scale: float = 1.0) -> float:
    r"""Fraction of the nonzero entries of ``x`` that become 0 when ``scale * x`` is rounded to ``fmt``.

    In float16 (round to nearest) that is every :math:`|\text{scale}\cdot x| \le 2^{-25}`, half the
    smallest subnormal. ``scale * x`` is formed in float64, then rounded as by :func:`round_to`.
    0.0 when ``x`` has no nonzero entry (nothing can underflow).

    Parameters
    ----------
    x : array_like
        Values (e.g. gradients) of any shape and floating dtype.
    fmt : str
        One of :data:`FORMATS`.
    scale : float, keyword-only
        The loss scale :math:`S > 0`, finite.

    Returns
    -------
    float
        In [0, 1].
    """
    fmt = _check_fmt(fmt)
    s = check_positive(scale, "scale")
    arr = as_array(x, "x")
    nonzero = arr != 0  # NaN counts as nonzero and never becomes 0
    n = int(np.count_nonzero(nonzero))
    if n == 0:
        return 0.0
    with np.errstate(over="ignore"):  # a huge scale may overflow: that is not underflow
        r = _round(arr.astype(np.float64) * s, fmt)
    return int(np.count_nonzero(nonzero & (r == 0))) / n


def overflow_fraction(x: ArrayLike, fmt: str, *, scale: float = 1.0) -> float:
    r"""Fraction of the finite entries of ``x`` that become :math:`\pm\infty` when ``scale * x`` is rounded to ``fmt``.

    That is every :math:`|\text{scale}\cdot x| \ge \max + \mathrm{ulp}(\max)/2` (65520 in float16).
    0.0 when ``x`` has no finite entry.

    Parameters
    ----------
    x : array_like
        Values of any shape and floating dtype.
    fmt : str
        One of :data:`FORMATS`.
    scale : float, keyword-only
        The loss scale :math:`S > 0`, finite.

    Returns
    -------
    float
        In [0, 1].
    """
    fmt = _check_fmt(fmt)
    s = check_positive(scale, "scale")
    arr = as_array(x, "x")
    finite = np.isfinite(arr)
    n = int(np.count_nonzero(finite))
    if n == 0:
        return 0.0
    with np.errstate(over="ignore"):  # overflow is what is being counted
        r = _round(arr.astype(np.float64) * s, fmt)
    return int(np.count_nonzero(finite & np.isinf(r))) / n


def _check_real_number(value: Any, name: str) -> float:
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number, got bool")
    return check_real(value, name)


@dataclass
class DynamicLossScale:
    r"""Dynamic loss scaling: skip a step whose gradients overflowed and back off; grow after a run of good steps.

    The loss is multiplied by ``scale`` before the backward pass (:func:`scale_and_check`). After
    each step, :meth:`update` is told whether all gradients were finite:

    * not finite: the step is skipped, ``scale`` is multiplied by ``backoff_factor`` (but never
      goes below ``min_scale``) and ``good_steps`` restarts at 0;
    * finite: the step is applied and ``good_steps`` grows by 1; when it reaches
      ``growth_interval``, ``scale`` is multiplied by ``growth_factor`` and ``good_steps`` restarts.

    This is the policy of PyTorch's ``torch.amp.GradScaler`` (the same growth factor, back-off
    factor and interval; GradScaler starts at :math:`2^{16}`) and of NVIDIA Apex's dynamic loss
    scaler, after Micikevicius et al. (2018). ``min_scale`` is Apex's
    ``min_loss_scale``; GradScaler has none, so its scale can fall below 1, where scaling
    *shrinks* gradients: the default 1.0 stops that. A static scale is
    ``DynamicLossScale(scale=s, growth_interval=<huge>, backoff_factor=1.0)``, built by
    :func:`static_loss_scale`.

    Attributes
    ----------
    scale : float
        Current loss scale :math:`S > 0`; default :math:`2^{15}`.
    growth_factor : float
        > 1; default 2.
    backoff_factor : float
        In (0, 1]; default 0.5.
    growth_interval : int
        >= 1; default 2000 finite steps.
    min_scale : float
        Floor for ``scale`` on back-off, > 0 and <= ``scale``; default 1.
    good_steps : int
        Finite steps since the last overflow or growth, >= 0.
    """

    scale: float = 2.0**15
    growth_factor: float = 2.0
    backoff_factor: float = 0.5
    growth_interval: int = 2000
    min_scale: float = 1.0
    good_steps: int = 0

    def __post_init__(self) -> None:
        for name in ("scale", "growth_factor", "backoff_factor", "min_scale"):
            _check_real_number(getattr(self, name), name)
        self.scale = check_positive(self.scale, "scale")
        self.min_scale = check_positive(self.min_scale, "min_scale")
        if self.min_scale > self.scale:
            raise ValueError(f"min_scale must be <= scale, got min_scale={self.min_scale} and scale={self.scale}")
        self.growth_factor = check_real(self.growth_factor, "growth_factor")
        if self.growth_factor <= 1:
            raise ValueError(f"growth_factor must be > 1, got {self.growth_factor}")
        self.backoff_factor = check_real(self.backoff_factor, "backoff_factor")
        if not 0 < self.backoff_factor <= 1:
            raise ValueError(f"backoff_factor must lie in (0, 1], got {self.backoff_factor}")
        self.growth_interval = check_positive_int(self.growth_interval, "growth_interval")
        self.good_steps = check_positive_int(self.good_steps, "good_steps", minimum=0)

    def update(self, finite: bool) -> bool:
        """Record one step's overflow check; return whether its update should be applied.

        Parameters
        ----------
        finite : bool
            Whether every gradient of the step was finite (the second output of :func:`scale_and_check`).

        Returns
        -------
        bool
            ``finite``: True to apply the step, False to skip it.
        """
        if not isinstance(finite, (bool, np.bool_)):
            raise TypeError(f"finite must be a bool, got {type(finite).__name__}")
        if not finite:
            self.scale = max(self.scale * self.backoff_factor, self.min_scale)
            self.good_steps = 0
            return False
        self.good_steps += 1
        if self.good_steps >= self.growth_interval:
            self.scale *= self.growth_factor
            self.good_steps = 0
        return True


def static_loss_scale(scale: float) -> DynamicLossScale:
    """A loss scale fixed at ``scale``: it never grows (``growth_interval`` = ``sys.maxsize``) nor backs off.

    :meth:`DynamicLossScale.update` still reports non-finite steps as to be skipped, as a fixed-scale
    ``GradScaler`` does; a scaler that did not check would apply them and turn the weights to inf/NaN.
    """
    s = check_positive(_check_real_number(scale, "scale"), "scale")
    return DynamicLossScale(scale=s, growth_interval=sys.maxsize, backoff_factor=1.0, min_scale=s)


def _grad_items(grads: Any) -> tuple[list[tuple[Any, str, NDArray[Any]]], str]:
    if isinstance(grads, Mapping):
        kind = "dict"
        pairs = [(k, f"grads[{k!r}]", v) for k, v in grads.items()]
    elif isinstance(grads, (list, tuple)):
        kind = type(grads).__name__
        pairs = [(i, f"grads[{i}]", v) for i, v in enumerate(grads)]
    else:
        raise TypeError(
            f"grads must be a list, tuple or dict of arrays (wrap a single array in a list), got {type(grads).__name__}"
        )
    if not pairs:
        raise ValueError("grads must hold at least one array, got an empty " + kind)
    return [(k, name, as_array(v, name)) for k, name, v in pairs], kind


def scale_and_check(grads: Any, scale: float, fmt: str) -> tuple[Any, bool]:
    r"""The gradients as a low-precision backward pass with loss scale :math:`S` holds them, unscaled.

    Each :math:`S\,g` is rounded to ``fmt`` (as :func:`round_to`); the result is divided by
    :math:`S` in float64 and rounded once to float32, the precision of the master gradients (for a
    power-of-two :math:`S` the division is exact). Entries that underflowed are 0, entries that
    overflowed :math:`\pm\infty`.

    Parameters
    ----------
    grads : list, tuple or dict of array_like
        One gradient array per parameter, e.g. ``grads.dW`` of :func:`gradlab.mlp.backward`.
    scale : float
        The loss scale :math:`S > 0`, finite.
    fmt : str
        One of :data:`FORMATS`.

    Returns
    -------
    unscaled : list, tuple or dict of numpy.ndarray
        Same kind, keys and shapes as ``grads``; float32 (float64 when ``fmt`` is ``"float64"``).
    all_finite : bool
        Whether every rounded :math:`S\,g` was finite; pass it to :meth:`DynamicLossScale.update`.
    """
    fmt = _check_fmt(fmt)
    s = check_positive(_check_real_number(scale, "scale"), "scale")
    items, kind = _grad_items(grads)
    out_dtype = np.float64 if fmt == "float64" else np.float32
    all_finite = True
    unscaled: list[tuple[Any, NDArray[Any]]] = []
    for key, _, g in items:
        # Overflow of S*g is the event being detected; it must give inf, silently.
        with np.errstate(over="ignore"):
            r = _round(g.astype(np.float64) * s, fmt)
            all_finite = all_finite and bool(np.all(np.isfinite(r)))
            unscaled.append((key, (r.astype(np.float64) / s).astype(out_dtype)))
    if kind == "dict":
        return {k: v for k, v in unscaled}, all_finite
    values = [v for _, v in unscaled]
    return (tuple(values) if kind == "tuple" else values), all_finite


def _pair(a: ArrayLike, b: ArrayLike, name_a: str, name_b: str) -> tuple[NDArray[Any], NDArray[Any]]:
    x, y = as_array(a, name_a), as_array(b, name_b)
    if x.shape != y.shape:
        raise ValueError(f"{name_b} has shape {y.shape} but {name_a} has shape {x.shape}")
    return x, y


def master_weights_step(master: ArrayLike, grad: ArrayLike, lr: float, fmt: str) -> tuple[NDArray[np.float32], NDArray[Any]]:
    r"""One SGD step on float32 master weights, and the model copy rounded to ``fmt``.

    :math:`w_{\text{master}} \leftarrow \mathrm{fl}_{32}\big(w_{\text{master}} - \mathrm{fl}_{32}(\alpha\, g)\big)`,
    computed in float32 (``master``, ``grad`` and ``lr`` are first rounded to float32), then
    :math:`w_{\text{model}} = \mathrm{round\_to}(w_{\text{master}}, \text{fmt})` for the next
    low-precision forward and backward pass (Micikevicius et al. 2018). An update smaller than half
    an ulp of ``fmt`` leaves the model copy unchanged but still moves the master copy, so many such
    updates add up; compare :func:`lowp_step`.

    Parameters
    ----------
    master : array_like
        The float32 master weights, any shape.
    grad : array_like
        The (unscaled) gradient, same shape as ``master``.
    lr : float
        Learning rate :math:`\alpha \ge 0`, finite.
    fmt : str
        One of :data:`FORMATS`: the format of the model copy.

    Returns
    -------
    master_new : numpy.ndarray
        float32, the updated master weights.
    model : numpy.ndarray
        ``master_new`` rounded to ``fmt``, held as :func:`round_to` returns it.
    """
    fmt = _check_fmt(fmt)
    m, g = _pair(master, grad, "master", "grad")
    alpha = check_nonnegative(_check_real_number(lr, "lr"), "lr")
    # A huge lr * grad overflows float32 to inf; that is the honest float32 result.
    with np.errstate(over="ignore", invalid="ignore"):
        m32, g32 = m.astype(np.float32), g.astype(np.float32)
        new = (m32 - np.float32(alpha) * g32).astype(np.float32)
    return new, _round(new, fmt)


def lowp_step(w: ArrayLike, grad: ArrayLike, lr: float, fmt: str) -> NDArray[Any]:
    r"""One SGD step done entirely in ``fmt``: :math:`\mathrm{fl}\big(w - \mathrm{fl}(\alpha\, g)\big)`.

    ``w`` is first rounded to ``fmt`` (the model is held in ``fmt``; a representable ``w`` is
    unchanged by this), the update :math:`\alpha g` is formed in float64 and rounded to ``fmt``, and
    the difference is rounded to ``fmt`` once more. If :math:`|\mathrm{fl}(\alpha g)|` is below half
    the spacing of ``fmt`` at :math:`w` (:func:`ulp`), :math:`w` does not move: *stagnation*. In
    float16, :math:`w = 1` ignores any increase below :math:`2^{-11}` (half of :math:`\mathrm{ulp}(1) = 2^{-10}`);
    in bfloat16 any below :math:`2^{-8}`.

    The difference is computed in float32 for the 16-bit formats and in float64 for float32, then
    rounded to ``fmt``; since :math:`24 \ge 2p + 2` for :math:`p = 11` and :math:`p = 8` (and
    :math:`53 \ge 2 \cdot 24 + 2`), this double rounding gives the correctly rounded difference
    (Figueroa 1995, "When is double rounding innocuous?").

    Parameters
    ----------
    w : array_like
        Weights, any shape.
    grad : array_like
        Gradient, same shape as ``w``.
    lr : float
        Learning rate :math:`\alpha \ge 0`, finite.
    fmt : str
        One of :data:`FORMATS`.

    Returns
    -------
    numpy.ndarray
        The new weights in ``fmt``, held as :func:`round_to` returns them.
    """
    fmt = _check_fmt(fmt)
    wa, g = _pair(w, grad, "w", "grad")
    alpha = check_nonnegative(_check_real_number(lr, "lr"), "lr")
    # An update too large for fmt overflows to inf, and inf - inf is NaN: the honest results.
    with np.errstate(over="ignore", invalid="ignore"):
        wq = _round(wa, fmt)
        step = _round(alpha * g.astype(np.float64), fmt)
        wide = np.float32 if fmt in ("float16", "bfloat16") else np.float64
        diff = wq.astype(wide) - step.astype(wide)
        return _round(diff, fmt)


def _check_axis(arr: NDArray[Any], axis: Any) -> int | None:
    if axis is None:
        if arr.size == 0:
            raise ValueError("x must have at least one entry")
        return None
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an integer or None, got {type(axis).__name__}")
    if not -arr.ndim <= axis < arr.ndim:
        raise ValueError(f"axis must lie in [{-arr.ndim}, {arr.ndim}) for x of shape {arr.shape}, got {axis}")
    if arr.shape[axis] == 0:
        raise ValueError(f"x must have at least one entry along axis {axis}, got shape {arr.shape}")
    return int(axis)


def logsumexp(x: ArrayLike, axis: int | None = -1) -> NDArray[Any]:
    r""":math:`\log \sum_k e^{x_k}` along ``axis``, computed stably as :math:`m + \log \sum_k e^{x_k - m}`, :math:`m = \max_k x_k`.

    Every exponential is at most 1, so nothing overflows whatever the dtype: float16 input gives a
    float16 result that is finite wherever the true value is (e.g. ``[10, 12]`` in float16 gives
    12.125, where :func:`naive_logsumexp` gives inf). Limits: an entry :math:`+\infty` gives
    :math:`+\infty`, all entries :math:`-\infty` give :math:`-\infty` (the log of an empty sum),
    a NaN gives NaN. No floating-point warning is raised.

    Parameters
    ----------
    x : array_like
        Real numbers; the floating dtype is kept (integers become float64).
    axis : int or None
        Axis to reduce; None reduces over all entries.

    Returns
    -------
    numpy.ndarray
        ``x``'s shape without ``axis`` (0-d for a 1-D ``x``), ``x``'s dtype.
    """
    arr = as_array(x, "x")
    ax = _check_axis(arr, axis)
    m = np.max(arr, axis=ax, keepdims=True)
    # Shift by a finite m only: with m = +-inf or NaN, x - m would be NaN; shifting by 0 then gives
    # exp(+inf) = inf -> inf, exp(-inf) = 0 -> log 0 = -inf, NaN -> NaN, the right limits.
    shift = np.where(np.isfinite(m), m, np.zeros_like(m))
    # exp(x - m) underflowing to 0 for entries far below the max is harmless (they add nothing);
    # overflow and log(0) occur only in the limits above, where inf and -inf are the answers.
    with np.errstate(under="ignore", over="ignore", divide="ignore", invalid="ignore"):
        s = np.sum(np.exp(arr - shift), axis=ax, keepdims=True)
        out = np.log(s) + shift
    out = np.squeeze(out, axis=ax) if ax is not None else out.reshape(())
    return np.asarray(out, dtype=arr.dtype)


def naive_logsumexp(x: ArrayLike, axis: int | None = -1) -> NDArray[Any]:
    r"""The textbook :math:`\log \sum_k e^{x_k}`, unshifted: for comparison with :func:`logsumexp` only.

    It overflows to inf as soon as one :math:`e^{x_k}` (or their sum) exceeds the dtype's largest
    finite value: in float16 from :math:`x = 11.09375` (the first float16 above
    :math:`\ln 65520 \approx 11.0901`), in float32 from :math:`x \approx 88.7`, in float64 from
    :math:`x \approx 709.8`; and it returns :math:`-\infty` once every :math:`e^{x_k}` underflows to 0
    (e.g. all :math:`x_k = -10^4`). Those cases raise numpy's RuntimeWarning ("overflow encountered
    in exp", "divide by zero encountered in log"), deliberately not silenced: wrap a call in
    ``np.errstate(over="ignore", divide="ignore")`` to show the result without the warning.

    Parameters
    ----------
    x : array_like
        Real numbers; the floating dtype is kept (integers become float64).
    axis : int or None
        Axis to reduce; None reduces over all entries.

    Returns
    -------
    numpy.ndarray
        ``x``'s shape without ``axis``, ``x``'s dtype.
    """
    arr = as_array(x, "x")
    ax = _check_axis(arr, axis)
    return np.asarray(np.log(np.sum(np.exp(arr), axis=ax)), dtype=arr.dtype)
