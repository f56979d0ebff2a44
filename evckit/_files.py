"""Reading a file the user named, safely: a regular file, of bounded size (snapshots, CPU data files).

A module of its own, without the CPU data readers (`evckit.cpuid.detect` re-exports it), so that
loading a snapshot does not import them (and the XML parser) unless a host's CPU data is in a file.
"""

from __future__ import annotations

import os
import stat

from evckit.errors import InputError

__all__ = ["read_regular_file"]


def read_regular_file(source: str, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; anything else raises `InputError`.

    Devices (``/dev/zero``), FIFOs (which would block forever), sockets and directories are refused
    before reading; the size is checked on the open file and again while reading, so a file that
    grows meanwhile cannot make evckit read more than ``limit`` bytes.
    """
    try:
        fd = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise InputError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{source}: is a directory, not {what}") from None
    except PermissionError:
        raise InputError(f"{source}: cannot read: permission denied") from None
    except (OSError, ValueError) as exc:
        reason = (exc.strerror if isinstance(exc, OSError) else None) or type(exc).__name__
        raise InputError(f"{source}: cannot read: {reason}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{source}: is a directory, not {what}")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{source}: not a regular file (a device, FIFO or socket), not {what}")
        if info.st_size > limit:
            raise InputError(f"{source}: {info.st_size} bytes, more than the {limit} bytes {what} may have")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            raw = stream.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{source}: cannot read: {exc.strerror or type(exc).__name__}") from None
    finally:
        os.close(fd)
    if len(raw) > limit:
        raise InputError(f"{source}: more than the {limit} bytes {what} may have")
    return raw
