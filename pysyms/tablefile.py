"""What both SymbolTable implementations share about table files: the
atomic write, the provenance a table records, and whether it is stale.

The bytes of a file are laid out by csrc/file.c (C) and pysyms/container.py
(the pure-Python reference); docs/format.md describes them.
"""

import json
import os

# datetime, hashlib and tempfile are imported where they are used: a command
# that only reads tables needs none of them, and their imports alone take
# 15-25 ms, more than opening a table.

__all__ = ["write_atomically", "build_provenance", "encode_provenance", "decode_provenance", "staleness",
           "live_region_ends", "is_live", "LIVE_KALLSYMS"]

LIVE_KALLSYMS = "/proc/kallsyms"
_BOOT_ID = "/proc/sys/kernel/random/boot_id"
_MODULES = "/proc/modules"


def write_atomically(path, data):
    """Write ``data`` to ``path`` so that ``path`` only ever holds the old
    file or the whole new one: a temporary file in the same directory is
    written, fsynced and renamed over ``path``, then the directory is
    fsynced.  On any error the temporary file is removed and ``path`` is
    untouched."""
    import tempfile

    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with open(fd, "wb", closefd=True) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return None


def _modules_digest():
    """SHA-256 over the name and size of every loaded module, or None."""
    text = _read_text(_MODULES)
    if text is None:
        return None
    import hashlib

    rows = sorted(" ".join(line.split()[:2]) for line in text.splitlines() if line.strip())
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def _running_kernel():
    """(kernel release, boot id, modules digest) of the running system."""
    boot_id = _read_text(_BOOT_ID)
    return os.uname().release, boot_id.strip() if boot_id else None, _modules_digest()


def live_region_ends():
    """``{module name: end}`` of the loaded modules, from /proc/modules
    (load address + size; modules whose address is hidden are left out):
    the region ends of a table built from the running kernel."""
    text = _read_text(_MODULES)
    ends = {}
    for line in (text or "").splitlines():
        fields = line.split()
        try:
            size, address = int(fields[1]), int(fields[5], 16)
        except (IndexError, ValueError):
            continue
        if address and size:
            ends[fields[0]] = address + size
    return ends


def is_live(source):
    """Whether ``source`` is the running kernel's /proc/kallsyms."""
    if source is None:
        return False
    try:
        return os.path.realpath(source) == LIVE_KALLSYMS
    except (OSError, ValueError):
        return False


def build_provenance(source):
    """The provenance dict of a table built now from ``source`` (a path or
    None); built from the running kernel's ``/proc/kallsyms`` it also
    records the kernel release, boot id and loaded modules."""
    import datetime

    from . import __version__

    prov = {
        "pysyms_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "source": None if source is None else os.fsdecode(source),
    }
    if is_live(prov["source"]):
        release, boot_id, modules = _running_kernel()
        prov.update(kernel_release=release, boot_id=boot_id, modules_digest=modules)
    return prov


def encode_provenance(provenance):
    """The bytes of the provenance section: compact JSON, keys sorted, so
    the C and the reference writers produce the same file."""
    return json.dumps(provenance or {}, sort_keys=True, separators=(",", ":")).encode("utf-8")


def decode_provenance(data, path=None, offset=None):
    """The provenance dict from the section's bytes; anything but a UTF-8
    JSON object raises CorruptTableError."""
    from .errors import CorruptTableError

    try:
        value = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CorruptTableError(f"section provenance (id 13): not UTF-8 JSON ({exc})", path, offset) from None
    if not isinstance(value, dict):
        raise CorruptTableError("section provenance (id 13): not a JSON object", path, offset)
    return value


def staleness(provenance):
    """``(stale, reason)`` for a table with this provenance against the
    running system: ``stale`` is False when it still matches (same kernel
    release, same boot, same loaded modules), True when it does not, None
    when the table was not built from the running kernel's /proc/kallsyms
    (nothing to compare)."""
    if not provenance or not provenance.get("boot_id"):
        source = (provenance or {}).get("source")
        return None, f"built from {source or 'records'}, not from {LIVE_KALLSYMS}: cannot tell"
    release, boot_id, modules = _running_kernel()
    if provenance.get("kernel_release") != release:
        return True, f"built for kernel {provenance.get('kernel_release')}, running {release}"
    if provenance.get("boot_id") != boot_id:
        return True, "built during another boot (addresses move with KASLR on every boot)"
    if provenance.get("modules_digest") != modules:
        return True, "modules were loaded or unloaded since the table was built"
    return False, f"matches the running kernel {release} (same boot, same modules)"
