"""Progress of long C++ work shown the Python way: a tqdm bar when tqdm is installed, otherwise
periodic lines on stderr; or the caller's own callback, or nothing."""

import sys
import time


class _LinePrinter:
    """One line per task every few seconds, and one when the task ends."""

    def __init__(self, stream, every_s=5.0):
        self._stream = stream
        self._every_s = every_s
        self._last = {}

    def __call__(self, task, done, total, elapsed_s):
        now = time.monotonic()
        finished = total and done >= total
        if not finished and now - self._last.get(task, -1e9) < self._every_s:
            return
        self._last[task] = now
        of = f"/{total}" if total else ""
        self._stream.write(f"halo: {task}: {done}{of} ({elapsed_s:.1f} s)\n")
        self._stream.flush()


class _TqdmBars:
    """One tqdm bar per task name, closed when the task reaches its total."""

    def __init__(self, tqdm):
        self._tqdm = tqdm
        self._bars = {}

    def __call__(self, task, done, total, elapsed_s):
        bar = self._bars.get(task)
        if bar is None:
            bar = self._tqdm(total=total or None, desc=task, leave=False)
            self._bars[task] = bar
        bar.update(done - bar.n)
        if total and done >= total:
            bar.close()
            del self._bars[task]


def make_sink(progress):
    """The callable the C++ side calls as (task, done, total, elapsed_s), or None.

    progress: True (tqdm if installed, else lines on stderr), False/None (silent), or a callable
    taking (task, done, total, elapsed_s).
    """
    if progress is None or progress is False:
        return None
    if callable(progress):
        return progress
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _LinePrinter(sys.stderr)
    return _TqdmBars(tqdm)
