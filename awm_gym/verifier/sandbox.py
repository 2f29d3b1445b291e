"""The kernel-enforced sandbox a verification runs in, and the isolation levels a machine allows.

Levels (:class:`IsolationLevel`, strongest first):

- ``namespaces``: the job process is PID 1 of its own PID namespace (it sees and can signal nothing
  else, and everything it starts dies with it), in its own network namespace (no interface but a
  down loopback), IPC and UTS namespaces, and its own mount namespace whose root is an empty read-only
  tmpfs holding only: the Python standard library and ``/usr`` (read-only, for imports; every ``site-packages``
and ``dist-packages`` directory in them hidden under an empty read-only tmpfs, since installed packages may
hold scenario packs and reference solutions), ``/dev/null``,
  ``/dev/urandom``, the job's two database copies in ``/job`` (read-only) and a private
  64 MiB scratch tmpfs in ``/tmp`` (the working directory). No ``/proc``, ``/etc``, ``/home``, ``/root``
  or the scenario files. Then it drops to uid/gid 65534 (when started as root; inside a user namespace
  otherwise, with every capability dropped), sets ``no_new_privs`` and loads a seccomp filter.
- ``seccomp``: namespaces are unavailable (e.g. a container without user namespaces): the same
  credentials drop, seccomp filter and limits, but the filesystem is the host's as uid 65534 sees it.
- ``none``: no kernel isolation (only the audit hook and resource limits); used only when asked for
  explicitly (``AWM_GYM_VERIFIER_ISOLATION=none``), with a warning.

The seccomp filter (libseccomp, through ``pyseccomp``) refuses with ``EPERM``: socket creation, process
creation (``fork``, ``vfork``, ``clone``, ``clone3``) and ``execve``, every way to signal or inspect another
process (``kill``, ``tkill``, ``tgkill``, ``pidfd_*``, ``ptrace``, ``process_vm_*``), namespace and mount
changes, ``setsid``/``setpgid``, device and FIFO creation (``mknod``), keyrings, ``bpf``, ``perf_event_open``,
``userfaultfd``, ``io_uring``, memory files (``memfd_create``: their pages escape the address-space limit) and
making a descriptor signal its owner (``F_SETOWN``, ``F_SETSIG``, ``FIOSETOWN``: a signal path to any process of
the same uid). Every level also sets resource limits (CPU seconds, address space,
file size, open files, processes, no core dumps).

Python 3.11 has no ``os.unshare``, and ``bwrap`` can only ``exec`` a fresh interpreter (tens of
milliseconds of CPU per verification), so the namespace steps call libc's ``unshare``, ``mount``,
``umount2`` and ``pivot_root`` through :mod:`ctypes`, in a child forked ahead of time from the pre-imported
worker: the whole setup is off the verification's path.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import enum
import errno
import functools
import os
import platform
import resource
import sys
import sysconfig
from typing import Any

__all__ = [
    "SCRATCH_DIR",
    "UNPRIVILEGED_ID",
    "IsolationLevel",
    "drop_privileges",
    "enter_namespaces",
    "load_seccomp",
    "make_root",
    "prepare",
    "prepare_seccomp",
    "set_limits",
    "unshare_namespaces",
]


class IsolationLevel(enum.StrEnum):
    """How strongly a verification is isolated (strongest first)."""

    NAMESPACES = "namespaces"
    SECCOMP = "seccomp"
    NONE = "none"


UNPRIVILEGED_ID = 65534  # "nobody"
SCRATCH_DIR = "/tmp"  # noqa: S108 - inside the sandbox: a private tmpfs
JOB_DIR = "/job"
_SCRATCH_SIZE = "64m"
_DEVICES = ("/dev/null", "/dev/urandom")

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUTS = 0x04000000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18
_MNT_DETACH = 2
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_DUMPABLE = 4
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
_SYS_CAPSET = {"x86_64": 126, "aarch64": 91}

_libc: Any = None


def _lib() -> Any:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    return _libc


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    _check(_lib().mount(encode(source), encode(target), encode(fstype), flags, encode(data)), f"mount {target}")


def unshare_namespaces() -> None:
    """Enter new mount, PID, network, IPC and UTS namespaces (plus a user namespace when not root).

    Only the next forked child lives in the new PID namespace (as its PID 1).
    """
    flags = _CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS
    uid, gid = os.getuid(), os.getgid()
    if uid != 0:
        flags |= _CLONE_NEWUSER
    _check(_lib().unshare(flags), "unshare")
    if uid != 0:  # map our own ids only (all an unprivileged process may map)
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(text)


@functools.lru_cache(maxsize=1)
def _stdlib_dirs() -> list[str]:
    # The base interpreter's library only: a virtualenv's site-packages may hold the scenario packs.
    paths = {sysconfig.get_paths()["stdlib"], *sys.path}
    paths = {os.path.realpath(p) for p in paths if p and os.path.isdir(p)}
    base = os.path.realpath(sys.base_prefix)
    return sorted(p for p in paths if p.startswith(base + os.sep) and "site-packages" not in p)


@functools.lru_cache(maxsize=1)
def _package_dirs() -> list[str]:
    """Where installed packages live (scenario packs and awm-gym's own data among them): hidden in the sandbox."""
    import glob
    import site

    found = {*site.getsitepackages(), *(p for p in sys.path if p.endswith(("site-packages", "dist-packages")))}
    for prefix in {"/usr", "/usr/local", sys.base_prefix, sys.prefix}:
        for kind in ("site-packages", "dist-packages"):
            found.update(glob.glob(f"{prefix}/lib*/python3*/{kind}"))
    return sorted({os.path.realpath(p) for p in found if os.path.isdir(p)})


def _bind(source: str, root: str, *, at: str | None = None, writable_device: bool = False) -> None:
    target = root + (at or source)
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "a"):
            pass
    _mount(source, target, None, _MS_BIND | _MS_REC)
    # A read-only remount must keep the flags the source mount already has (locked in a user namespace).
    kept = os.statvfs(source).f_flag & (_MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    flags = _MS_REMOUNT | _MS_BIND | _MS_NOSUID | kept
    if not writable_device:
        flags |= _MS_RDONLY | _MS_NODEV
    _mount(None, target, None, flags)


def make_root(root: str, job_dir: str) -> None:
    """Build the sandbox's filesystem on the empty directory ``root`` and make it ``/`` (see the module doc).

    Must run in a new mount namespace. ``job_dir`` (a host directory) becomes ``/job``, read-only.
    """
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=1m,mode=0755")
    bound: list[str] = []
    for source in ["/usr", *_stdlib_dirs()]:  # parents first; a bind already shows what is below it
        if os.path.isdir(source) and not any(source == b or source.startswith(b + "/") for b in bound):
            _bind(source, root)
            bound.append(source)
    for hidden in _package_dirs():
        if any(hidden == b or hidden.startswith(b + "/") for b in bound):
            flags = _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
            _mount("tmpfs", root + hidden, "tmpfs", flags, "size=4k,mode=0555")
    for name in ("lib", "lib64", "bin"):  # usually symlinks into /usr
        if os.path.islink(f"/{name}"):
            os.symlink(os.readlink(f"/{name}"), f"{root}/{name}")
    for device in _DEVICES:
        if os.path.exists(device):
            _bind(device, root, writable_device=True)
    _bind(job_dir, root, at=JOB_DIR)
    if os.path.islink("/etc/localtime"):  # local time as outside (the zone files are under /usr)
        os.makedirs(root + "/etc")
        os.symlink(os.readlink("/etc/localtime"), root + "/etc/localtime")
    os.makedirs(root + SCRATCH_DIR)
    _mount("tmpfs", root + SCRATCH_DIR, "tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, f"size={_SCRATCH_SIZE},mode=1777")
    _mount(None, root, None, _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
    os.chdir(root)
    number = _SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(errno.ENOSYS, f"pivot_root: unknown syscall number on {platform.machine()}")
    _check(_lib().syscall(number, b".", b"."), "pivot_root")  # the old root now sits under the new one
    _check(_lib().umount2(b".", _MNT_DETACH), "umount old root")
    os.chdir(SCRATCH_DIR)


def enter_namespaces(root: str, job_dir: str) -> None:
    """In PID 1 of the new namespaces: the filesystem view (``make_root``) and a hostname."""
    make_root(root, job_dir)
    _check(_lib().sethostname(b"sandbox", 7), "sethostname")


def drop_privileges() -> None:
    """Become uid/gid 65534 with no supplementary groups (as root), or drop every capability (otherwise)."""
    if os.getuid() == 0:
        os.setgroups([])
        os.setresgid(UNPRIVILEGED_ID, UNPRIVILEGED_ID, UNPRIVILEGED_ID)
        os.setresuid(UNPRIVILEGED_ID, UNPRIVILEGED_ID, UNPRIVILEGED_ID)  # clears every capability
    else:
        number = _SYS_CAPSET.get(platform.machine())
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
        data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable = 0 (two 32-bit words each)
        if number is None or _lib().syscall(number, header, data) != 0:
            raise OSError(ctypes.get_errno(), "capset: could not drop capabilities")
    _check(_lib().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    _check(_lib().prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0), "prctl(DUMPABLE)")


_DENIED_SYSCALLS = (
    # network
    "socket", "socketpair",
    # processes and programs
    "fork", "vfork", "clone", "execve", "execveat",
    # other processes: signals, pidfds, tracing, memory
    "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_open", "pidfd_send_signal",
    "pidfd_getfd", "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
    # sessions, namespaces, mounts, roots
    "setsid", "setpgid", "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "open_tree",
    "move_mount", "fsopen", "fsmount", "fsconfig", "fspick", "mount_setattr",
    # devices, FIFOs, kernel facilities; memory files (shared memory outside the address-space limit)
    "memfd_create", "memfd_secret",
    "mknod", "mknodat", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "init_module", "finit_module", "delete_module",
    "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "acct", "quotactl", "personality",
    "syslog", "vhangup", "name_to_handle_at", "open_by_handle_at", "lookup_dcookie", "fanotify_init",
)  # fmt: skip


# Signals by file ownership: a descriptor's owner gets SIGIO (or any signal F_SETSIG picks) on I/O, a signal path
# to any process of the same uid that kill() refusal does not close (at the seccomp level: other jobs).
_DENIED_COMMANDS = (
    ("fcntl", 8),  # F_SETOWN
    ("fcntl", 10),  # F_SETSIG
    ("fcntl", 15),  # F_SETOWN_EX
    ("ioctl", 0x8901),  # FIOSETOWN
    ("ioctl", 0x8902),  # SIOCSPGRP
)

_filter: Any = None


def prepare() -> None:
    """In the worker, before any sandbox: what a sandbox cannot look up itself (it has lost the right to).

    Raises:
        ImportError: ``pyseccomp`` is not installed.
        RuntimeError: libseccomp is missing (``apt-get install libseccomp2``).
    """
    _lib()  # finding libc runs ldconfig (a fork and an exec): once here, not in every sandbox
    _stdlib_dirs()
    _package_dirs()
    prepare_seccomp()


def prepare_seccomp() -> None:
    """Build the filter of the module docstring once (in the worker), so a sandbox only has to load it.

    Raises:
        ImportError: ``pyseccomp`` is not installed.
        RuntimeError: libseccomp is missing (``apt-get install libseccomp2``).
    """
    global _filter
    if _filter is not None:
        return
    import pyseccomp

    syscall_filter = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    for name in _DENIED_SYSCALLS:
        try:
            syscall_filter.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
        except (OSError, ValueError):  # unknown on this architecture
            continue
    syscall_filter.add_rule(pyseccomp.ERRNO(errno.ENOSYS), "clone3")  # so libc falls back to clone, refused above
    for name, command in _DENIED_COMMANDS:  # the kernel reads the command as 32 bits: compare only those
        only_command = pyseccomp.Arg(1, pyseccomp.MASKED_EQ, 0xFFFFFFFF, command)
        syscall_filter.add_rule(pyseccomp.ERRNO(errno.EPERM), name, only_command)
    _filter = syscall_filter


def load_seccomp() -> None:
    """Load the filter (built by :func:`prepare_seccomp`, here if not yet) into this process, for good."""
    prepare_seccomp()
    _filter.load()


def set_limits(*, cpu_seconds: int, memory: int, file_size: int, open_files: int) -> None:
    """Resource limits of a job process (hard and soft), including no processes and no core dumps."""
    limits = (
        (resource.RLIMIT_CPU, cpu_seconds),
        (resource.RLIMIT_AS, memory),
        (resource.RLIMIT_FSIZE, file_size),
        (resource.RLIMIT_NOFILE, open_files),
        (resource.RLIMIT_NPROC, 0),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_MEMLOCK, 0),
        (resource.RLIMIT_MSGQUEUE, 0),
    )
    for which, value in limits:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):  # a hard limit already lower, or not permitted here
            pass
