"""Progress of long builds, for a progress bar.

``with reporting_progress(callback):`` makes every table the block builds
in this thread run its C build (``ksym_builder_finish``: sorting, the
kernel's token compression, the name index) on a second thread, which
cffi lets run without the GIL, while this thread calls ``callback`` with
the fraction done.  The fraction comes from the C build itself
(``ksym_builder_progress``: its phases, then one step per compression
round), so it moves evenly on tables of any size.
"""

import contextlib
import contextvars
import threading

from ._native import lib

__all__ = ["reporting_progress"]

_sink = contextvars.ContextVar("pysyms_build_progress", default=None)


@contextlib.contextmanager
def reporting_progress(callback, interval=0.1):
    """Within the block, each C build in this thread calls
    ``callback(fraction)`` (0.0 to 1.0) every ``interval`` seconds while
    it runs, and with 1.0 when it succeeds."""
    token = _sink.set((callback, interval))
    try:
        yield
    finally:
        _sink.reset(token)


def finish(builder, out):
    """``lib.ksym_builder_finish(builder, out)``, reporting to the callback
    of the enclosing :func:`reporting_progress` block, if any."""
    sink = _sink.get()
    if sink is None:
        return lib.ksym_builder_finish(builder, out)
    callback, interval = sink
    result = []
    worker = threading.Thread(target=lambda: result.append(lib.ksym_builder_finish(builder, out)),
                              name="pysyms-build", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(interval)
            callback(lib.ksym_builder_progress(builder) / lib.KSYM_PROGRESS_DONE)
    finally:
        _join(worker)  # it writes into builder and out: never return while it runs
    if result[0] >= 0:
        callback(1.0)
    return result[0]


def _join(thread):
    while thread.is_alive():
        try:
            thread.join()
        except KeyboardInterrupt:  # the build stops only by finishing
            continue
