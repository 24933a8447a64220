"""Raise the listen() backlog of a socket another lab process already listens on.

Spark has no configuration key for its UI server's accept queue: ``JettyUtils.startJettyServer``
(apache/spark ``core/src/main/scala/org/apache/spark/ui/JettyUtils.scala``) sets
``connector.setAcceptQueueSize(math.min(connector.getAcceptors, 8))`` and the Jetty shipped with
Spark 4 gives that connector one acceptor, so every Spark UI listens with a backlog of 1
(``ss -ltn``: ``LISTEN 0 1``). The lab does what Jetty's ``setAcceptQueueSize`` would do, from the
outside: it takes a duplicate of the listening descriptor with ``pidfd_getfd(2)`` (Linux 5.6+,
needs ptrace rights over the process, which the user who started it has) and calls ``listen(2)``
on it again — on Linux a second ``listen`` on a listening socket only changes its backlog
(``inet_listen`` in ``net/ipv4/af_inet.c``). Nothing is restarted, so no request can meet a closed
port. When the kernel refuses, the backlog stays as Spark set it and the reason is returned.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
from dataclasses import dataclass

from platform_kb.procnet import listening_fds

SYS_PIDFD_GETFD = 438  # the same number on x86_64 and arm64 (include/uapi/asm-generic/unistd.h)


@dataclass(frozen=True)
class BacklogResult:
    raised: bool
    detail: str


def _pidfd_getfd(pidfd: int, target_fd: int) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = int(libc.syscall(SYS_PIDFD_GETFD, pidfd, target_fd, 0))
    if fd < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"pidfd_getfd: {os.strerror(code)}")
    return fd


def raise_backlog(pid: int, host: str, port: int, backlog: int) -> BacklogResult:
    """Call ``listen(backlog)`` again on the sockets process ``pid`` listens on at ``host:port``."""
    fds = listening_fds(pid, host, port)
    if not fds:
        return BacklogResult(False, f"process {pid} holds no socket listening on {host}:{port}")
    try:
        pidfd = os.pidfd_open(pid)
    except OSError as exc:
        return BacklogResult(False, f"pidfd_open({pid}): {exc.strerror or exc}")
    try:
        for target in fds:
            dup = _pidfd_getfd(pidfd, target)
            sock = socket.socket(fileno=dup)
            try:
                sock.listen(backlog)
            finally:
                sock.close()  # closes only our duplicate; the process keeps its descriptor
    except OSError as exc:
        name = errno.errorcode.get(exc.errno or 0, "")
        return BacklogResult(False, f"{host}:{port} backlog unchanged ({name} {exc.strerror or exc})")
    finally:
        os.close(pidfd)
    return BacklogResult(True, f"{host}:{port} listen backlog set to {backlog} (pid {pid})")
