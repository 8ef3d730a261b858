"""Work run aside: a pure function computed in a forked child process while this process
goes on with the rest, its result handed back through a pipe (pickled).

The quarterly report's forward look (the forecast's calibration and its 2,000-path
simulation, about half of the report's time) needs nothing but the book, so it can run
beside the report's other figures on a second core. `aside(func, *args)` forks only when
that is safe, and otherwise computes inline, when its result is asked for:

- `os.fork` exists (not on Windows), and
- no other thread of this process is running, unless marked safe to fork beside
  (`fork_safe(thread)`: a thread that holds no lock the child could need, such as the job
  queue's heartbeat). A forked child holds a copy of every lock as it was at the fork:
  a lock another thread held then is never let go in the child. So gunicorn's threaded
  workers, the embedded job consumer and the jobs worker always compute inline.

The child runs only `func` on data it inherited (nothing of the parent's database
connections, files or sockets is touched: it ends by `os._exit`, with no clean-up, no
finaliser, no flush), with the garbage collector off (a cycle collected in the child could
run a finaliser on a shared connection). If it fails, dies, or has not answered within
`timeout` seconds (180 by default), it is killed and the work is done inline, so the result
is always `func(*args, **kwargs)`'s: the same figures, the same exceptions.

Pure: imports neither Flask nor SQLAlchemy.
"""
from __future__ import annotations

import gc
import os
import pickle
import select
import signal
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

TIMEOUT = 180.0
_SAFE = "fork_safe"


def fork_safe(thread: threading.Thread) -> threading.Thread:
    """Mark `thread` as one a child may be forked beside (it holds no lock the child's work
    could take); returns it."""
    setattr(thread, _SAFE, True)
    return thread


def can_fork() -> bool:
    """Whether forking now is safe: os.fork exists and every other running thread is
    marked fork_safe."""
    if not hasattr(os, "fork"):
        return False
    me = threading.current_thread()
    return all(t is me or getattr(t, _SAFE, False) for t in threading.enumerate() if t.is_alive())


class Aside(Generic[T]):
    """`func(*args, **kwargs)`, computed in a forked child when safe (see the module), else
    inline when `result()` is called. Use as a context manager, or call `cancel()`, so
    that a child whose result is not wanted is stopped."""

    def __init__(self, func: Callable[..., T], *args: Any, timeout: float = TIMEOUT, **kwargs: Any):
        self.func, self.args, self.kwargs, self.timeout = func, args, kwargs, timeout
        self.pid: int | None = None   # the child while it runs
        self.child: int | None = None  # the child's pid, kept
        self.forked = False       # a child was started
        self.from_child = False   # the result came from it
        self._fd: int | None = None
        self._done: tuple[T] | None = None
        self._started = time.monotonic()
        if can_fork():
            self._fork()

    def _fork(self) -> None:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: compute, write, end without any clean-up
            code = 1
            try:
                os.close(read)
                gc.disable()
                try:
                    payload = pickle.dumps((True, self.func(*self.args, **self.kwargs)), pickle.HIGHEST_PROTOCOL)
                except Exception:  # the parent computes inline, raising the same exception there
                    payload = pickle.dumps((False, None))
                view = memoryview(payload)
                while view:
                    view = view[os.write(write, view):]
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        self.pid, self.child, self._fd, self.forked = pid, pid, read, True

    def _from_child(self) -> tuple[bool, Any]:
        """(True, the child's result), or (False, None) if it failed, died or timed out."""
        assert self._fd is not None
        chunks = []
        deadline = self._started + self.timeout
        waiting = select.poll()  # (not select.select: a server may hold more than 1,024 files)
        waiting.register(self._fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False, None
                if not waiting.poll(max(1, int(left * 1000))):
                    continue
                chunk = os.read(self._fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
            ok, value = pickle.loads(b"".join(chunks))
            return bool(ok), value
        except Exception:
            return False, None
        finally:
            self._reap()

    def _reap(self) -> None:
        """Close the pipe, stop the child if it still runs, and wait for it (no zombie)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self.pid is not None:
            pid, self.pid = self.pid, None
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
                if done == 0:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
            except ChildProcessError:
                pass

    def result(self) -> T:
        """The result: the child's when it gave one, else computed here and now."""
        if self._done is None:
            if self.forked and self._fd is not None:
                ok, value = self._from_child()
                if ok:
                    self.from_child = True
                    self._done = (value,)
            if self._done is None:
                self._done = (self.func(*self.args, **self.kwargs),)
        return self._done[0]

    def cancel(self) -> None:
        """Stop the child, if any (its result is not wanted)."""
        self._reap()

    def __enter__(self) -> Aside[T]:
        return self

    def __exit__(self, *exc) -> None:
        self.cancel()


def aside(func: Callable[..., T], *args: Any, timeout: float = TIMEOUT, **kwargs: Any) -> Aside[T]:
    """Start `func(*args, **kwargs)` aside (a forked child when safe); `.result()` gives it."""
    return Aside(func, *args, timeout=timeout, **kwargs)
