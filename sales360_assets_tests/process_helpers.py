"""Stand-ins for a run's own process, importable by name in a spawned child (not test modules)."""

from __future__ import annotations

import os
import signal
from multiprocessing.connection import Connection

from dagster._core.instance.ref import InstanceRef


def killed_before_answering(ref: InstanceRef, name: str, tags: dict[str, str], send: Connection) -> None:
    """A run process the kernel kills mid-run (the OOM killer, ``kill -9``): it never answers."""
    os.kill(os.getpid(), signal.SIGKILL)
