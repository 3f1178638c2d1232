"""The one place that knows about numba: whether it can run, and compiling a loop (with the helpers it
calls) once per process. The compiled mirrors of the models' recurrences (``models/*_fast.py``) and PGHI's
heap walk (``audio/_engine.py``) use it; without numba they fall back to torch or plain Python.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import torch


@functools.lru_cache(maxsize=1)
def numba_available() -> bool:
    """numba and scipy (numba's ``np.dot`` calls BLAS through scipy) are importable."""
    try:
        import numba  # noqa: F401
        import scipy  # noqa: F401
    except ImportError:
        return False
    return True


_COMPILED: dict[Callable, Callable] = {}  # one entry per compiled loop of the package (a handful, bounded by code)


def compiled(function: Callable, helpers: tuple[str, ...] = ()) -> Callable:
    """``numba.njit(cache=True, nogil=True)(function)``, compiled once; the module-level ``helpers`` the loop
    calls are compiled first and put back into its module (numba calls them compiled)."""
    if function not in _COMPILED:
        import numba

        jit = numba.njit(cache=True, nogil=True)
        namespace = function.__globals__
        for name in helpers:
            namespace[name] = jit(namespace[name])
        _COMPILED[function] = jit(function)
    return _COMPILED[function]


def is_cached(function: Callable) -> bool:
    """Whether numba's on-disk cache already holds ``function`` (else its first call compiles, for seconds)."""
    source = Path(function.__code__.co_filename)
    return any((source.parent / "__pycache__").glob(f"{source.stem}.{function.__name__}-*.nbi"))


@contextmanager
def torch_threads(n: int):
    """torch's intra-op threads set to ``n`` inside the block, restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
