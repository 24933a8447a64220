"""The kernel manager ``kb run`` hands to papermill: IPC transport, the runner's own interpreter.

Where this sits in the flow: ``engine.execute_cells`` passes
``kernel_manager_class="platform_kb.runner.kernel.IPCKernelManager"`` to papermill's nbclient
(upstream-facts §8). nbclient creates it with ``kernel_name``; we

* default ``transport`` to ``ipc`` (ipykernel 7.4 warns about unencrypted TCP; Unix sockets in a
  private 0700 directory are reachable by this user only), with the sockets and the connection
  file in that directory, removed when the kernel is cleaned up;
* run the kernelspec's command with *this* interpreter (``sys.executable``) when the spec names
  another Python, so ``import platform_kb`` works in cells whatever kernelspec a user-level Jupyter
  install shadows ``python3`` with. ``scripts/setup`` installs a ``python3`` spec into the venv
  whose argv already is the venv's python.

Subclasses ``AsyncKernelManager`` (a ``KernelManager``), nbclient's own default, so no nested
event loop is needed.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

KERNEL_MANAGER_CLASS = f"{__name__}.IPCKernelManager"


def _is_python(executable: str) -> bool:
    return Path(executable).name.startswith("python")


class IPCKernelManager(AsyncKernelManager):
    """An AsyncKernelManager over the IPC transport, sockets in a private temporary directory."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("transport", "ipc")
        super().__init__(**kwargs)
        self._private_dir: str | None = None
        if self.transport == "ipc":
            self._private_dir = tempfile.mkdtemp(prefix="kb-kernel-")  # mode 0700
            self.connection_file = os.path.join(self._private_dir, "kernel.json")
            self.ip = os.path.join(self._private_dir, "ipc")

    @property
    def private_dir(self) -> str | None:
        """The private folder of the sockets and connection file (None once cleaned up)."""
        return self._private_dir

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        if cmd and _is_python(cmd[0]) and os.path.abspath(cmd[0]) != os.path.abspath(sys.executable):
            self.log.debug("kernelspec names %s; running %s instead", cmd[0], sys.executable)
            cmd[0] = sys.executable
        return cmd

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._private_dir:
            shutil.rmtree(self._private_dir, ignore_errors=True)
            self._private_dir = None

    cleanup_resources = _async_cleanup_resources  # type: ignore[assignment]
