"""Argument checks shared by every gradlab module.

Each helper raises a ``TypeError`` or ``ValueError`` whose message names the
argument and says what was expected, so a reader who passes the wrong thing
sees the mistake in their own terms instead of a numpy traceback.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, Mapping, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "as_array",
    "check_finite",
    "check_positive_int",
    "check_real",
    "check_widths",
    "check_nonnegative",
    "check_positive",
    "check_rng",
    "check_instance",
    "per_layer",
    "lookup",
]


def as_array(x: ArrayLike, name: str, *, ndim: int | None = None, dtype: Any = None) -> NDArray[Any]:
    """Convert ``x`` to a floating-point array, or raise naming ``name``.

    Integer and boolean input is promoted to ``float64``; floating input keeps
    its precision (the exploding-gradient chapter runs networks in float32).
    """
    # Fast path for what the forward and backward passes hand over thousands of times per
    # training run: a float ndarray already in the wanted dtype needs no conversion or checks.
    if type(x) is np.ndarray and x.dtype.kind == "f" and (dtype is None or x.dtype == dtype):
        if ndim is not None and x.ndim != ndim:
            raise ValueError(f"{name} must be {ndim}-dimensional, got shape {x.shape}")
        return x
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a number or an array of numbers, got {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be array-like, got {type(x).__name__}: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must hold real numbers, got complex dtype {arr.dtype}")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    return arr


def check_finite(arr: NDArray[Any], name: str) -> NDArray[Any]:
    """Raise ``ValueError`` if ``arr`` holds NaN or infinity."""
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must be finite, but {bad} entr{'y is' if bad == 1 else 'ies are'} NaN or inf")
    return arr


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as ``int`` if it is an integer ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_real(value: Any, name: str) -> float:
    """``value`` as a finite float, or a TypeError/ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    return v


def check_widths(sizes: Any, name: str) -> list[int]:
    """Layer widths ``(n_0, ..., n_L)``: a sequence of at least two positive ints, or an error naming ``name``."""
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(f"{name} must be a sequence of layer widths (n_0, ..., n_L), got {type(sizes).__name__}")
    if len(sizes) < 2:
        raise ValueError(f"{name} must list at least an input and an output width, got {list(sizes)}")
    return [check_positive_int(n, f"{name}[{i}]") for i, n in enumerate(sizes)]


def check_nonnegative(value: Any, name: str) -> float:
    """Return ``value`` as ``float`` if it is a finite real ``>= 0``."""
    v = check_real(value, name)
    if v < 0:
        raise ValueError(f"{name} must be >= 0, got {v}")
    return v


def check_positive(value: Any, name: str) -> float:
    """Return ``value`` as ``float`` if it is a finite real ``> 0``."""
    v = check_real(value, name)
    if v <= 0:
        raise ValueError(f"{name} must be > 0, got {v}")
    return v


def check_rng(rng: Any, name: str = "rng") -> np.random.Generator:
    """Accept a ``numpy.random.Generator`` or an integer seed.

    Every random draw in the book goes through a seeded ``Generator`` so that
    two builds print the same numbers; the legacy global ``np.random`` state is
    never used.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"{name} seed must be >= 0, got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(f"{name} must be a numpy.random.Generator or an integer seed, got {type(rng).__name__}")


T = TypeVar("T")


def per_layer(x: Any, name: str) -> list[tuple[str, Any]]:
    """One entry per layer as ``[(label for messages, value), ...]``, first layer first.

    A list or tuple is labelled by position from 0 (``grads[0]``), a dict by its keys in sorted
    order (``grads[1]`` for gradlab's dicts keyed 1..L). The values are returned unchecked.
    """
    if isinstance(x, Mapping):
        try:
            keys = sorted(x)
        except TypeError:
            raise TypeError(f"{name} must be a dict with sortable keys (layer numbers), got keys {list(x)!r}") from None
        items = [(f"{name}[{k!r}]", x[k]) for k in keys]
    elif isinstance(x, (list, tuple)):
        items = [(f"{name}[{i}]", v) for i, v in enumerate(x)]
    else:
        raise TypeError(f"{name} must be a list, tuple or dict of arrays, one per layer, got {type(x).__name__}")
    if not items:
        raise ValueError(f"{name} must hold at least one layer, got an empty {type(x).__name__}")
    return items


def check_instance(value: Any, cls: type[T], name: str) -> T:
    """``value`` itself if it is a ``cls``, else a TypeError naming ``name`` and the class by its import path."""
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be a {cls.__module__}.{cls.__qualname__}, got {type(value).__name__}")
    return value


def lookup(registry: Mapping[str, T], name: Any, kind: str, *, or_instance: str = "") -> T:
    """``registry[name]``, or an error that names ``kind`` and lists the valid names.

    ``or_instance`` completes the TypeError for registries that also accept an
    object, e.g. ``" or an Activation"``.
    """
    if not isinstance(name, str):
        raise TypeError(f"{kind} must be a name (str){or_instance}, got {type(name).__name__}")
    try:
        return registry[name]
    except KeyError:
        raise ValueError(f"unknown {kind} {name!r}; expected one of: {', '.join(registry)}") from None
