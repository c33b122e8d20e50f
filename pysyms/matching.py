"""Suffix-aware symbol matching (issue #3): the pieces both implementations share.

Compilers rename local symbols: Clang LTO ``name.llvm.<hash>``, GCC clones
``name.isra.N``, ``.constprop.N``, ``.part.N``, ``.cold``, ``.lto_priv.N``,
LLVM ``.__uniq.<n>``...  A query may ask for the name as typed only, or
for those renamings too (DESIGN.md "Without suffix", "Clone suffixes",
"Ambiguity"):

``suffix='none'``
    exact names only (the kernel's ``kallsyms_on_each_match_symbol``).
``suffix='llvm'``
    exact names; when there are none, the names whose cut at their first
    ``.llvm.`` equals the query (``strip_llvm``).
``suffix='clone'``
    exact names; when there are none, the names whose cut at their first
    ``.`` equals the query (``strip_clone``), and also those ``'llvm'``
    reaches, so the wider policy is always a superset: ``foo.__uniq.1`` finds
    ``foo.__uniq.1.llvm.2`` under either.

Each match says how it matched (``kind``): ``'exact'``; ``'llvm'`` when the
name cut at its first ``.llvm.`` equals the query; ``'clone'`` otherwise.

A module filter (``module='x'`` or a query ``'x:name'``; ``'vmlinux'`` is the
core kernel) restricts the symbols FIRST, and exact-wins applies within that
module, as kprobes' ``MOD:SYM`` does: ``ext4:foo`` reaches ``foo.isra.0`` in
ext4 even when the core kernel has a plain ``foo``.
"""

import re
from collections import namedtuple

from .errors import AmbiguousSymbolError, SymbolNotFoundError

__all__ = [
    "ANY_MODULE",
    "CORE_MODULE_NAME",
    "KINDS",
    "Match",
    "SUFFIX_POLICIES",
    "glob_literal_prefix",
    "glob_regex",
    "match_kind",
    "parse_query",
    "policy_code",
    "select_match",
    "strip_clone",
    "strip_llvm",
]

SUFFIX_POLICIES = ("none", "llvm", "clone")  # index = KSYM_SUFFIX_* code
KINDS = ("exact", "llvm", "clone")  # index = KSYM_MATCH_* code
CORE_MODULE_NAME = "vmlinux"  # the name a module filter uses for the core kernel
ANY_MODULE = object()  # module filter: no restriction

_LLVM = b".llvm."


class Match(namedtuple("Match", "address name type module index kind")):
    """One answer of ``matches``/``lookup``: ``address`` (int), ``name`` (str),
    ``type`` (nm letter), ``module`` (str, or None for the core kernel),
    ``index`` (table index) and ``kind`` (``'exact'``, ``'llvm'``, ``'clone'``)."""

    __slots__ = ()

    def describe(self):
        module = self.module if self.module is not None else CORE_MODULE_NAME
        return f"{self.name} at {self.address:#x} [{module}] ({self.kind})"


def strip_llvm(name):
    """``name`` (bytes) cut at its first ``.llvm.``."""
    cut = name.find(_LLVM)
    return name if cut < 0 else name[:cut]


def strip_clone(name):
    """``name`` (bytes) cut at its first ``.``."""
    cut = name.find(b".")
    return name if cut < 0 else name[:cut]


def match_kind(name, query, policy):
    """How ``name`` matches ``query`` (both bytes) under ``policy``, by the
    definitions alone (no index): ``'exact'``, ``'llvm'``, ``'clone'`` or None.
    Exact-wins is the caller's business."""
    if name == query:
        return "exact"
    if policy == "none" or not query:
        return None
    if strip_llvm(name) == query:
        return "llvm"
    if policy == "clone" and strip_clone(name) == query:
        return "clone"
    return None


def policy_code(suffix):
    """The KSYM_SUFFIX_* code of a policy name; ValueError for anything else."""
    try:
        return SUFFIX_POLICIES.index(suffix)
    except ValueError:
        raise ValueError(f"suffix must be one of {', '.join(map(repr, SUFFIX_POLICIES))}, "
                         f"not {suffix!r}") from None


def parse_query(name, module=None):
    """Split a query into ``(name, module filter)``.

    ``module`` given: it is the filter and ``name`` is taken as is.  Else a
    ``str`` or ``bytes`` name ``'x:name'`` means module ``x`` (no kernel symbol
    name contains ``:``).  The filter is :data:`ANY_MODULE`, ``None`` (the core
    kernel, spelled ``'vmlinux'``) or a module name (str).
    """
    if module is None:
        if name.__class__ is str and ":" not in name:  # the common case, fast
            return name, ANY_MODULE
        sep = ":" if isinstance(name, str) else b":"
        if isinstance(name, (str, bytes)) and sep in name:
            module, name = name.split(sep, 1)
            if isinstance(module, bytes):
                module = module.decode("utf-8", "surrogateescape")
            if not module:
                raise ValueError(f"empty module name in query {name!r}")
        else:
            return name, ANY_MODULE
    if isinstance(module, bytes):
        module = module.decode("utf-8", "surrogateescape")
    if not isinstance(module, str):
        raise TypeError(f"module must be str, not {type(module).__name__}")
    return name, (None if module == CORE_MODULE_NAME else module)


def _describe_query(name, module, suffix):
    text = name if isinstance(name, str) else name.decode("utf-8", "surrogateescape")
    if module is not ANY_MODULE:
        text = f"{CORE_MODULE_NAME if module is None else module}:{text}"
    return f"{text!r} (suffix={suffix!r})"


def select_match(matches, name, module, suffix, sympos):
    """The one answer ``lookup`` gives from ``matches`` (address order).

    ``sympos=0``: the only match, else :class:`AmbiguousSymbolError` listing
    every candidate; ``sympos=N``: the N-th match (1-based).  No match, or
    ``N`` past the end: :class:`SymbolNotFoundError`.
    """
    if sympos.__class__ is not int:
        if not isinstance(sympos, int) or isinstance(sympos, bool):
            raise TypeError(f"sympos must be an int, not {type(sympos).__name__}")
        sympos = int(sympos)
    if sympos < 0:
        raise ValueError(f"sympos must be >= 0, not {sympos}")
    if len(matches) == 1 and sympos <= 1:  # the common case, fast
        return matches[0]
    query = _describe_query(name, module, suffix)
    if not matches:
        raise SymbolNotFoundError(f"no symbol matches {query}", name=name, sympos=sympos)
    if sympos == 0:
        if len(matches) > 1:
            lines = "\n".join(f"  {m.describe()}" for m in matches)
            raise AmbiguousSymbolError(
                f"{len(matches)} symbols match {query}; pick one with sympos=1..{len(matches)}"
                f" or a module:\n{lines}", name=name, candidates=matches)
        return matches[0]
    if sympos > len(matches):
        raise SymbolNotFoundError(f"sympos={sympos} but only {len(matches)} symbol(s) match {query}",
                                  name=name, sympos=sympos)
    return matches[sympos - 1]


# ---- ftrace-style globs ---------------------------------------------------------

_GLOB_SPECIAL = b"*?[]\\"


def glob_literal_prefix(pattern):
    """Bytes before the first of ``* ? [ ] \\``: every match begins with them."""
    for i, byte in enumerate(pattern):
        if byte in _GLOB_SPECIAL:
            return pattern[:i]
    return pattern


def _glob_class(pattern, i):
    """The class opening at ``pattern[i] == '['``: ``(set of bytes, end)`` with
    ``end`` just past the ``]``, or None when it never closes."""
    j = i + 1
    negate = j < len(pattern) and pattern[j] in b"!^"
    if negate:
        j += 1
    first = j
    members = set()
    while True:
        if j >= len(pattern):
            return None
        a = pattern[j]
        if a == ord("]") and j > first:
            break
        if j + 2 < len(pattern) and pattern[j + 1] == ord("-") and pattern[j + 2] != ord("]"):
            members.update(range(a, pattern[j + 2] + 1))  # empty when a > b
            j += 3
        else:
            members.add(a)
            j += 1
    if negate:
        members = set(range(256)) - members
    return members, j + 1


def glob_regex(pattern):
    """A compiled bytes regex that fully matches what the ftrace-style glob
    ``pattern`` (bytes) matches; see ``ksym_glob_match`` in csrc/ksym.h."""
    parts = []
    i = 0
    n = len(pattern)
    while i < n:
        byte = pattern[i]
        if byte == ord("*"):
            parts.append(b".*")
        elif byte == ord("?"):
            parts.append(b".")
        elif byte == ord("[") and (cls := _glob_class(pattern, i)) is not None:
            members, end = cls
            if members:
                parts.append(b"[" + b"".join(b"\\x%02x" % m for m in sorted(members)) + b"]")
            else:
                parts.append(b"(?!)")
            i = end
            continue
        elif byte == ord("\\") and i + 1 < n:
            i += 1
            parts.append(re.escape(pattern[i : i + 1]))
        else:
            parts.append(re.escape(pattern[i : i + 1]))
        i += 1
    return re.compile(b"".join(parts), re.DOTALL)
