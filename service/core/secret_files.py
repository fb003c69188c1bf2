"""Secrets kept in files: created once if absent (mode 0600, never half-written), then read back."""
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def load_or_create(path: str | os.PathLike, generate: Callable[[], bytes]) -> bytes:
    """The bytes at `path`, writing `generate()` there first if the file does not exist yet."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _create(path, generate())
    return path.read_bytes()


def _create(path: Path, content: bytes) -> None:
    """Write the whole secret to a 0600 temp file, then hard-link it into place.

    os.link fails if path exists, so concurrent workers agree on one secret and no reader ever
    sees a half-written file (a bare O_EXCL create could be read while still empty).
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")  # mkstemp creates 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process won the race; its secret is read instead
    finally:
        os.unlink(tmp)
