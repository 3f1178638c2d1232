"""Writing files so that a reader never sees half a file and a user's file is never replaced by surprise.

``atomic_path(path)`` yields a temporary path in the same folder; when the block ends, the file gets the
permissions an ordinary file of this user gets (``0666 & ~umask``, where ``mkstemp`` would leave ``0600``),
is flushed to disk and moved into place in one step. With ``overwrite=False`` the move refuses a file that
appeared while the command ran (a hard link is created only if the name is free: no check-then-write race).
Every layer may import this module (it imports only ``errors``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sightsound.errors import UserInputError


def read_text(path: str | os.PathLike, what: str = "text file") -> str:
    """The UTF-8 text of a user's file; a missing, unreadable or non-UTF-8 file is a one-line UserInputError
    naming it."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserInputError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise UserInputError(f"{path}: is a folder, not a {what}") from None
    except UnicodeDecodeError as error:
        raise UserInputError(f"{path}: not UTF-8 text (byte {error.start}); save the {what} as UTF-8") from None
    except OSError as error:
        raise UserInputError(f"{path}: cannot read the {what} ({error.strerror or error})") from None


def file_mode() -> int:
    """The mode a new ordinary file of this process gets: 0666 minus the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def publish(tmp: str | os.PathLike, path: str | os.PathLike, *, overwrite: bool = True) -> None:
    """Move the finished temporary file ``tmp`` to ``path`` (same folder), with the user's file mode."""
    tmp, path = Path(tmp), Path(path)
    os.chmod(tmp, file_mode())
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # fails if the name is taken, atomically
    except FileExistsError:
        raise UserInputError(f"{path}: exists (it appeared while this command ran); nothing was overwritten") from None
    except OSError:  # a file system without hard links: the best we can do is check, then rename
        if path.exists():
            raise UserInputError(f"{path}: exists (it appeared while this command ran); nothing was overwritten") from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


@contextmanager
def atomic_path(path: str | os.PathLike, *, overwrite: bool = True) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; published to ``path`` when the block ends without error,
    removed otherwise."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    except OSError as error:
        raise UserInputError(f"{path}: cannot write ({error.strerror or error})") from None
    os.close(fd)
    try:
        yield Path(tmp)
        publish(tmp, path, overwrite=overwrite)
    except OSError as error:  # a full or read-only disk while writing or publishing: name the file, keep nothing
        raise UserInputError(f"{path}: cannot write ({_reason(error, path)})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _reason(error: OSError, path: Path) -> str:
    reason = error.strerror or str(error)
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return reason
    return f"{reason}; {free:,} bytes free there" if free < 50_000_000 else reason


@contextmanager
def folder_lock(folder: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (its ``.lock`` file) for the block; a second process asking for it
    gets a one-line UserInputError instead of interleaving its writes with the first one's."""
    import fcntl

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    handle = open(folder / ".lock", "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserInputError(f"{folder}: in use by another sightsound process; wait for it or choose another "
                                 "folder") from None
        yield
    finally:
        handle.close()  # closing releases the lock
