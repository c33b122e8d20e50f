#!/usr/bin/env python3
"""Fetch a real Debian kernel image for pysyms' tests (issue 5).

On a Debian machine (root, a reachable Debian mirror) this downloads, with
``apt-get download``, the kernel image package that a kernel meta package
depends on (``linux-image-cloud-amd64`` by default; ``linux-image-ARCH`` for
``--arch arm64`` or ``--arch s390x``), extracts its ``/boot/vmlinuz-*`` (and
the small ``/boot/config-*``) and stores them in a cache directory together
with ``manifest.json`` (package, version, sizes, sha256 of every file).

    tools/fetch_debian_kernel.py                     # amd64 cloud kernel
    tools/fetch_debian_kernel.py --with-system-map   # + System.map from -dbg
    tools/fetch_debian_kernel.py --with-debug-elf    # + the -dbg vmlinux and 3 modules
    tools/fetch_debian_kernel.py --arch arm64        # foreign architecture

Cache: ``--cache-dir``, else ``$PYSYMS_KERNEL_CACHE``, else
``~/.cache/pysyms/kernels``; one subdirectory per distribution release and
architecture (``debian-12-amd64``).  When the manifest and its files are
there (checksums verified) nothing is downloaded.

``--with-system-map`` also downloads the matching ``-dbg`` package (about
280 MB; the ``System.map`` in the image package is a stub) and keeps only
its ``System.map``: the data archive is streamed through ``tarfile`` and
every other member skipped, and the ``.deb`` is deleted at once.
``--with-debug-elf`` keeps, from the same pass, the package's ``vmlinux``
(the ELF file with its full ``.symtab``, about 590 MB) and its first three
``.ko`` modules: real kernel ELF files for the ELF symbol table reader.

A foreign architecture is added with ``dpkg --add-architecture`` and
``apt-get update`` for the download, then removed again (and the package
lists updated) so that the machine is left as it was.

Importable: ``fetch(cache_dir=None, ...)`` returns a dict of paths;
``cached(cache_dir=None, arch="amd64")`` returns the same from the cache
alone (``None`` when absent) and never touches the network.

Exit status: 0 on success, 1 when a step fails (the message says which and
why), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
ARCH_META = {
    "amd64": "linux-image-cloud-amd64",
    "arm64": "linux-image-arm64",
    "s390x": "linux-image-s390x",
}
COMMAND_TIMEOUT = 3600  # seconds; the -dbg package is hundreds of MB


class FetchError(Exception):
    """A step failed; the message says which and why."""


def log(message: str) -> None:
    print(f"fetch_debian_kernel: {message}", file=sys.stderr, flush=True)


# ---- small helpers ----------------------------------------------------------


def default_cache_dir() -> Path:
    env = os.environ.get("PYSYMS_KERNEL_CACHE")
    if env:
        return Path(env).expanduser()
    return Path("~/.cache/pysyms/kernels").expanduser()


def os_release() -> dict:
    info = {}
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return info
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            info[key.strip()] = value.strip().strip('"')
    return info


def release_dir_name(arch: str) -> str:
    info = os_release()
    return f"{info.get('ID', 'unknown')}-{info.get('VERSION_ID', 'unknown')}-{arch}"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def run(cmd, *, cwd=None, what=None, check=True, timeout=COMMAND_TIMEOUT):
    """Run a command, capturing its output; FetchError (naming what failed and
    the tail of its output) when it exits non-zero."""
    try:
        result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, errors="replace",
                                timeout=timeout, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive",
                                                          LC_ALL="C"))
    except FileNotFoundError:
        raise FetchError(f"{cmd[0]} is not installed: this script needs a Debian system (apt, dpkg)") from None
    except subprocess.TimeoutExpired:
        raise FetchError(f"{what or cmd[0]} did not finish within {timeout} s") from None
    if check and result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-12:])
        raise FetchError(f"{what or ' '.join(cmd)} failed (exit {result.returncode}):\n{tail}")
    return result


def network_hint(text: str) -> str:
    markers = ("Could not resolve", "Temporary failure resolving", "Failed to fetch", "Connection failed",
               "Could not connect", "Unable to connect", "Network is unreachable", "timed out")
    if any(m in text for m in markers):
        return " (the Debian mirror looks unreachable: check the network and /etc/apt/sources.list*)"
    return ""


def apt_options() -> list:
    # As root, download as root: apt otherwise warns that its sandbox user
    # cannot write to our private temporary directory.
    opts = ["-q", "-o", "Acquire::Retries=3"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        opts += ["-o", "APT::Sandbox::User=root"]
    return opts


def apt_update() -> None:
    log("apt-get update ...")
    start = time.monotonic()
    result = run(["apt-get", *apt_options(), "update"], what="apt-get update", check=False)
    text = result.stdout + result.stderr
    if result.returncode != 0:
        raise FetchError(f"apt-get update failed (exit {result.returncode}){network_hint(text)}:\n"
                         + "\n".join(text.strip().splitlines()[-12:]))
    if "Failed to fetch" in text or "Some index files failed" in text:
        log("warning: apt-get update could not fetch every index" + network_hint(text))
    _SHOW_CACHE.clear()
    log(f"apt-get update done in {time.monotonic() - start:.1f} s")


_SHOW_CACHE = {}


def apt_show(package: str) -> dict | None:
    """The candidate version's control fields of a package, or None when apt
    does not know it (remembered until the next apt_update)."""
    if package not in _SHOW_CACHE:
        _SHOW_CACHE[package] = _apt_show(package)
    return _SHOW_CACHE[package]


def _apt_show(package: str) -> dict | None:
    result = run(["apt-cache", "show", "--no-all-versions", package], check=False)
    if result.returncode != 0 or not result.stdout.strip():
        return None
    fields = {}
    key = None
    for line in result.stdout.splitlines():
        if not line.strip():
            break  # the first stanza is the candidate
        if line[0] in " \t" and key:
            fields[key] += "\n" + line.strip()
            continue
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def kernel_dependency(meta: str, arch: str) -> str:
    """The concrete linux-image-<abi>-<flavour> package that meta depends on."""
    fields = apt_show(f"{meta}:{arch}")
    if fields is None:
        raise FetchError(f"apt does not know {meta}:{arch}: the package lists lack it "
                         f"(run apt-get update, or check that the {arch} architecture is configured)")
    for alternative in fields.get("Depends", "").replace("|", ",").split(","):
        name = alternative.strip().split(" ")[0].split(":")[0]
        if name.startswith("linux-image-") and name != meta:
            return name
    raise FetchError(f"{meta} {fields.get('Version')} has no linux-image-* dependency: Depends: "
                     f"{fields.get('Depends')!r}")


def apt_download(package: str, arch: str, dest: Path) -> tuple:
    """apt-get download package:arch into dest; returns (path, seconds)."""
    fields = apt_show(f"{package}:{arch}")
    if fields is None:
        raise FetchError(f"apt does not know {package}:{arch}")
    size = int(fields.get("Size", "0") or 0)
    log(f"downloading {package}:{arch} {fields.get('Version')} ({size / 1e6:.1f} MB) ...")
    start = time.monotonic()
    result = run(["apt-get", *apt_options(), "download", f"{package}:{arch}"], cwd=dest, check=False)
    seconds = time.monotonic() - start
    if result.returncode != 0:
        text = result.stdout + result.stderr
        raise FetchError(f"apt-get download {package}:{arch} failed (exit {result.returncode})"
                         f"{network_hint(text)}:\n" + "\n".join(text.strip().splitlines()[-12:]))
    debs = sorted(dest.glob(f"{package}_*.deb"))
    if not debs:
        raise FetchError(f"apt-get download {package}:{arch} left no .deb in {dest}")
    deb = debs[0]
    got = deb.stat().st_size
    log(f"downloaded {deb.name}: {got / 1e6:.1f} MB in {seconds:.1f} s ({got / 1e6 / max(seconds, 1e-3):.1f} MB/s)")
    return deb, seconds


def extract_members(deb: Path, wanted, dest: Path) -> dict:
    """Stream the .deb's data archive (dpkg-deb --fsys-tarfile) and write
    the regular-file members for which wanted(name) returns a file name into
    dest.  Stops reading as soon as every wanted member has been seen when
    wanted.done() says so.  Returns {member name: written path}."""
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    found = {}
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                target = wanted(member.name) if member.isfile() else None
                if target is None:
                    continue
                path = dest / target
                src = tar.extractfile(member)
                with open(path, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                found[member.name] = path
                if getattr(wanted, "done", lambda: False)():
                    break
    finally:
        if proc.poll() is None:
            proc.kill()  # the rest of the archive is not needed
        proc.stdout.close()
        stderr = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        code = proc.wait()
    if not found and code != 0:
        raise FetchError(f"dpkg-deb --fsys-tarfile {deb.name} failed (exit {code}): {stderr.strip()}")
    return found


def describe_image(path: Path) -> dict:
    """What kind of boot image a vmlinuz is, from its magic numbers alone
    (the test suite checks the same with pysyms.bootimage)."""
    with open(path, "rb") as f:
        head = f.read(0x10010)
    info = {"first_bytes": head[:16].hex()}
    payload_magics = [(b"\x1f\x8b", "gzip"), (b"\xfd7zXZ\x00", "xz"), (b"\x5d\x00\x00", "lzma"),
                      (b"BZh", "bzip2"), (b"\x28\xb5\x2f\xfd", "zstd"), (b"\x02\x21\x4c\x18", "lz4-legacy")]
    if len(head) >= 0x250 and head[0x202:0x206] == b"HdrS":
        setup_sects = head[0x1F1] or 4
        pm_start = (setup_sects + 1) * 512
        payload_offset = int.from_bytes(head[0x248:0x24C], "little")
        payload_length = int.from_bytes(head[0x24C:0x250], "little")
        with open(path, "rb") as f:
            f.seek(pm_start + payload_offset)
            magic = f.read(8)
        compressor = next((name for m, name in payload_magics if magic.startswith(m)), f"unknown ({magic.hex()})")
        info.update(format="x86 bzImage", protocol=f"{head[0x207]}.{head[0x206]:02d}",
                    payload_offset=pm_start + payload_offset, payload_length=payload_length,
                    compressor=compressor)
    elif head[0x38:0x3C] == b"ARMd":
        info.update(format="arm64 Image (uncompressed)" + (", PE/EFI stub" if head[:2] == b"MZ" else ""))
    elif head[:2] == b"MZ" and head[4:8] == b"zimg":
        info.update(format="EFI zboot image", compressor=head[0x18:0x20].rstrip(b"\0").decode(errors="replace"))
    elif head[0x10008:0x1000E] == b"S390EP":
        info.update(format="s390 image ('S390EP' at 0x10008): decompressor, then the compressed kernel")
    elif head[:2] == b"\x1f\x8b":
        with gzip.open(path) as g:
            inner = g.read(0x40)
        info.update(format="gzip", compressor="gzip",
                    inner="arm64 Image" if inner[0x38:0x3C] == b"ARMd" else f"unknown ({inner[:16].hex()})")
    elif head[:4] == b"\x7fELF":
        info.update(format="ELF")
    else:
        info.update(format="unknown")
    return info


# ---- the cache ---------------------------------------------------------------


def _paths(directory: Path, manifest: dict) -> dict:
    paths = {"dir": directory, "manifest": directory / MANIFEST}
    for key, entry in manifest.get("files", {}).items():
        paths[key] = directory / entry["name"]
    return paths


def _verified(directory: Path, manifest: dict, keys) -> bool:
    files = manifest.get("files", {})
    for key in keys:
        entry = files.get(key)
        if entry is None:
            return False
        path = directory / entry["name"]
        if not path.is_file() or path.stat().st_size != entry["size"] or sha256_file(path) != entry["sha256"]:
            return False
    return True


def load_manifest(directory: Path) -> dict | None:
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("manifest_format") != MANIFEST_FORMAT:
        return None
    return manifest


def cached(cache_dir=None, arch: str = "amd64", *, with_system_map: bool = False,
           with_debug_elf: bool = False) -> dict | None:
    """The cached kernel of this release and arch (paths as fetch() returns
    them), or None when absent or incomplete.  Never uses the network."""
    directory = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    directory = directory / release_dir_name(arch)
    manifest = load_manifest(directory)
    if manifest is None:
        return None
    keys = ["vmlinuz"] + (["system_map"] if with_system_map else [])
    if with_debug_elf:
        keys += debug_elf_keys(manifest) or ["vmlinux_elf"]
    if not _verified(directory, manifest, keys):
        return None
    return _paths(directory, manifest)


def _store(directory: Path, src: Path, name: str, **extra) -> dict:
    target = directory / name
    tmp = directory / (name + ".part")
    shutil.move(str(src), tmp)
    os.replace(tmp, target)
    entry = {"name": name, "size": target.stat().st_size, "sha256": sha256_file(target)}
    entry.update(extra)
    return entry


def _write_manifest(directory: Path, manifest: dict) -> None:
    tmp = directory / (MANIFEST + ".part")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, directory / MANIFEST)


# ---- fetching ----------------------------------------------------------------


def _fetch_image(directory: Path, arch: str, meta: str, work: Path) -> dict:
    image_pkg = kernel_dependency(meta, arch)
    fields = apt_show(f"{image_pkg}:{arch}")
    candidates = [image_pkg]
    if not image_pkg.endswith("-unsigned"):
        candidates.append(image_pkg + "-unsigned")
    for package in candidates:
        if apt_show(f"{package}:{arch}") is None:
            continue
        deb, seconds = apt_download(package, arch, work)
        fields = apt_show(f"{package}:{arch}")
        deb_size = deb.stat().st_size

        def wanted(name):
            base = name.lstrip("./")
            # (its /boot/System.map-* is a stub: the real one is in the -dbg package)
            if base.startswith(("boot/vmlinuz-", "boot/vmlinux-", "boot/config-")):
                return base.split("/", 1)[1] + ".new"
            return None

        extract_start = time.monotonic()
        found = extract_members(deb, wanted, work)
        extract_seconds = time.monotonic() - extract_start
        deb.unlink()
        if not any(path.name.startswith(("vmlinuz-", "vmlinux-")) for path in found.values()):
            log(f"{package} carries no /boot/vmlinuz-*; trying the next candidate")
            for path in found.values():
                path.unlink()
            continue
        files = {}
        for member, path in found.items():
            name = path.name[: -len(".new")]
            key = "vmlinuz" if name.startswith(("vmlinuz-", "vmlinux-")) else "config"
            files[key] = _store(directory, path, name, member="/" + member.lstrip("./"))
        release = files["vmlinuz"]["name"].split("-", 1)[1]
        image = describe_image(directory / files["vmlinuz"]["name"])
        log(f"stored {files['vmlinuz']['name']} ({files['vmlinuz']['size'] / 1e6:.1f} MB): {image}")
        return {
            "manifest_format": MANIFEST_FORMAT,
            "distribution": os_release().get("PRETTY_NAME", "unknown"),
            "arch": arch,
            "meta_package": meta,
            "package": package,
            "version": fields.get("Version") if fields else None,
            "source": fields.get("Source") if fields else None,
            "kernel_release": release,
            "deb_size": deb_size,
            "download_seconds": round(seconds, 1),
            "extract_seconds": round(extract_seconds, 1),
            "image": image,
            "files": files,
        }
    raise FetchError(f"none of {', '.join(candidates)} carries /boot/vmlinuz-*")


DEBUG_MODULES = 3  # debug .ko files kept with --with-debug-elf: the first ones the archive holds


def _fetch_system_map(directory: Path, manifest: dict, work: Path, with_debug_elf: bool = False) -> None:
    """The real System.map from the -dbg package and, with with_debug_elf,
    its vmlinux (ELF with .symtab, ~590 MB) and the first DEBUG_MODULES
    kernel modules (.ko with .symtab): all from one pass over the archive,
    which holds them next to each other near its start."""
    arch = manifest["arch"]
    release = manifest["kernel_release"]
    package = f"linux-image-{release}-dbg"
    fields = apt_show(f"{package}:{arch}")
    if fields is None:
        raise FetchError(f"apt does not know {package}:{arch}, which would carry the real System.map")
    if fields.get("Version") != manifest["version"]:
        log(f"warning: {package} is version {fields.get('Version')}, the image {manifest['version']}")
    deb, seconds = apt_download(package, arch, work)
    deb_size = deb.stat().st_size
    suffix = f"System.map-{release}"
    elf_name = f"vmlinux-{release}"
    modules = []

    def wanted(name):
        base = name.rsplit("/", 1)[-1]
        if base == suffix:
            wanted.seen.add("system_map")
            return suffix + ".new"
        if with_debug_elf and name.endswith("/boot/" + elf_name):
            wanted.seen.add("vmlinux_elf")
            return elf_name + ".new"
        if with_debug_elf and base.endswith(".ko") and len(modules) < DEBUG_MODULES:
            modules.append(base)
            return base + ".new"
        return None

    wanted.seen = set()
    wanted.done = lambda: "system_map" in wanted.seen and (
        not with_debug_elf or ("vmlinux_elf" in wanted.seen and len(modules) >= DEBUG_MODULES))
    start = time.monotonic()
    found = extract_members(deb, wanted, work)
    extract_seconds = time.monotonic() - start
    deb.unlink()
    if "system_map" not in wanted.seen:
        raise FetchError(f"{package} holds no {suffix}")
    if with_debug_elf and "vmlinux_elf" not in wanted.seen:
        raise FetchError(f"{package} holds no {elf_name}")
    for member, path in found.items():
        name = path.name[: -len(".new")]
        key = ("system_map" if name == suffix else "vmlinux_elf" if name == elf_name
               else "debug_module:" + name)
        manifest["files"][key] = _store(
            directory, path, name, member="/" + member.lstrip("./"), package=package,
            version=fields.get("Version"), deb_size=deb_size, download_seconds=round(seconds, 1),
            extract_seconds=round(extract_seconds, 1))
        log(f"stored {name} ({manifest['files'][key]['size'] / 1e6:.1f} MB)")
    log(f"streamed from the data archive in {extract_seconds:.1f} s, .deb deleted")


def debug_elf_keys(manifest: dict) -> list:
    """The manifest keys of the debug ELF files (vmlinux and modules), or []
    when they were not fetched."""
    files = manifest.get("files", {})
    modules = sorted(k for k in files if k.startswith("debug_module:"))
    return ["vmlinux_elf"] + modules if "vmlinux_elf" in files and modules else []


class _ForeignArch:
    """dpkg --add-architecture for the duration of a with block (only when
    the architecture is not configured already), apt-get update on entry
    and again after removing it."""

    def __init__(self, arch: str):
        self.arch = arch
        self.added = False
        self.updated = False  # the package lists were refreshed on entry

    def __enter__(self):
        native = run(["dpkg", "--print-architecture"]).stdout.strip()
        foreign = run(["dpkg", "--print-foreign-architectures"]).stdout.split()
        if self.arch == native or self.arch in foreign:
            return self
        log(f"dpkg --add-architecture {self.arch} (removed again afterwards)")
        run(["dpkg", "--add-architecture", self.arch], what=f"dpkg --add-architecture {self.arch}")
        self.added = True
        try:
            apt_update()
            self.updated = True
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info):
        if not self.added:
            return False
        self.added = False
        log(f"dpkg --remove-architecture {self.arch}")
        result = run(["dpkg", "--remove-architecture", self.arch], check=False)
        if result.returncode != 0:
            log(f"warning: dpkg --remove-architecture {self.arch} failed: {result.stderr.strip()}")
        try:
            apt_update()
        except FetchError as exc:
            log(f"warning: the final apt-get update failed: {exc}")
        return False


def fetch(cache_dir=None, *, arch: str = "amd64", with_system_map: bool = False, meta: str | None = None,
          force: bool = False, with_debug_elf: bool = False) -> dict:
    """Make sure the cache holds the kernel image (and System.map when asked)
    and return their paths: {"dir", "manifest", "vmlinuz", "config", ...,
    "system_map"}.  Downloads only what is missing; FetchError on failure."""
    if arch not in ARCH_META and meta is None:
        raise FetchError(f"unknown architecture {arch!r} (known: {', '.join(ARCH_META)}; or give meta=)")
    meta = meta or ARCH_META[arch]
    root = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    directory = root / release_dir_name(arch)
    manifest = None if force else load_manifest(directory)
    have_image = manifest is not None and _verified(directory, manifest, ["vmlinuz"])
    with_system_map = with_system_map or with_debug_elf
    have_map = have_image and _verified(directory, manifest, ["system_map"])
    have_elf = have_map and bool(debug_elf_keys(manifest)) and _verified(directory, manifest,
                                                                          debug_elf_keys(manifest))
    if have_image and (have_map or not with_system_map) and (have_elf or not with_debug_elf):
        log(f"cached: {directory} ({manifest['package']} {manifest['version']}); nothing to download")
        return _paths(directory, manifest)
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise FetchError("apt-get and dpkg-deb are needed: this script runs on Debian")
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pysyms-kernel-", dir=directory) as tmp:
        work = Path(tmp)
        with _ForeignArch(arch) as foreign:
            if not have_image:
                try:
                    manifest = _fetch_image(directory, arch, meta, work)
                except FetchError as exc:
                    # stale package lists: the mirror dropped the version they name
                    if foreign.updated or not any(s in str(exc) for s in ("404", "does not know")):
                        raise
                    log(f"{exc}\nretrying after apt-get update")
                    apt_update()
                    manifest = _fetch_image(directory, arch, meta, work)
                _write_manifest(directory, manifest)
            if (with_system_map and not have_map) or (with_debug_elf and not have_elf):
                _fetch_system_map(directory, manifest, work, with_debug_elf)
                _write_manifest(directory, manifest)
    _remove_stale(directory, manifest)
    return _paths(directory, manifest)


def _remove_stale(directory: Path, manifest: dict) -> None:
    """Delete the files of an older kernel that a new manifest replaced."""
    keep = {MANIFEST} | {entry["name"] for entry in manifest.get("files", {}).values()}
    for path in directory.iterdir():
        if path.is_file() and path.name not in keep and path.name.startswith(
                ("vmlinuz-", "vmlinux-", "config-", "System.map-")):
            log(f"removing {path.name} (not in the manifest any more)")
            path.unlink()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache-dir", help="cache directory (default $PYSYMS_KERNEL_CACHE or "
                                            "~/.cache/pysyms/kernels)")
    parser.add_argument("--arch", default="amd64", help="Debian architecture (amd64, arm64, s390x)")
    parser.add_argument("--meta", help="kernel meta package to resolve (default: per architecture)")
    parser.add_argument("--with-system-map", action="store_true",
                        help="also fetch the real System.map from the -dbg package (~280 MB download)")
    parser.add_argument("--with-debug-elf", action="store_true",
                        help="also keep the -dbg package's vmlinux (ELF with .symtab, ~590 MB) and "
                             f"its first {DEBUG_MODULES} .ko modules (implies --with-system-map)")
    parser.add_argument("--force", action="store_true", help="download again even when cached")
    args = parser.parse_args(argv)
    start = time.monotonic()
    try:
        paths = fetch(args.cache_dir, arch=args.arch, with_system_map=args.with_system_map, meta=args.meta,
                      force=args.force, with_debug_elf=args.with_debug_elf)
    except FetchError as exc:
        log(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 1
    for key, path in sorted(paths.items()):
        print(f"{key}: {path}")
    log(f"done in {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
