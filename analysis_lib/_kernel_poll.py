"""Bounded waits for kernel messages in the runner's notebook client (papermill → nbclient →
jupyter_client's asyncio channels).

Why: `AsyncZMQSocketChannel.get_msg(timeout)` is one `socket.poll(timeout)`, woken by the zmq
socket's edge-triggered file descriptor. Now and then that wakeup is missed (pyzmq's asyncio
integration; reported upstream as nbclient#312 for cells with widgets and pyzmq#2173), and the
poll sleeps although the reply is already queued: it only looks again when its timeout fires.
Seen here on 2026-12-03: notebook 04's `toy_explorer` cell got its execute reply and idle status
in 0.4 s (the kernel's own timestamps) and the runner waited the whole 600 s cell timeout, then
went on without an error. nbclient waits for IOPub with no timeout at all, so the same miss there
would hang until the next message.

`install()` replaces that one method by polls of at most `SLICE_S` seconds each: when a poll's
slice ends, pyzmq re-reads the socket's events (`poll(0)`), so a missed wakeup costs at most one
slice, and the caller's overall timeout (None: wait forever) is kept exactly. Only the runner's
worker process installs it; notebooks' kernels never import this module.
"""
from __future__ import annotations

import time
from queue import Empty
from typing import Any, Callable

SLICE_S = 1.0  # longest single poll: the worst delay a missed wakeup can add


async def sliced_get_msg(channel: Any, timeout: float | None = None, *, slice_s: float = SLICE_S,
                         clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """`get_msg` of a jupyter_client asyncio channel, polling its socket in slices of ≤ `slice_s`
    seconds until a message is ready (then `channel._recv()`) or `timeout` seconds have passed
    (then `queue.Empty`, as the original; `timeout=None` waits forever, `timeout=0` polls once)."""
    deadline = None if timeout is None else clock() + max(float(timeout), 0.0)
    while True:
        left = slice_s if deadline is None else min(slice_s, max(deadline - clock(), 0.0))
        if await channel.socket.poll(int(left * 1000)):
            return await channel._recv()
        if deadline is not None and clock() >= deadline:
            raise Empty


def install(slice_s: float = SLICE_S) -> None:
    """Make every `jupyter_client.channels.AsyncZMQSocketChannel` in this process use
    `sliced_get_msg` (idempotent)."""
    if not slice_s > 0:
        raise ValueError(f"slice_s must be > 0 seconds; got {slice_s!r}")
    from jupyter_client.channels import AsyncZMQSocketChannel

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
        return await sliced_get_msg(self, timeout, slice_s=slice_s)

    get_msg.__doc__ = sliced_get_msg.__doc__
    get_msg._analysis_lib_sliced = True  # type: ignore[attr-defined]
    if not getattr(AsyncZMQSocketChannel.get_msg, "_analysis_lib_sliced", False):
        AsyncZMQSocketChannel._original_get_msg = AsyncZMQSocketChannel.get_msg  # type: ignore[attr-defined]
    AsyncZMQSocketChannel.get_msg = get_msg  # type: ignore[method-assign]
