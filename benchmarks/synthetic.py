"""Deterministic synthetic kernel-like symbol lists for benchmarks."""

import random

_SUBSYSTEMS = ["tcp", "udp", "ip", "ipv6", "net", "sock", "skb", "ext4", "xfs", "btrfs", "nfs",
               "vfs", "mm", "page", "folio", "sched", "rcu", "irq", "pci", "usb", "drm", "i915",
               "amdgpu", "nvme", "blk", "bio", "scsi", "ata", "kvm", "x86", "acpi", "cpu", "dev",
               "bpf", "trace", "perf", "kprobe", "ftrace", "crypto", "security", "selinux", "audit"]
_VERBS = ["init", "exit", "alloc", "free", "get", "put", "read", "write", "open", "release",
          "show", "store", "probe", "remove", "lookup", "insert", "update", "handle", "process",
          "queue", "submit", "complete", "start", "stop", "enable", "disable", "set", "clear"]
_NOUNS = ["buffer", "entry", "state", "node", "list", "table", "ops", "work", "timer", "lock",
          "request", "device", "driver", "inode", "dentry", "file", "page", "map", "ring", "stats"]
_SUFFIXES = ["", "", "", "", "", "", "", "", ".isra.0", ".constprop.0", ".part.0", ".cold",
             ".llvm.%d", ".lto_priv.0"]


def kernel_like_records(count, seed=1):
    """``count`` records (address, type, name, None) in address order, with the
    shapes of a real kernel: __pfx_ twins, subsystem_verb_noun names, GCC and
    LLVM suffixes, some duplicate names."""
    rng = random.Random(seed)
    records = []
    address = 0xFFFFFFFF81000000
    seen = 0
    while len(records) < count:
        name = f"{rng.choice(_SUBSYSTEMS)}_{rng.choice(_VERBS)}_{rng.choice(_NOUNS)}"
        if rng.random() < 0.5:
            name += f"_{rng.choice(_NOUNS)}"
        if rng.random() < 0.3:
            name += str(rng.randrange(100))
        suffix = rng.choice(_SUFFIXES)
        if "%d" in suffix:
            suffix %= rng.getrandbits(63)
        name = f"{name}{suffix}"
        if rng.random() < 0.01:
            name = f"{name}_{seen}"  # keep the table from saturating the vocabulary
        seen += 1
        if rng.random() < 0.45 and len(records) + 2 <= count:
            records.append((address, "T", "__pfx_" + name, None))
            address += 16
        records.append((address, rng.choice("TTTtttWr"), name, None))
        address += rng.randrange(16, 2048, 16)
    return records[:count]
