"""Fixtures for the ferryd integration tests.

The tests run the real ferryd binary against next hops that are separate
processes (upstream.py, sink.py, Postfix's smtp-sink) and clients that are
real programs (swaks, smtplib, Postfix) or raw sockets (smtp_wire.py).

Environment:
  FERRYD                   path of a ferryd binary to test; when unset, the
                           fixture builds //engine/server:ferryd with Bazel
                           once per session and uses bazel-bin's copy
  FERRYCTL                 path of a ferryctl binary; when unset, built
                           with ferryd as above
  FERRY_BAZEL_OUTPUT_BASE  Bazel --output_base for that build (optional)
  FERRY_TEST_TIME_LIMIT    default seconds one test body may run (180)
"""

import dataclasses
import os
import shutil
import signal
import subprocess

import pytest

from ferry_config import relay_config
from ferryctl import Ferryctl
from processes import (POSTFIX_MASTER, SMTP_SINK, SWAKS, Ferryd,
                       ManagedProcess, NextHop, PostfixInstance, SmtpSink,
                       SpoolNamespace, free_port, read_tail)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FERRYD_TARGET = "//engine/server:ferryd"
FERRYCTL_TARGET = "//admin/ferryctl:ferryctl"
DEFAULT_TIME_LIMIT = int(os.environ.get("FERRY_TEST_TIME_LIMIT", "180"))


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "time_limit(seconds): fail the test body after that long")


# Per-test time limit, enforced with SIGALRM in the main thread.

class TimeLimitExceeded(Exception):
    """A test body ran past its time_limit."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    marker = item.get_closest_marker("time_limit")
    seconds = marker.args[0] if marker else DEFAULT_TIME_LIMIT

    def on_alarm(signum, frame):
        raise TimeLimitExceeded(f"test ran past its {seconds}s limit")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# Logs of the processes a test started, attached to its failure report.

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for process in getattr(item, "ferry_processes", []):
        if process.exited_unexpectedly():
            report.sections.append((f"{process.name} exit",
                                    describe_exit(process)))
        report.sections.append(
            (f"{process.name} log {process.log_path}",
             read_tail(process.log_path)))
        if isinstance(process, PostfixInstance):
            report.sections.append(("postfix maillog", process.maillog()))


def require_tool(path: str) -> None:
    if not os.path.exists(path):
        pytest.skip(f"{path} is not installed (tools/install-deps installs "
                    f"it)")


# The binary under test.

def build_binaries() -> str:
    """Builds ferryd and ferryctl; returns bazel-bin."""
    bazel = ["bazel"]
    output_base = os.environ.get("FERRY_BAZEL_OUTPUT_BASE")
    if output_base:
        bazel.append(f"--output_base={output_base}")
    build = subprocess.run([*bazel, "build", FERRYD_TARGET, FERRYCTL_TARGET],
                           cwd=REPO_ROOT, capture_output=True, text=True,
                           timeout=1800)
    if build.returncode != 0:
        raise RuntimeError(f"bazel build {FERRYD_TARGET} {FERRYCTL_TARGET} "
                           f"failed:\n{build.stderr[-6000:]}")
    info = subprocess.run([*bazel, "info", "bazel-bin"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600,
                          check=True)
    return info.stdout.strip()


def build_ferryd() -> str:
    return os.path.join(build_binaries(), "engine", "server", "ferryd")


@pytest.fixture(scope="session")
def ferryd_binary() -> str:
    binary = os.environ.get("FERRYD") or build_ferryd()
    if not os.access(binary, os.X_OK):
        raise RuntimeError(f"ferryd binary {binary} is missing or not "
                           f"executable")
    return binary


@pytest.fixture(scope="session")
def ferryctl_binary() -> str:
    binary = os.environ.get("FERRYCTL") or os.path.join(
        build_binaries(), "admin", "ferryctl", "ferryctl")
    if not os.access(binary, os.X_OK):
        raise RuntimeError(f"ferryctl binary {binary} is missing or not "
                           f"executable")
    return binary


@pytest.fixture
def ferryctl(ferryctl_binary):
    """ferryctl(relay, *args, json=False) -> Ferryctl result (see
    tests/ferryctl.py)."""
    return Ferryctl(ferryctl_binary)


# Process factories. Each registers what it starts with the test, and
# stops it at teardown.

def describe_exit(process: ManagedProcess) -> str:
    status = process.process.returncode
    if status < 0:
        return f"was killed by {signal.Signals(-status).name}"
    return f"exited with status {status}"


@pytest.fixture
def process_registry(request):
    processes: list[ManagedProcess] = []
    request.node.ferry_processes = processes
    yield processes
    problems = []
    ferryds = [p for p in processes if isinstance(p, Ferryd)]
    others = [p for p in processes if not isinstance(p, Ferryd)]
    for process in ferryds + others:
        if process.exited_unexpectedly():
            problems.append(f"{process.name} {describe_exit(process)} "
                            f"during the test")
            continue
        was_running = process.running
        status = process.stop()
        if isinstance(process, Ferryd) and was_running and status != 0:
            problems.append(
                f"ferryd did not exit with status 0 on SIGTERM (status "
                f"{status}; None means it was killed after 20s)")
        if hasattr(process, "cleanup"):
            process.cleanup()
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


@pytest.fixture
def ferryd(ferryd_binary, process_registry, tmp_path):
    """Factory: ferryd(config_text, prefix=None, start=True) -> Ferryd."""
    count = 0

    def start(config_text: str, prefix: list[str] | None = None,
              start: bool = True) -> Ferryd:
        nonlocal count
        count += 1
        relay = Ferryd(ferryd_binary, config_text,
                       str(tmp_path / f"ferryd{count}"), prefix)
        process_registry.append(relay)
        if start:
            relay.start()
        return relay

    return start


@pytest.fixture
def upstream(process_registry, tmp_path):
    """Factory: upstream(script=None, port=None, start=True) -> NextHop."""
    count = 0

    def start(script: dict | None = None, port: int | None = None,
              start: bool = True, kind: str = "upstream",
              options: list[str] | None = None) -> NextHop:
        nonlocal count
        count += 1
        next_hop = NextHop(port or free_port(),
                           str(tmp_path / f"{kind}{count}"), kind=kind,
                           script=script, options=options)
        process_registry.append(next_hop)
        if start:
            next_hop.start()
        return next_hop

    return start


@pytest.fixture
def sink(upstream):
    """Factory: sink(options=None, port=None, start=True) -> NextHop.

    The next hop is aiosmtpd (sink.py); options are its command-line flags.
    """
    def start(options: list[str] | None = None, port: int | None = None,
              start: bool = True) -> NextHop:
        return upstream(port=port, start=start, kind="sink", options=options)

    return start


@pytest.fixture
def smtp_sink(process_registry, tmp_path):
    """Factory: smtp_sink(options=()) -> SmtpSink, already listening."""
    require_tool(SMTP_SINK)

    def start(options: list[str] = ()) -> SmtpSink:
        process = SmtpSink(free_port(), str(tmp_path), options)
        process_registry.append(process)
        return process.start()

    return start


@pytest.fixture
def postfix(process_registry, tmp_path):
    """Factory: postfix(relay_port) -> PostfixInstance, already listening."""
    require_tool(POSTFIX_MASTER)

    def start(relay_port: int) -> PostfixInstance:
        instance = PostfixInstance(free_port(), relay_port, str(tmp_path))
        process_registry.append(instance)
        return instance.start()

    return start


@pytest.fixture
def swaks_tool() -> str:
    require_tool(SWAKS)
    return SWAKS


@pytest.fixture
def spool_namespace():
    """Factory: spool_namespace(spool_dir, size) -> SpoolNamespace."""
    if shutil.which("unshare") is None or shutil.which("nsenter") is None:
        pytest.skip("unshare and nsenter (util-linux) are needed for a "
                    "private tmpfs spool")
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs spool in a private mount namespace "
                    "needs root")
    namespaces = []

    def create(spool_dir: str, size: str) -> SpoolNamespace:
        namespace = SpoolNamespace(spool_dir, size)
        namespaces.append(namespace)
        return namespace

    yield create
    for namespace in namespaces:
        namespace.close()


# The usual set-up: one upstream that receives mail for example.net (the
# customer domain) and example.com (the senders' domain, where DSNs go).

@dataclasses.dataclass
class Relay:
    ferryd: Ferryd
    upstream: NextHop

    @property
    def port(self) -> int:
        return self.ferryd.port


@pytest.fixture
def spool_dir(tmp_path) -> str:
    """A spool directory path for ferryd; ferryd creates it."""
    return str(tmp_path / "spool")


@pytest.fixture
def make_relay(ferryd, upstream, spool_dir):
    """Factory: make_relay(script=None, **relay_config options) -> Relay."""
    def start(script: dict | None = None, **options) -> Relay:
        next_hop = upstream(script)
        config = relay_config(
            free_port(), spool_dir,
            {"example.net": [next_hop.port], "example.com": [next_hop.port]},
            **options)
        return Relay(ferryd(config), next_hop)

    return start


@pytest.fixture
def relay(make_relay) -> Relay:
    """ferryd with default settings in front of one default upstream."""
    return make_relay()
