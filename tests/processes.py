"""Processes that the integration tests start: ferryd, next hops, Postfix.

Every class here owns the processes it starts, ends them by PID, and keeps
their output in a log file that conftest.py shows when a test fails.
"""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from mailstore import MailStore

PYTHON = "/usr/bin/python3"  # Debian's python3-aiosmtpd belongs to it
TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
SMTP_SINK = "/usr/sbin/smtp-sink"
POSTFIX = "/usr/sbin/postfix"
POSTFIX_MASTER = "/usr/lib/postfix/sbin/master"
SWAKS = "/usr/bin/swaks"

_ports_handed_out: set[int] = set()


# Ports handed out come from below Linux's default ephemeral range
# (32768-60999, net.ipv4.ip_local_port_range), so that no outgoing
# connection takes a port that a test has picked but not yet bound.
PORT_RANGE = range(20000, 32000)


def free_port() -> int:
    """Return a loopback TCP port that was free and not handed out before."""
    for _ in range(1000):
        port = random.choice(PORT_RANGE)
        if port in _ports_handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _ports_handed_out.add(port)
        return port
    raise RuntimeError(f"no free loopback port in {PORT_RANGE}")


def listening_ports() -> set[int]:
    """Return the TCP ports in LISTEN state in this network namespace."""
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as file:
                next(file)
                for line in file:
                    fields = line.split()
                    if fields[3] == "0A":  # TCP_LISTEN
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except FileNotFoundError:
            continue
    return ports


def wait_until(predicate, timeout: float, interval: float = 0.05,
               message: str = "condition"):
    """Poll `predicate` until it returns a true value and return that value.

    Raises AssertionError naming `message` after `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for "
                                 f"{message}")
        time.sleep(interval)


def read_tail(path: str, limit: int = 20000) -> str:
    """Return the last `limit` characters of a log file, or "" if none."""
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            size = file.tell()
            file.seek(max(0, size - limit))
            return file.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


class ManagedProcess:
    """A child process with its output in `log_path` and a TCP port.

    Subclasses set `argv()`; start() waits until `port` is listening.
    """

    name = "process"

    def __init__(self, port: int, log_path: str):
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.expected_exit = False

    def argv(self) -> list[str]:
        raise NotImplementedError

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 30.0) -> "ManagedProcess":
        assert not self.running, f"{self.name} is already running"
        # A listening socket can outlive its process for a moment (an
        # io_uring holds a reference until the kernel tears the ring down),
        # and a stale listener would pass for the new one.
        wait_until(lambda: self.port not in listening_ports(), 10,
                   message=f"port {self.port} to be closed by the previous "
                           f"{self.name}")
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(f"=== {self.name} start {self.starts}: "
                  f"{' '.join(self.argv())}\n".encode())
        log.flush()
        self.process = subprocess.Popen(
            self.argv(), stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT)
        log.close()
        self.expected_exit = False
        self.wait_listening(timeout)
        return self

    def wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.port not in listening_ports():
            if self.process.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited with status {self.process.returncode}"
                    f" before listening on port {self.port}; log:\n"
                    f"{read_tail(self.log_path, 4000)}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.name} not listening on port {self.port} after "
                    f"{timeout}s; log:\n{read_tail(self.log_path, 4000)}")
            time.sleep(0.02)

    def stop(self, timeout: float = 20.0) -> int | None:
        """Send SIGTERM, wait, and return the exit status.

        Falls back to SIGKILL after `timeout` seconds and then returns None.
        """
        if self.process is None:
            return None
        self.expected_exit = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                return None
        return self.process.returncode

    def kill(self) -> None:
        """Send SIGKILL and wait for the process to end."""
        self.expected_exit = True
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def exited_unexpectedly(self) -> bool:
        return (self.process is not None and not self.expected_exit
                and self.process.poll() is not None)

    def log(self) -> str:
        with open(self.log_path, "rb") as file:
            return file.read().decode("utf-8", "replace")


class Ferryd(ManagedProcess):
    """The relay under test: bazel-bin/engine/server/ferryd.

    `prefix` is put before the binary, e.g. ["nsenter", "-t", PID, "-m",
    "--"] to run it in another mount namespace; nsenter execs the binary, so
    the PID stays the same.
    """

    name = "ferryd"

    def __init__(self, binary: str, config_text: str, workdir: str,
                 prefix: list[str] | None = None):
        match = re.search(r'smtp_listen:\s*"[^"]*:(\d+)"', config_text)
        assert match, "the config must set smtp_listen with a port"
        os.makedirs(workdir, exist_ok=True)
        super().__init__(int(match.group(1)),
                         os.path.join(workdir, "ferryd.log"))
        self.binary = binary
        self.config_path = os.path.join(workdir, "ferryd.conf")
        self.prefix = prefix or []
        # Each ferryd under test gets its own admin socket, unless the
        # test sets one.
        admin = re.search(r'\bsocket:\s*"([^"]*)"', config_text)
        if admin:
            self.admin_socket = admin.group(1)
        else:
            self.admin_socket = os.path.join(workdir, "admin.sock")
            config_text += f'\nadmin {{ socket: "{self.admin_socket}" }}\n'
        with open(self.config_path, "w") as file:
            file.write(config_text)
        spool = re.search(r'spool_dir:\s*"([^"]*)"', config_text)
        self.spool_dir = spool.group(1) if spool else None

    def argv(self) -> list[str]:
        return [*self.prefix, self.binary, f"--config={self.config_path}"]

    def restart(self, timeout: float = 30.0) -> "Ferryd":
        """Start again with the same config and spool after stop or kill."""
        assert not self.running, "stop or kill ferryd before restarting it"
        self.start(timeout)
        return self

    def kill_and_restart(self, timeout: float = 30.0) -> "Ferryd":
        """Kill with SIGKILL and start again on the same spool."""
        self.kill()
        return self.restart(timeout)

    def memory_kb(self, field: str = "VmRSS") -> int:
        """Return a memory figure from /proc/PID/status (VmRSS, VmHWM)."""
        with open(f"/proc/{self.pid}/status") as file:
            for line in file:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise AssertionError(f"{field} missing from /proc/{self.pid}/status")

    def log_lines_with(self, text: str) -> list[str]:
        return [line for line in self.log().splitlines() if text in line]

    def wait_for_log_lines(self, text: str,
                           timeout: float = 5.0) -> list[str]:
        """Wait until some log line contains `text`; return those lines.

        ferryd's workers write their log lines in batches, up to 10 ms
        after the event, so a line may lag what the test observed.
        """
        return wait_until(lambda: self.log_lines_with(text), timeout,
                          message=f"a log line with {text!r}")


class NextHop(ManagedProcess):
    """A test next hop process: upstream.py (default) or sink.py.

    Messages and events land in `store`. stop() and start() keep them, so
    a test can take the next hop down and bring it back on the same port.
    """

    def __init__(self, port: int, directory: str, kind: str = "upstream",
                 script: dict | None = None, options: list[str] | None = None):
        assert kind in ("upstream", "sink"), kind
        os.makedirs(directory, exist_ok=True)
        super().__init__(port, os.path.join(directory, f"{kind}.log"))
        self.name = f"{kind}:{port}"
        self.kind = kind
        self.directory = directory
        self.options = options or []
        self.store = MailStore(os.path.join(directory, "mail"))
        self.script_path = os.path.join(directory, "script.json")
        self.set_script(script or {})

    def set_script(self, script: dict) -> None:
        """Replace the script; it applies from the next start()."""
        with open(self.script_path, "w") as file:
            json.dump(script, file, indent=1)

    def argv(self) -> list[str]:
        argv = [PYTHON, os.path.join(TESTS_DIR, f"{self.kind}.py"),
                "--port", str(self.port), "--dir", self.store.directory]
        if self.kind == "upstream":
            argv += ["--script", self.script_path]
        return argv + self.options

    def wait_for_messages(self, count: int, timeout: float = 30.0,
                          accepted_only: bool = True):
        """Wait until at least `count` messages are stored; return them."""
        def enough():
            messages = (self.store.accepted_messages() if accepted_only
                        else self.store.messages())
            return messages if len(messages) >= count else None
        return wait_until(enough, timeout,
                          message=f"{count} message(s) at {self.name}")


class SmtpSink(ManagedProcess):
    """Postfix's smtp-sink, dumping each transaction to a file."""

    name = "smtp-sink"

    def __init__(self, port: int, directory: str, options: list[str] = ()):
        # smtp-sink runs as the user "nobody", which cannot enter pytest's
        # temporary folders (mode 0700), so the dumps go to a folder of
        # their own.
        self.base = tempfile.mkdtemp(prefix="ferry-smtp-sink.")
        os.chmod(self.base, 0o755)
        self.dump_dir = os.path.join(self.base, "dump")
        os.mkdir(self.dump_dir)
        os.chmod(self.dump_dir, 0o777)
        super().__init__(port, os.path.join(directory, "smtp-sink.log"))
        self.options = list(options)

    def argv(self) -> list[str]:
        return [SMTP_SINK, "-u", "nobody", "-d",
                os.path.join(self.dump_dir, "%Y%m%d%H%M%S."), *self.options,
                f"127.0.0.1:{self.port}", "100"]

    def dumps(self) -> list[bytes]:
        """Return the dumped transactions (envelope lines, then content)."""
        result = []
        for name in sorted(os.listdir(self.dump_dir)):
            with open(os.path.join(self.dump_dir, name), "rb") as file:
                result.append(file.read())
        return result

    def cleanup(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
config_directory = {base}/etc
queue_directory = {base}/queue
data_directory = {base}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.example.com
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = example.net
relayhost = [127.0.0.1]:{relay_port}
alias_maps =
alias_database =
maillog_file = {base}/maillog
maillog_file_prefixes = {base}
smtp_tls_security_level = none
smtpd_tls_security_level = none
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
"""


class PostfixInstance(ManagedProcess):
    """A private Postfix that relays everything to relayhost ferryd.

    It has its own config_directory and queue_directory in a temporary
    folder and listens on 127.0.0.1:`port`. The master daemon runs in the
    foreground (master -d) as our child, so stop() ends the whole instance.
    """

    name = "postfix"

    def __init__(self, port: int, relay_port: int, directory: str):
        # Postfix daemons drop to the postfix user, which cannot enter
        # pytest's mode 0700 folders, so the instance lives in its own.
        self.base = tempfile.mkdtemp(prefix="ferry-postfix.")
        os.chmod(self.base, 0o755)
        for folder in ("etc", "queue", "data"):
            os.mkdir(os.path.join(self.base, folder))
        shutil.chown(os.path.join(self.base, "data"), user="postfix")
        with open(os.path.join(self.base, "etc", "main.cf"), "w") as file:
            file.write(MAIN_CF.format(base=self.base, relay_port=relay_port))
        with open(os.path.join(self.base, "etc", "master.cf"), "w") as file:
            file.write(MASTER_CF.format(port=port))
        super().__init__(port, os.path.join(directory, "postfix.log"))

    @property
    def config_dir(self) -> str:
        return os.path.join(self.base, "etc")

    def argv(self) -> list[str]:
        return [POSTFIX_MASTER, "-c", self.config_dir, "-d"]

    def start(self, timeout: float = 30.0) -> "PostfixInstance":
        # "postfix check" creates the queue folders with their owners.
        check = subprocess.run([POSTFIX, "-c", self.config_dir, "check"],
                               capture_output=True, text=True, timeout=60)
        assert check.returncode == 0, (
            f"postfix check failed: {check.stdout}{check.stderr}"
            f"{self.maillog()}")
        super().start(timeout)
        return self

    def maillog(self) -> str:
        return read_tail(os.path.join(self.base, "maillog"))

    def cleanup(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


class SpoolNamespace:
    """A private mount namespace in which a small tmpfs is the spool.

    A holder process (unshare -m ... sleep) keeps the namespace alive, so the
    tmpfs and its contents survive restarts of ferryd. Run ferryd inside it
    with `prefix`. Tests read and write the tmpfs through /proc/PID/root.
    """

    def __init__(self, spool_dir: str, size: str):
        os.makedirs(spool_dir, exist_ok=True)
        self.spool_dir = spool_dir
        self.holder = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sleep",
             "3600"], stdin=subprocess.DEVNULL)
        wait_until(self._namespace_differs, 5,
                   message="the unshare holder process")
        self.run_inside(["mount", "-t", "tmpfs", "-o", f"size={size}",
                         "tmpfs", spool_dir])

    def _namespace_differs(self) -> bool:
        try:
            return (os.readlink(f"/proc/{self.holder.pid}/ns/mnt")
                    != os.readlink("/proc/self/ns/mnt"))
        except FileNotFoundError:
            return False

    @property
    def prefix(self) -> list[str]:
        return ["nsenter", "-t", str(self.holder.pid), "-m", "--"]

    def run_inside(self, argv: list[str]) -> subprocess.CompletedProcess:
        result = subprocess.run(self.prefix + argv, capture_output=True,
                                text=True, timeout=30)
        assert result.returncode == 0, (
            f"{' '.join(argv)} failed in the spool namespace: "
            f"{result.stdout}{result.stderr}")
        return result

    def path(self, relative: str = "") -> str:
        """Return the path of spool_dir/relative as seen inside."""
        return os.path.join(f"/proc/{self.holder.pid}/root",
                            self.spool_dir.lstrip("/"), relative)

    def fill(self, name: str = "filler") -> int:
        """Write zeros to spool_dir/name until the tmpfs is full.

        Returns the octets written.
        """
        written = 0
        chunk = b"\0" * 4096
        with open(self.path(name), "wb", buffering=0) as file:
            try:
                while True:
                    written += file.write(chunk)
            except OSError as error:
                assert error.errno == 28, f"expected ENOSPC, got {error}"
        return written

    def free_octets(self) -> int:
        stat = os.statvfs(self.path())
        return stat.f_bavail * stat.f_frsize

    def remount(self, options: str) -> None:
        self.run_inside(["mount", "-o", f"remount,{options}",
                         self.spool_dir])

    def close(self) -> None:
        if self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait()


def swaks(port: int, *args: str, timeout: float = 60.0):
    """Run swaks against 127.0.0.1:`port`; return the CompletedProcess."""
    argv = [SWAKS, "--server", f"127.0.0.1:{port}", "--timeout", "30",
            *args]
    return subprocess.run(argv, capture_output=True, timeout=timeout)
