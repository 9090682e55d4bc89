"""The sandbox server: a warm interpreter that runs one untrusted program per request.

This file is executed as a script (`python3 -s -c SOURCE`) by the sandbox's own interpreter,
on the host or inside a container, so it imports nothing but the standard library and is
never imported by the package. One server serves one slot, one program at a time.

Protocol (one JSON object per line on the server's stdin / stdout):
  host -> config  {"limits", "uid", "isolate", "exec_mode", "env", "exec_env", "hostname", "private_scratch",
                   "preload", "warm"}
  server -> {"ready": true, "python_version", "program_path", "isolation", "preloaded", "runtime"}
            or {"fatal": reason}
  host -> request {"code", "stdin", "wall_time_s", "imports"}   (wall_time_s: at most the limits' wall
            time; imports: the warm modules the program imports, for a warm server)
  server -> facts {"stdout", "stderr", "exit_code", "signal", "killed_for", "cpu_ms", "wall_ms",
                   "started_at", "finished_at", "setup_error", "wall_limit_s", "recycle"}
The server reports facts (how the program ended, whether it killed it and why); the host
turns them into status labels.

Isolation, when `isolate` is set and the kernel permits (root, or an unprivileged user
namespace otherwise): new mount, network (loopback only), pid, IPC and UTS namespaces; a
private root assembled from read-only binds of /usr, /etc and the interpreter, tmpfs for the
working dir, /tmp and /dev/shm; the server is pid 1 of its namespace, so killing every
process in it (setsid double-fork daemons included) is one `kill(-1)`. Each program runs in a
forked child: new session, rlimits, no_new_privs, the slot's uid (when root), an empty
environment but for `env` and HOME, which is the program's working directory (/sandbox). In a
container the container provides the namespaces and the server, as its pid 1, does the same
per-program work. A forked (not exec'd) program first gets a randomly shifted heap
(`shift_heap`), so object addresses differ between runs as between fresh interpreters.

A warm server (config "warm": numpy, pandas, ...) imports heavy modules once, so the programs the
host routes to it skip their import. What a program could see of that is made fresh after each
fork (`WarmState`): every random generator the imports created is reseeded from the kernel, and
warning filters the program's own imports would not have added are removed. Still visible:
`sys.modules`, memory use and import timing; the task builder drops programs that read them.
"""

import atexit
import builtins
import contextlib
import gc
import itertools
import json
import os
import resource
import select
import signal
import sys
import time
import warnings
from importlib.machinery import SourceFileLoader

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
# statvfs f_flag bit -> mount flag that a read-only remount must keep (locked in user namespaces).
KEPT_MOUNT_FLAGS = ((2, MS_NOSUID), (4, MS_NODEV), (8, MS_NOEXEC), (1024, 1024), (2048, 2048), (4096, MS_RELATIME))

HEAP_SIZE_CLASSES = 32  # pymalloc's small-object classes: 16-byte steps up to 512 bytes
BYTES_HEADER = 33  # sys.getsizeof(b""): a bytes object of n bytes takes n + 33 (one block of 16 c)
# Types CPython reuses from free lists rather than the size classes (`id([])` is otherwise fixed).
FREE_LIST_TYPES = (list, dict, lambda: float(os.getpid()), lambda: (os.getpid(),), lambda: (0, os.getpid()))
LARGE_BLOCK_STEP = 4096  # bytes; shifts the C allocator's heap by 1 to 256 pages

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
SIOCSIFFLAGS = 0x8914
IFF_UP_LOOPBACK_RUNNING = 0x1 | 0x8 | 0x40

NEW_ROOT = "/tmp"  # mount point of the private root inside our own mount namespace
SKELETON_OPTIONS = "mode=0755,size=1m"  # the private root only holds mount points and links
ROOT_TOP_LEVEL = ("bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc")
# Empty directories a Debian root (the container image) has, so probes of them behave alike.
EMPTY_DIRS = {
    "boot": 0o755,
    "home": 0o755,
    "media": 0o755,
    "mnt": 0o755,
    "opt": 0o755,
    "root": 0o700,
    "run": 0o755,
    "srv": 0o755,
    "var": 0o755,
}
DEVICES = ("null", "zero", "full", "random", "urandom")
SETUP_FAILED_EXIT = 127
READ_CHUNK = 65536
HOST_GONE = "host_gone"
RUNTIME_MARKER = "codeboost_runtime.json"  # runtime.MARKER (this file imports nothing of the package)
STARVED_CPU_SHARE = 0.5  # a program below this share of CPU at a lowered limit gets more time


class Libc:
    """The few libc calls the standard library lacks (unshare, mount, prctl, capset)."""

    def __init__(self) -> None:
        import ctypes

        self._ctypes = ctypes
        self._lib = ctypes.CDLL(None, use_errno=True)

    def call(self, name: str, *args: object) -> None:
        """Call libc `name`, raising OSError on a non-zero return."""
        if getattr(self._lib, name)(*args) != 0:
            errno = self._ctypes.get_errno()
            raise OSError(errno, f"{name}: {os.strerror(errno)}")

    def mount(self, source, target, fstype, flags: int, data=None) -> None:
        args = [None if value is None else value.encode() for value in (source, target, fstype)]
        self.call("mount", *args, self._ctypes.c_ulong(flags), None if data is None else data.encode())

    def drop_capabilities(self) -> None:
        """Clear every capability of the calling process (unprivileged user namespace mode)."""
        ctypes = self._ctypes
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)
        data = (ctypes.c_uint32 * 6)()
        self.call("capset", header, data)


def load_libc():
    try:
        return Libc()
    except (ImportError, OSError):
        return None


class Server:
    """One slot: isolation set up once, then one forked child per program."""

    def __init__(self, config: dict) -> None:
        self.limits = config["limits"]
        self.exec_mode = bool(config["exec_mode"])
        self.env = dict(config["env"])
        self.exec_env = dict(config.get("exec_env", {}))
        self.clock_shifted = "FAKETIME" in os.environ  # started by a Variation with a clock shift
        self.is_root = os.geteuid() == 0
        self.uid = config["uid"] if self.is_root else None
        self.drop_caps = False
        self.libc = load_libc()
        self.isolation = {"uid": self.uid if self.uid is not None else os.geteuid()}
        self.control_fd = None  # the host's requests; set by main() once the server is up
        self.warm_state = WarmState([])
        self.workdir = self.limits["working_dir"]
        self.scratch = [self.workdir, "/tmp", "/dev/shm"] if config["private_scratch"] else []
        if config["isolate"]:
            self.isolate(config["hostname"])
        if self.libc is not None:  # programs may share our uid: they must not ptrace us
            self.libc.call("prctl", PR_SET_DUMPABLE, 0, 0, 0, 0)
            self.libc.call("prctl", PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        self.own_workdir = not self.scratch
        if self.own_workdir:
            import tempfile

            self.workdir = tempfile.mkdtemp(prefix="codeboost-sandbox-")
            os.chmod(self.workdir, 0o1777)
            self.scratch = [self.workdir]
        self.isolation["fixed_path"] = self.workdir == self.limits["working_dir"]
        self.program_path = os.path.join(self.workdir, os.path.basename(self.limits["program_path"]))
        self.env["HOME"] = self.workdir  # Path.home() and expanduser("~") work, as on a normal machine
        self.rlimits = self.compute_rlimits()
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # as pid 1 this makes the server immune to it

    def compute_rlimits(self) -> list:
        cpu = -(-self.limits["cpu_time_s"] // 1)
        wanted = [
            (resource.RLIMIT_AS, self.limits["memory_bytes"], self.limits["memory_bytes"]),
            (resource.RLIMIT_CPU, int(cpu), int(cpu) + 1),
            (resource.RLIMIT_NPROC, self.limits["max_processes"], self.limits["max_processes"]),
            (resource.RLIMIT_FSIZE, self.limits["max_file_bytes"], self.limits["max_file_bytes"]),
            (resource.RLIMIT_CORE, 0, 0),
        ]
        result = []
        for which, soft, hard in wanted:
            current_hard = resource.getrlimit(which)[1]
            if current_hard != resource.RLIM_INFINITY:
                soft, hard = min(soft, current_hard), min(hard, current_hard)
            result.append((which, soft, hard))
        return result

    # ---- one-time isolation -------------------------------------------------------------
    def isolate(self, hostname: str) -> None:
        if self.libc is None:
            self.isolation["namespaces"] = "unavailable: no ctypes"
            return
        if not self.is_root:
            self.isolation["user"] = self.enter_user_namespace()
            self.drop_caps = self.isolation["user"]
            if not self.drop_caps:
                return
        for name, flag in (
            ("mount", CLONE_NEWNS),
            ("network", CLONE_NEWNET),
            ("pid", CLONE_NEWPID),
            ("ipc", CLONE_NEWIPC),
            ("uts", CLONE_NEWUTS),
        ):
            self.isolation[name] = self.unshare(flag)
        if self.isolation["pid"]:
            self.become_namespace_init()
        if self.isolation["uts"]:
            self.libc.call("sethostname", hostname.encode(), len(hostname))
        if self.isolation["network"]:
            self.bring_loopback_up()
        if self.isolation["mount"]:
            self.build_private_root()
            self.scratch = [self.workdir, "/tmp", "/dev/shm"]

    def unshare(self, flag: int) -> bool:
        try:
            if hasattr(os, "unshare"):
                os.unshare(flag)
            else:
                self.libc.call("unshare", flag)
        except OSError:
            return False
        return True

    def enter_user_namespace(self) -> bool:
        """Map our own uid/gid into a new user namespace, which grants mount rights there."""
        uid, gid = os.geteuid(), os.getegid()
        if not self.unshare(CLONE_NEWUSER):
            return False
        for path, text in (
            ("/proc/self/setgroups", "deny"),
            ("/proc/self/uid_map", f"{uid} {uid} 1"),
            ("/proc/self/gid_map", f"{gid} {gid} 1"),
        ):
            with open(path, "w") as handle:
                handle.write(text)
        return True

    def become_namespace_init(self) -> None:
        """Fork the real server as pid 1 of the new pid namespace; this process only waits."""
        child = os.fork()
        if child:
            status = os.waitpid(child, 0)[1]
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
        self.libc.call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    def bring_loopback_up(self) -> None:
        import fcntl
        import socket
        import struct

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sh22x", b"lo", IFF_UP_LOOPBACK_RUNNING))

    def bind_read_only(self, source: str, target: str) -> None:
        if os.path.isdir(source):
            os.makedirs(target, exist_ok=True)
        else:
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
        self.libc.mount(source, target, None, MS_BIND | MS_REC)
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID
        mounted = os.statvfs(target).f_flag
        for stat_bit, mount_flag in KEPT_MOUNT_FLAGS:
            if mounted & stat_bit:
                flags |= mount_flag
        self.libc.mount(None, target, None, flags)

    def build_private_root(self) -> None:
        """Assemble a read-only root with tmpfs scratch dirs, then chroot into it."""
        libc, new = self.libc, NEW_ROOT
        libc.mount(None, "/", None, MS_REC | MS_PRIVATE)
        libc.mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, SKELETON_OPTIONS)
        for name in ROOT_TOP_LEVEL:
            source = "/" + name
            if os.path.islink(source):
                os.symlink(os.readlink(source), new + source)
            elif os.path.isdir(source):
                self.bind_read_only(source, new + source)
        for prefix in interpreter_prefixes():
            if not os.path.exists(new + prefix):
                self.bind_read_only(prefix, new + prefix)
        for name, mode in EMPTY_DIRS.items():
            if not os.path.exists(f"{new}/{name}"):
                os.mkdir(f"{new}/{name}")
                os.chmod(f"{new}/{name}", mode)
        os.mkdir(new + "/dev")
        libc.mount("tmpfs", new + "/dev", "tmpfs", MS_NOSUID, SKELETON_OPTIONS)
        for device in DEVICES:
            target = f"{new}/dev/{device}"
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o666))
            libc.mount("/dev/" + device, target, None, MS_BIND)
        for name, target in (
            ("fd", "/proc/self/fd"),
            ("stdin", "/proc/self/fd/0"),
            ("stdout", "/proc/self/fd/1"),
            ("stderr", "/proc/self/fd/2"),
        ):
            os.symlink(target, f"{new}/dev/{name}")
        scratch_options = f"mode=1777,size={self.limits['max_file_bytes']}"
        for directory in (self.limits["working_dir"], "/tmp", "/dev/shm"):
            os.makedirs(new + directory, exist_ok=True)
            libc.mount("tmpfs", new + directory, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, scratch_options)
        os.mkdir(new + "/proc")
        libc.mount("proc", new + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        libc.mount(None, new, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.chroot(new)
        os.chdir("/")

    # ---- one program ---------------------------------------------------------------------
    def run(self, request: dict) -> dict:
        with open(self.program_path, "wb") as handle:
            handle.write(request["code"].encode("utf-8", "surrogatepass"))
        stdin_fd = os.memfd_create("stdin")
        write_all(stdin_fd, request.get("stdin", "").encode("utf-8", "surrogatepass"))
        os.lseek(stdin_fd, 0, os.SEEK_SET)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        report_r, report_w = os.pipe()
        started_at, start = time.time(), time.monotonic()
        pid = os.fork()
        if pid == 0:
            self.child(stdin_fd, out_w, err_w, report_w, request.get("imports") or [])
        for fd in (stdin_fd, out_w, err_w, report_w):
            os.close(fd)
        outputs = {out_r: bytearray(), err_r: bytearray()}
        wall_time_s = min(float(request.get("wall_time_s") or self.limits["wall_time_s"]), self.limits["wall_time_s"])
        killed_for, wall_limit_s = self.supervise(pid, outputs, start, wall_time_s)
        if killed_for:
            os.kill(pid, signal.SIGKILL)
        if killed_for == HOST_GONE:  # nobody reads the reply: leave nothing behind, now
            self.kill_everything_else()
            self.close()
            os._exit(0)
        _, status, usage = os.wait4(pid, 0)
        wall_ms = (time.monotonic() - start) * 1000
        self.kill_everything_else()
        killed_for = self.drain(outputs, killed_for)
        setup_error = read_all(report_r).decode("utf-8", "replace")
        for fd in (out_r, err_r, report_r):
            os.close(fd)
        return {
            "stdout": bytes(outputs[out_r]).decode("utf-8", "replace"),
            "stderr": bytes(outputs[err_r]).decode("utf-8", "replace"),
            "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "killed_for": killed_for,
            "cpu_ms": (usage.ru_utime + usage.ru_stime) * 1000,
            "wall_ms": wall_ms,
            "started_at": started_at,
            "finished_at": started_at + wall_ms / 1000,
            "setup_error": setup_error or None,
            "wall_limit_s": wall_limit_s,
            "recycle": self.wipe_scratch(),
        }

    def supervise(self, pid: int, outputs: dict, start: float, wall_time_s: float):
        """Read output until the child exits. Returns ("timeout" | "output_limit" | HOST_GONE | None,
        the wall limit the run ended with); HOST_GONE: the host's end of the control channel closed.

        A lowered limit (a run's own, below the sandbox's) stops only a program that used the CPU:
        one that got less than STARVED_CPU_SHARE of the time on a CPU by then (the machine was
        loaded, or it sleeps or waits) gets the same time again, up to the sandbox's limit."""
        poller = select.poll()
        for fd in outputs:
            poller.register(fd, select.POLLIN)
        if self.control_fd is not None:  # the host's end closing: it died (kill -9 included)
            poller.register(self.control_fd, select.POLLHUP)
        try:
            pidfd = os.pidfd_open(pid)
            poller.register(pidfd, select.POLLIN)
        except (AttributeError, OSError):
            pidfd = None
        ceiling = start + self.limits["wall_time_s"]
        deadline = start + wall_time_s

        def ended(reason):
            return reason, round(deadline - start, 6)

        try:
            while True:
                now = time.monotonic()
                if now >= deadline:
                    if deadline >= ceiling or cpu_seconds(pid) >= STARVED_CPU_SHARE * (now - start):
                        return ended("timeout")
                    deadline = min(ceiling, now + wall_time_s)
                timeout_ms = (deadline - now) * 1000 if pidfd is not None else min((deadline - now) * 1000, 5)
                for fd, _ in poller.poll(timeout_ms):
                    if fd == pidfd:
                        return ended(None)
                    if fd == self.control_fd:
                        return ended(HOST_GONE)
                    if not self.read_into(fd, outputs, poller):
                        return ended("output_limit")
                if pidfd is None and os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
                    return ended(None)
        finally:
            if pidfd is not None:
                os.close(pidfd)

    def read_into(self, fd: int, outputs: dict, poller) -> bool:
        """Append what `fd` has to its buffer; False once the output cap is exceeded."""
        data = os.read(fd, READ_CHUNK)
        if not data:
            poller.unregister(fd)
            return True
        buffer = outputs[fd]
        buffer += data
        cap = self.limits["max_output_bytes"]
        if len(buffer) > cap:
            del buffer[cap:]
            return False
        return True

    def drain(self, outputs: dict, killed_for):
        """Collect what is left in the pipes once every writer is dead."""
        if killed_for == "output_limit":
            return killed_for
        cap = self.limits["max_output_bytes"]
        for fd, buffer in outputs.items():
            buffer += read_all(fd, cap + 1 - len(buffer))
            if len(buffer) > cap:
                del buffer[cap:]
                killed_for = killed_for or "output_limit"
        return killed_for

    def kill_everything_else(self) -> None:
        """Kill and reap every remaining process of the slot (daemons, fork-bomb leftovers)."""
        as_init = os.getpid() == 1
        while True:
            if as_init:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(-1, signal.SIGKILL)
            else:
                for pid in direct_children():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                return

    def preload(self, modules: list, warm: list) -> list:
        """Import common standard-library modules (and a warm server's heavy modules) once, so forked
        programs find them loaded.

        Exec mode skips this (every program starts a fresh interpreter). Returns what loaded."""
        if self.exec_mode:
            return []
        loaded = [name for name in modules if import_quietly(name)]
        self.warm_state = WarmState(warm)
        return loaded + self.warm_state.loaded

    def close(self) -> None:
        """Remove the temp working dir of the no-namespace fallback (private mounts just vanish)."""
        if self.own_workdir:
            self.wipe_scratch()
            os.rmdir(self.workdir)

    def wipe_scratch(self):
        """Empty the scratch dirs; on failure return why, and the host replaces this server."""
        try:
            for directory in self.scratch:
                if os.path.isdir(directory):
                    remove_contents(directory)
        except Exception as error:
            return f"cannot clean scratch: {type(error).__name__}: {error}"
        return None

    def child(self, stdin_fd: int, out_w: int, err_w: int, report_w: int, imports: list) -> None:
        """In the forked child: confine ourselves, then run the program. Never returns."""
        try:
            os.setsid()
            os.dup2(stdin_fd, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            os.dup2(report_w, 3, inheritable=False)
            os.closerange(4, os.sysconf("SC_OPEN_MAX"))
            for which, soft, hard in self.rlimits:
                resource.setrlimit(which, (soft, hard))
            if self.libc is not None:
                self.libc.call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            if self.uid is not None:
                os.setgroups([])
                os.setgid(self.uid)
                os.setuid(self.uid)
            elif self.drop_caps:
                self.libc.drop_capabilities()
            if self.libc is not None:  # as after an exec: the program may read its own /proc files
                self.libc.call("prctl", PR_SET_DUMPABLE, 1, 0, 0, 0)
            os.chdir(self.workdir)
            os.environ.clear()
            os.environ.update(self.env)
            if self.exec_mode:  # a fresh interpreter: it must start as the server did (hash seed)
                os.execve(sys.executable, [sys.executable, "-s", self.program_path], {**self.env, **self.exec_env})
            self.warm_state.refresh(imports)
            if self.clock_shifted:
                time.sleep = sleep_by_select
            os.close(3)
        except BaseException as error:
            os.write(3, f"{type(error).__name__}: {error}".encode())
            os._exit(SETUP_FAILED_EXIT)
        run_in_process(self.program_path)


def sleep_by_select(seconds) -> None:
    """`time.sleep` for a program on a clock-shifted server: libfaketime 0.9.10 breaks the
    clock_nanosleep that time.sleep uses (EINVAL); select's relative timeout is left alone."""
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        select.select([], [], [], remaining)


def import_quietly(name: str) -> bool:
    """Import a module if the runtime has it; False if it does not."""
    try:
        __import__(name)
    except ImportError:
        return False
    return True


class WarmState:
    """A warm server's heavy modules, and what a forked program must not inherit from them.

    Each module is first imported alone in a forked probe, to learn which of the warm modules it
    imports in a fresh interpreter (pandas: numpy too); then all are imported here, noting the
    warning filters each one adds. After a fork, `refresh` keeps only the filters of the modules
    the program's own imports bring in, and reseeds every random generator found after the imports
    (random.Random instances, numpy's RandomState and bit generators) from the kernel."""

    def __init__(self, modules: list) -> None:
        self.brings = {name: self.probe(name, modules) for name in modules}
        self.loaded = [name for name, brought in self.brings.items() if brought is not None]
        self.filter_owner = {}
        for name in self.loaded:
            before = {id(entry) for entry in warnings.filters}
            __import__(name)
            self.filter_owner.update({id(e): name for e in warnings.filters if id(e) not in before})
        self.generators, self.bit_generator_type = self.random_generators() if self.loaded else ([], None)

    @staticmethod
    def probe(name: str, modules: list):
        """Which of `modules` importing `name` alone loads (None if it cannot be imported)."""
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            brought = [m for m in modules if m in sys.modules] if import_quietly(name) else None
            write_all(write_fd, json.dumps(brought).encode())
            os._exit(0)
        os.close(write_fd)
        reply = read_all(read_fd)
        os.close(read_fd)
        os.waitpid(pid, 0)
        return json.loads(reply or b"null")

    @staticmethod
    def random_generators() -> tuple:
        """Every random generator alive now, and numpy's bit generator type (None without numpy)."""
        import random

        numpy_random = sys.modules.get("numpy.random")
        bit_generator = numpy_random.BitGenerator if numpy_random else None
        kinds = (random.Random, numpy_random.RandomState, bit_generator) if numpy_random else (random.Random,)
        found = [o for o in gc.get_objects() if isinstance(o, kinds) and not isinstance(o, random.SystemRandom)]
        return found, bit_generator

    def refresh(self, imports: list) -> None:
        """In a forked child, before the program runs: a fresh interpreter's view of these modules."""
        if not self.loaded:
            return
        for generator in self.generators:
            if self.bit_generator_type and isinstance(generator, self.bit_generator_type):
                generator.state = type(generator)().state  # a freshly seeded bit generator's state
            else:
                generator.seed()  # random.Random, numpy's RandomState: from the kernel's randomness
        brought = {None} | {name for module in imports for name in (self.brings.get(module) or ())}
        warnings.filters[:] = [entry for entry in warnings.filters if self.filter_owner.get(id(entry)) in brought]
        warnings._filters_mutated()


def run_in_process(path: str) -> None:
    """Run `path` as `python3 -s path` would, in this already-warm interpreter; then exit.

    Same `__main__` module, argv, sys.path[0], traceback format (our own frame is hidden),
    SystemExit handling, thread join, atexit handlers and stream flushing as CPython's
    `pymain_run_file` + `Py_FinalizeEx`; module teardown (`__del__` at exit) is skipped.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _held = shift_heap()  # alive until the program exits
    main = type(sys)("__main__")
    main.__dict__.update(
        __file__=path, __cached__=None, __builtins__=builtins, __loader__=SourceFileLoader("__main__", path)
    )
    sys.modules["__main__"] = main
    sys.argv[:] = [path]
    sys.orig_argv[:] = [sys.executable, "-s", path]
    sys.path[0] = os.path.dirname(path)
    sys.setrecursionlimit(sys.getrecursionlimit() + levels_below_program())
    gc.enable()
    try:
        with open(path, "rb") as handle:
            code = compile(handle.read(), path, "exec", dont_inherit=True)
        exec(code, main.__dict__)
        exit_code = 0
    except SystemExit as error:
        exit_code = system_exit_code(error)
    except BaseException as error:
        traceback = error.__traceback__.tb_next if error.__traceback__ else None
        sys.excepthook(type(error), error.with_traceback(traceback), traceback)
        exit_code = 1
    os._exit(finalize(exit_code) & 0xFF)


def shift_heap() -> list:
    """Make this run's object addresses differ from other runs', as a fresh interpreter's do
    (ASLR); returns the objects the caller must keep alive.

    Forked children of one warm server share its allocator state, so otherwise every run would
    see the same addresses, and a program printing `object()`, `id(x)` or a default repr would
    pass the determinism check. Takes a random number (0-255) of blocks from every small-object
    size class, one object per block (objects of 16 bytes, one-digit ints of 32, bytes objects
    of exactly one block above), and one random large block, so each class's next block is at a
    random offset; for the types CPython recycles through free lists, it takes a random number and
    puts one random one back on top of the list. The randomness is the kernel's (os.urandom), not
    the forked `random` state. Most of its cost is the memory it touches (about 1 MiB)."""
    draws = os.urandom(HEAP_SIZE_CLASSES + 1 + 2 * len(FREE_LIST_TYPES))
    held = [[object() for _ in range(draws[0])], list(range(1 << 20, (1 << 20) + draws[1]))]
    for size_class in range(3, HEAP_SIZE_CLASSES + 1):
        held.append(list(map(bytes, itertools.repeat(16 * size_class - BYTES_HEADER, draws[size_class - 1]))))
    held.append(bytearray(LARGE_BLOCK_STEP * (1 + draws[HEAP_SIZE_CLASSES])))
    for index, make in enumerate(FREE_LIST_TYPES):  # no temporary containers: one freed last would be on top
        count, top = draws[HEAP_SIZE_CLASSES + 1 + 2 * index : HEAP_SIZE_CLASSES + 3 + 2 * index]
        first = len(held)
        held.extend(make() for _ in range(1 + count))
        del held[first + top % (1 + count)]
    return held


def levels_below_program() -> int:
    """Recursion levels under the program's module frame (our callers' frames plus exec()),
    added to the limit so a program recurses as deep as under `python3 main.py`; the one
    visible difference is that sys.getrecursionlimit() reports the raised value."""
    frame, depth = sys._getframe(1), 1
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


def system_exit_code(error: SystemExit) -> int:
    """CPython's handling of an uncaught SystemExit: int code, None -> 0, else print it, 1."""
    code = error.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    with contextlib.suppress(Exception):
        sys.stderr.write(f"{code}\n")
    return 1


def finalize(exit_code: int) -> int:
    """Join non-daemon threads, run atexit handlers, flush std streams (120 if stdout fails)."""
    threading = sys.modules.get("threading")
    if threading is not None:
        with contextlib.suppress(BaseException):
            threading._shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            if stream is sys.stdout:
                exit_code = 120
    return exit_code


def interpreter_prefixes() -> list:
    """Directories the interpreter needs that the private root does not already hold."""
    paths = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    paths.add(os.path.dirname(os.path.realpath(sys.executable)))
    covered = tuple("/" + name + "/" for name in ROOT_TOP_LEVEL)
    return sorted(p for p in paths if not (p + "/").startswith(covered) and p != "/")


def runtime_marker():
    """The marker the runtime's build left beside its packages (lock digest, module providers), or
    None for a bare interpreter."""
    for entry in filter(None, sys.path):
        path = os.path.join(entry, RUNTIME_MARKER)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                return json.load(handle)
    return None


def proc_stat(pid: int):
    """The fields of /proc/PID/stat after the command name (state first), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a running process has used so far (0 if it is gone)."""
    fields = proc_stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


def direct_children() -> list:
    """Pids whose parent is us (with child-subreaper set, orphaned descendants included)."""
    me = os.getpid()
    entries = (int(entry) for entry in os.listdir("/proc") if entry.isdigit())
    return [pid for pid in entries if (fields := proc_stat(pid)) and int(fields[1]) == me]


def remove_contents(directory: str) -> None:
    for entry in os.scandir(directory):
        if entry.is_dir(follow_symlinks=False):
            os.chmod(entry.path, 0o700)
            remove_contents(entry.path)
            os.rmdir(entry.path)
        else:
            os.unlink(entry.path)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def read_all(fd: int, limit: int = -1) -> bytes:
    chunks, size = [], 0
    while limit < 0 or size < limit:
        data = os.read(fd, READ_CHUNK if limit < 0 else min(READ_CHUNK, limit - size))
        if not data:
            break
        chunks.append(data)
        size += len(data)
    return b"".join(chunks)


def main() -> None:
    control_in, control_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    reader = os.fdopen(control_in, "rb")

    def send(message: dict) -> None:
        write_all(control_out, json.dumps(message).encode() + b"\n")

    line = reader.readline()
    if not line:
        return
    try:
        config = json.loads(line)
        server = Server(config)
    except Exception as error:
        send({"fatal": f"{type(error).__name__}: {error}"})
        return
    server.control_fd = control_in
    send(
        {
            "ready": True,
            "python_version": sys.version.split()[0],
            "program_path": server.program_path,
            "isolation": server.isolation,
            "preloaded": server.preload(config["preload"], config.get("warm") or []),
            "runtime": runtime_marker(),
        }
    )
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        for line in reader:
            try:
                reply = server.run(json.loads(line))
            except Exception as error:
                send({"fatal": f"{type(error).__name__}: {error}"})
                return
            send(reply)
            if reply["recycle"]:
                return
    finally:
        server.close()


if __name__ == "__main__":
    main()
