"""The runner's bounded waits for kernel messages (analysis_lib._kernel_poll): a zmq wakeup that
the asyncio poll misses costs one slice, not the caller's whole timeout."""
import asyncio
import time
from queue import Empty

import pytest
import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session

from analysis_lib import _kernel_poll


def _missed_wakeup(wait):
    """Run `wait(channel)` while a message arrives and its wakeup is consumed before the event loop
    sees it (another reader of the socket's EVENTS drains the edge-triggered FD, as a send on the
    same socket can); returns (what `wait` returned, seconds it took)."""
    async def main():
        session = Session(key=b"")
        sender = zmq.Context.instance().socket(zmq.PAIR)
        port = sender.bind_to_random_port("tcp://127.0.0.1")
        receiver = zmq.asyncio.Context.instance().socket(zmq.PAIR)
        receiver.connect(f"tcp://127.0.0.1:{port}")
        channel = AsyncZMQSocketChannel(receiver, session)
        await asyncio.sleep(0.2)
        t0 = time.perf_counter()
        task = asyncio.ensure_future(wait(channel))
        await asyncio.sleep(0.1)              # `wait` is inside its poll now
        session.send(sender, "execute_reply", {"status": "ok"})
        time.sleep(0.1)                       # the message lands while the loop is not selecting
        receiver.getsockopt(zmq.EVENTS)       # ... and its wakeup is consumed
        try:
            return await task, time.perf_counter() - t0
        finally:
            sender.close(linger=0), receiver.close(linger=0)
    return asyncio.run(main())


def test_a_plain_poll_misses_the_wakeup_and_waits_its_whole_timeout():
    # the failure the module exists for, reproduced: the message is there, the poll sleeps on
    ready, took = _missed_wakeup(lambda ch: ch.socket.poll(1500))
    assert ready and took >= 1.4


def test_sliced_get_msg_returns_the_message_within_one_slice():
    msg, took = _missed_wakeup(lambda ch: _kernel_poll.sliced_get_msg(ch, 10.0, slice_s=0.25))
    assert msg["msg_type"] == "execute_reply" and msg["content"] == {"status": "ok"}
    assert took < 1.0


def test_sliced_get_msg_keeps_the_callers_timeout_and_zero_polls_once():
    class FakeSocket:
        def __init__(self):
            self.polls = []

        async def poll(self, ms):
            self.polls.append(ms)
            now[0] += ms / 1000
            return 0

    class FakeChannel:
        socket = FakeSocket()

    now = [0.0]
    with pytest.raises(Empty):
        asyncio.run(_kernel_poll.sliced_get_msg(FakeChannel, 2.5, slice_s=1.0, clock=lambda: now[0]))
    assert FakeChannel.socket.polls == [1000, 1000, 500]
    FakeChannel.socket.polls.clear()
    with pytest.raises(Empty):
        asyncio.run(_kernel_poll.sliced_get_msg(FakeChannel, 0, clock=lambda: now[0]))
    assert FakeChannel.socket.polls == [0]


def test_install_patches_the_asyncio_channel_and_checks_its_slice(monkeypatch):
    # conftest installed it already: start from jupyter_client's own method
    original = getattr(AsyncZMQSocketChannel, "_original_get_msg", AsyncZMQSocketChannel.get_msg)
    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", original)
    assert not getattr(AsyncZMQSocketChannel.get_msg, "_analysis_lib_sliced", False)
    _, took = _missed_wakeup(lambda ch: ch.get_msg(timeout=1.5))
    assert took >= 1.4
    _kernel_poll.install(0.25)
    assert getattr(AsyncZMQSocketChannel.get_msg, "_analysis_lib_sliced", False)
    msg, took = _missed_wakeup(lambda ch: ch.get_msg(timeout=10.0))
    assert msg["msg_type"] == "execute_reply" and took < 1.0
    with pytest.raises(ValueError, match="slice_s"):
        _kernel_poll.install(0)
