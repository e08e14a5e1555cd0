"""The kernels of the classroom page: Voila's kernel manager with a cap on how many live at once.

Every load of the page ``pacekit game`` serves starts a Python kernel that reads the data and the model. An idle
kernel with no browser connected is shut down after a while (the command's cull settings), but a room of
reloads, or a page left open on every student's laptop, starts one kernel each. Neither Voila nor jupyter_server
has an option that caps them; Voila takes its kernel manager class from its configuration
(``VoilaConfiguration.multi_kernel_manager_class``), so ``pacekit game`` gives it :class:`CappedKernelManager`,
jupyter_server's own manager with a ``max_kernels`` setting. A page load beyond the cap gets an HTTP 503 page
that says why and what to do, in one sentence, and no kernel is started.

This module imports only jupyter_server, tornado and traitlets: Voila's server process imports it, and never
loads torch for it.
"""

from __future__ import annotations

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado import web
from traitlets import Integer


class CappedKernelManager(AsyncMappingKernelManager):
    """jupyter_server's kernel manager that starts no kernel beyond ``max_kernels`` live ones (those starting
    included); a start beyond it is an ``HTTPError(503)`` whose reason the page shows."""

    max_kernels = Integer(0, config=True, help="The most kernels alive at once; 0: no cap.")

    def live_kernels(self) -> int:
        """Kernels running or starting now."""
        return len(set(self._kernels) | set(getattr(self, "_pending_kernels", {})))

    async def start_kernel(self, *, kernel_id=None, path=None, **kwargs):
        new = kernel_id is None or kernel_id not in self
        if self.max_kernels and new and self.live_kernels() >= self.max_kernels:
            raise web.HTTPError(503, reason=refusal(self.max_kernels))
        return await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)


def refusal(max_kernels: int) -> str:
    """What a page beyond the cap says."""
    pages = "page is" if max_kernels == 1 else "pages are"
    return (f"{max_kernels} game {pages} open already, as many as this server runs at once (pacekit game "
            "--max-kernels): close one, or wait a few minutes for an idle one to end, then reload")


__all__ = ["CappedKernelManager", "refusal"]
