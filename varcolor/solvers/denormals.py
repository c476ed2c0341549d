"""Flush subnormal floats to zero around a computation (x86-64 SSE control register)."""

from __future__ import annotations

import contextlib
import platform
from collections.abc import Iterator

_X86 = platform.machine().lower() in ("x86_64", "amd64")
_FLUSH_TO_ZERO = 0x8000
_DENORMALS_ARE_ZERO = 0x0040

if _X86:
    import numba
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    def _call_mxcsr(builder, name: str, pointer) -> None:
        byte_pointer = ir.IntType(8).as_pointer()
        function = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer]), name)
        builder.call(function, [builder.bitcast(pointer, byte_pointer)])

    @intrinsic
    def _read_mxcsr(typingctx):
        def codegen(context, builder, signature, args):
            slot = cgutils.alloca_once(builder, ir.IntType(32))
            _call_mxcsr(builder, "llvm.x86.sse.stmxcsr", slot)
            return builder.load(slot)

        return types.uint32(), codegen

    @intrinsic
    def _write_mxcsr(typingctx, value):
        def codegen(context, builder, signature, args):
            slot = cgutils.alloca_once(builder, ir.IntType(32))
            builder.store(args[0], slot)
            _call_mxcsr(builder, "llvm.x86.sse.ldmxcsr", slot)
            return context.get_dummy_value()

        return types.void(types.uint32), codegen

    @numba.njit(cache=True)
    def _set_mxcsr(value):
        _write_mxcsr(value)

    @numba.njit(cache=True)
    def _get_mxcsr():
        return _read_mxcsr()


@contextlib.contextmanager
def flushed_denormals() -> Iterator[None]:
    """Inside the block, this thread's float results below the normal range are zero (and
    such inputs read as zero); a no-op on processors other than x86-64.

    Examples
    --------
    >>> import numpy as np
    >>> tiny = np.array([1e-39], np.float32)
    >>> with flushed_denormals():
    ...     flushed = tiny * np.float32(2)
    >>> float(tiny[0] * np.float32(2)) > 0, float(flushed[0]) == 0 or not _X86
    (True, True)
    """
    if not _X86:
        yield
        return
    import numpy as np

    old = _get_mxcsr()
    _set_mxcsr(np.uint32(old | _FLUSH_TO_ZERO | _DENORMALS_ARE_ZERO))
    try:
        yield
    finally:
        _set_mxcsr(np.uint32(old))
