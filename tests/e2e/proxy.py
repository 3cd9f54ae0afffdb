"""A TCP proxy the test controls, between service processes and the shared broker or database.

``cut()`` drops every open connection (as a broker or database restart does) and keeps
accepting; ``block()`` drops them and refuses new ones until ``unblock()`` (an outage);
with ``drop_replies`` set, a request reaches the server but its answer is thrown away and the
connection closed (a reply lost on the way back, which the caller sees as a failed call).
The shared servers themselves are never restarted.
"""

from __future__ import annotations

import contextlib
import socket

import eventlet


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.server = eventlet.listen(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.blocked = False
        self.drop_replies = False
        self.open: set = set()
        self.accepted = 0
        self._thread = eventlet.spawn(self._accept)

    def url(self, url: str) -> str:
        """``url`` with the target's port replaced by the proxy's."""
        return url.replace(f":{self.target[1]}/", f":{self.port}/")

    def _accept(self) -> None:
        while True:
            client, _ = self.server.accept()
            if self.blocked:
                _close(client)
                continue
            try:
                upstream = eventlet.connect(self.target)
            except OSError:
                _close(client)
                continue
            self.accepted += 1
            self.open |= {client, upstream}
            eventlet.spawn(self._pipe, client, upstream)
            eventlet.spawn(self._pipe, upstream, client, True)

    def _pipe(self, source, sink, replies: bool = False) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data or (replies and self.drop_replies):
                    break
                sink.sendall(data)
        except (OSError, EOFError):  # the other direction, or the test, closed it
            pass
        finally:
            # Wake the other direction (it reads ``sink``), then close only the socket this
            # green thread reads: a socket closed under another reader may have its file
            # descriptor reused before that reader wakes.
            _shutdown(sink)
            self.open.discard(source)
            _shutdown(source)
            source.close()

    def cut(self) -> int:
        """Drop every open connection; returns how many sockets were open."""
        dropped = list(self.open)
        for sock in dropped:
            _shutdown(sock)  # their readers wake, see the end, and close them
        return len(dropped)

    def block(self) -> None:
        self.blocked = True
        self.cut()

    def unblock(self) -> None:
        self.blocked = False

    def close(self) -> None:
        self._thread.kill()
        self.cut()
        self.server.close()


def _shutdown(sock) -> None:
    with contextlib.suppress(OSError, EOFError):
        sock.shutdown(socket.SHUT_RDWR)


def _close(sock) -> None:
    _shutdown(sock)
    sock.close()
