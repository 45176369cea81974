"""Watch a file with Linux inotify: proof that nothing opened or read it.

libxml2 opens files from C, beneath Python's audit hooks; the kernel sees every open.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from types import TracebackType

IN_ACCESS = 0x00000001
IN_OPEN = 0x00000020


class FileWatch:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._fd = -1

    def __enter__(self) -> FileWatch:
        self._fd = self._libc.inotify_init1(os.O_NONBLOCK)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        watch = self._libc.inotify_add_watch(self._fd, str(self.path).encode(), IN_OPEN | IN_ACCESS)
        if watch < 0:
            raise OSError(ctypes.get_errno(), "inotify_add_watch failed")
        return self

    def touched(self) -> bool:
        try:
            return len(os.read(self._fd, 4096)) > 0
        except BlockingIOError:
            return False

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        os.close(self._fd)
