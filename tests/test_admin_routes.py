"""The admin API's Routes service through ferryctl: list, get, put and
delete routes while ferryd runs, errors that name the field, mail already
queued following a changed route, resumable watches, and the state file
(<spool_dir>/routes.pb) that keeps routes across restarts.
"""

import json
import os
import queue
import signal
import subprocess
import threading

import pytest

from ferry_config import relay_config
from processes import free_port, wait_until
from relay_checks import make_message
from smtp_wire import SmtpWire, send_message


def wait_started(relay) -> None:
    """Wait for ferryd's started line, which follows the admin socket."""
    wait_until(lambda: len(relay.log_lines_with("event=started")) >=
               relay.starts, 10, message="ferryd's started log line")


def routes_json(ferryctl, relay) -> dict:
    return ferryctl(relay, "routes", "list", json_output=True).json()


def rcpt_reply(port: int, recipient: str):
    with SmtpWire(port) as wire:
        wire.ehlo()
        assert wire.command("MAIL FROM:<alice@example.com>").code == 250
        return wire.command(f"RCPT TO:<{recipient}>")


class Watch:
    """A `ferryctl routes watch --json` process whose lines a thread
    collects, so that a test can wait for each with a timeout."""

    def __init__(self, ferryctl, relay, *args: str):
        self.process = ferryctl.popen(relay, "routes", "watch", *args,
                                      json_output=True)
        self.lines: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            if line.strip():
                self.lines.put(line)

    def next_event(self, timeout: float = 10) -> dict:
        try:
            return json.loads(self.lines.get(timeout=timeout))
        except queue.Empty:
            status = self.process.poll()
            state = "still runs" if status is None else f"exited {status}"
            raise AssertionError(f"no watch event within {timeout}s; "
                                 f"ferryctl {state}") from None

    def assert_quiet(self, seconds: float = 1.0) -> None:
        with pytest.raises(queue.Empty):
            self.lines.get(timeout=seconds)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(10)
        self.thread.join(10)


@pytest.fixture
def watches():
    started = []
    yield started
    for watch in started:
        watch.stop()


def test_list_get_put_delete(ferryd, upstream, spool_dir, ferryctl):
    net_hop = upstream()
    org_hop = upstream()
    listen = free_port()
    relay = ferryd(relay_config(listen, spool_dir,
                                {"example.net": [net_hop.port]}))
    wait_started(relay)

    listed = routes_json(ferryctl, relay)
    assert int(listed["version"]) == 1
    assert [route["domain"] for route in listed["route"]] == ["example.net"]
    assert listed["route"][0]["next_hop"] == [
        {"host": "127.0.0.1", "port": net_hop.port, "priority": 0}]

    # No route yet: relaying for example.org is denied.
    assert rcpt_reply(listen, "carol@example.org").code == 550

    put = ferryctl(relay, "routes", "put", "Example.ORG",
                   f"127.0.0.1:{org_hop.port}/5", "[::1]:2/7",
                   "--recipient=carol", "--etrn-client=192.0.2.0/24",
                   json_output=True).json()
    assert put == {"version": "2", "created": True}

    got = ferryctl(relay, "routes", "get", "example.org",
                   json_output=True).json()
    assert int(got["version"]) == 2
    assert got["route"] == {
        "domain": "example.org",
        "next_hop": [
            {"host": "127.0.0.1", "port": org_hop.port, "priority": 5},
            {"host": "::1", "port": 2, "priority": 7}],
        "recipient": ["carol"],
        "etrn_client": ["192.0.2.0/24"],
    }
    text = ferryctl(relay, "routes", "get", "EXAMPLE.org").stdout
    assert f"127.0.0.1:{org_hop.port}/5,[::1]:2/7" in text
    assert "192.0.2.0/24" in text
    table = ferryctl(relay, "routes", "list").stdout.splitlines()
    assert table[0].split() == ["DOMAIN", "NEXT", "HOPS", "RECIPIENTS",
                                "ETRN", "CLIENTS"]
    assert table[1].startswith("example.net")
    assert table[2].startswith("example.org")
    assert table[-1] == "2 routes, version 2"

    # The new route is used at once: its recipient list at RCPT time, and
    # its next hop for delivery.
    assert rcpt_reply(listen, "dave@example.org").code == 550
    reply = send_message(listen, "alice@example.com", ["carol@example.org"],
                         make_message("after the put"))
    assert reply.code == 250, reply
    [message] = org_hop.wait_for_messages(1)
    assert message.recipients == ["carol@example.org"]

    replaced = ferryctl(relay, "routes", "put", "EXAMPLE.org",
                        f"127.0.0.1:{org_hop.port}").stdout
    assert replaced.strip() == "replaced example.org at version 3"

    deleted = ferryctl(relay, "routes", "delete", "Example.org").stdout
    assert deleted.strip() == "deleted example.org at version 4"
    assert rcpt_reply(listen, "carol@example.org").code == 550
    missing = ferryctl(relay, "routes", "get", "example.org", check=False)
    assert missing.returncode == 1
    assert 'no route for "example.org"' in missing.stderr
    again = ferryctl(relay, "routes", "delete", "example.org", check=False)
    assert again.returncode == 1
    assert int(routes_json(ferryctl, relay)["version"]) == 4
    assert relay.log_lines_with(
        "event=route_changed kind=delete domain=example.org version=4")


def test_invalid_changes_name_the_problem(relay, ferryctl):
    wait_started(relay.ferryd)
    before = routes_json(ferryctl, relay.ferryd)

    result = ferryctl(relay.ferryd, "routes", "put", "example.net",
                      "mail_1.example.net:2525", check=False)
    assert result.returncode == 1
    assert 'next_hop[0] host "mail_1.example.net"' in result.stderr
    assert "not a letter, digit or hyphen" in result.stderr

    result = ferryctl(relay.ferryd, "routes", "put", "example.net",
                      "mail.example.net:70000", check=False)
    assert result.returncode == 2
    assert 'invalid next hop "mail.example.net:70000"' in result.stderr
    assert "from 1 to 65535" in result.stderr

    result = ferryctl(relay.ferryd, "routes", "put", "example.net",
                      "mail.example.net", "--etrn-client=mail.example.net",
                      check=False)
    assert result.returncode == 1
    assert 'etrn_client[0] "mail.example.net"' in result.stderr

    result = ferryctl(relay.ferryd, "routes", "put", "*", "mail.example.net",
                      check=False)
    assert result.returncode == 1
    assert "open" in result.stderr

    result = ferryctl(relay.ferryd, "routes", "put", "example.net",
                      check=False)
    assert result.returncode == 2
    assert "missing arguments" in result.stderr

    result = ferryctl(relay.ferryd, "routes", "put", "example.org",
                      "mail.example.org", "--expect-version=99", check=False)
    assert result.returncode == 1
    assert "not the expected version 99" in result.stderr

    # The API reads 0 as "no check", so ferryctl refuses it.
    for action in (("put", "example.org", "mail.example.org"),
                   ("delete", "example.net")):
        result = ferryctl(relay.ferryd, "routes", *action,
                          "--expect-version=0", check=False)
        assert result.returncode == 2
        assert f"routes {action[0]}: --expect-version=0" in result.stderr
        assert "versions start at 1" in result.stderr

    # A huge value is cut in the error, which then still fits in a gRPC
    # status and names the problem.
    result = ferryctl(relay.ferryd, "routes", "put", "a" * 20000,
                      "mail.example.org", check=False)
    assert result.returncode == 1
    assert "(20000 octets)" in result.stderr
    assert "over the maximum of 253" in result.stderr
    assert len(result.stderr) < 1000
    result = ferryctl(relay.ferryd, "routes", "get", "a" * 20000,
                      check=False)
    assert result.returncode == 1
    assert "no route for" in result.stderr
    assert "(20000 octets)" in result.stderr
    result = ferryctl(relay.ferryd, "routes", "put", "example.org",
                      "mail.example.org", "--etrn-client=" + "1" * 20000,
                      check=False)
    assert result.returncode == 1
    assert "is not an IP address or CIDR prefix" in result.stderr

    # Nothing above changed the table.
    assert routes_json(ferryctl, relay.ferryd) == before
    version = before["version"]
    ferryctl(relay.ferryd, "routes", "put", "example.org", "mail.example.org",
             f"--expect-version={version}")
    result = ferryctl(relay.ferryd, "routes", "delete", "example.org",
                      f"--expect-version={version}", check=False)
    assert result.returncode == 1
    assert "not the expected version" in result.stderr


def test_put_moves_queued_mail(ferryd, upstream, spool_dir, ferryctl):
    old_hop = upstream(start=False)  # never comes up
    new_hop = upstream()
    listen = free_port()
    # With an hour of backoff the mail moves only because the put retries
    # the domain's deferred mail at once.
    relay = ferryd(relay_config(listen, spool_dir,
                                {"example.net": [old_hop.port]},
                                delivery={"initial_backoff": "1h",
                                          "max_backoff": "1h",
                                          "queue_lifetime": "1d"}))
    wait_started(relay)
    reply = send_message(listen, "alice@example.com", ["bob@example.net"],
                         make_message("moved by the admin API"))
    assert reply.code == 250, reply
    wait_until(lambda: relay.log_lines_with("status=deferred"), 10,
               message="a deferral while the old next hop is down")

    ferryctl(relay, "routes", "put", "example.net",
             f"127.0.0.1:{new_hop.port}")
    [message] = new_hop.wait_for_messages(1)
    assert message.recipients == ["bob@example.net"]
    delivered = relay.wait_for_log_lines("status=sent")
    assert delivered
    assert f":{new_hop.port}" in delivered[0]


def test_watch_sees_changes_and_resumes(ferryd, upstream, spool_dir,
                                        ferryctl, watches):
    next_hop = upstream()
    relay = ferryd(relay_config(free_port(), spool_dir,
                                {"example.net": [next_hop.port]}))
    wait_started(relay)
    watch = Watch(ferryctl, relay)
    watches.append(watch)
    snapshot = watch.next_event()
    assert snapshot["kind"] == "KIND_SNAPSHOT"
    assert snapshot["version"] == "1"
    assert [route["domain"] for route in snapshot["table"]] == ["example.net"]

    ferryctl(relay, "routes", "put", "a.example", "mx.a.example:2525")
    ferryctl(relay, "routes", "put", "b.example", "mx.b.example:2526/3")
    ferryctl(relay, "routes", "delete", "a.example")
    events = [watch.next_event() for _ in range(3)]
    assert [(e["kind"], e["version"], e["domain"]) for e in events] == [
        ("KIND_PUT", "2", "a.example"),
        ("KIND_PUT", "3", "b.example"),
        ("KIND_DELETE", "4", "a.example"),
    ]
    assert events[1]["route"]["next_hop"] == [
        {"host": "mx.b.example", "port": 2526, "priority": 3}]
    watch.assert_quiet()

    # Resuming from version 2 replays the later changes, without a
    # snapshot, and then follows new ones.
    resumed = Watch(ferryctl, relay, "--from=2")
    watches.append(resumed)
    replayed = [resumed.next_event() for _ in range(2)]
    assert [(e["kind"], e["version"]) for e in replayed] == [
        ("KIND_PUT", "3"), ("KIND_DELETE", "4")]
    ferryctl(relay, "routes", "put", "c.example", "mx.c.example")
    for stream in (watch, resumed):
        event = stream.next_event()
        assert (event["kind"], event["version"], event["domain"]) == (
            "KIND_PUT", "5", "c.example")

    # A watch ends when ferryd stops, with the exit status for a lost
    # ferryd.
    assert relay.stop() == 0
    assert watch.process.wait(10) == 3
    assert "ferryd is stopping" in watch.process.stderr.read()

    # After a restart the changes before it are gone: resuming from an
    # older version starts with a snapshot; the current version waits.
    relay.restart()
    wait_started(relay)
    after_restart = Watch(ferryctl, relay, "--from=3")
    watches.append(after_restart)
    snapshot = after_restart.next_event()
    assert (snapshot["kind"], snapshot["version"]) == ("KIND_SNAPSHOT", "5")
    assert [route["domain"] for route in snapshot["table"]] == [
        "b.example", "c.example", "example.net"]
    current = Watch(ferryctl, relay, "--from=5")
    watches.append(current)
    current.assert_quiet()


def test_table_over_four_mib_is_listed(relay, ferryctl):
    # gRPC clients receive at most 4 MiB per message by default; ferryctl
    # lifts that limit so that a large table can still be read.
    wait_started(relay.ferryd)
    # 10,000 entries is the most a route may list.
    recipients = [f"--recipient=user{i:06d}{'x' * 50}" for i in range(10000)]
    domains = [f"big{n}.example" for n in range(1, 9)]
    for domain in domains:
        ferryctl(relay.ferryd, "routes", "put", domain, "mx.example",
                 *recipients)

    listed = ferryctl(relay.ferryd, "routes", "list", json_output=True)
    assert len(listed.stdout) > 4 * 1024 * 1024
    table = listed.json()
    for domain in domains:
        route = next(route for route in table["route"]
                     if route["domain"] == domain)
        assert len(route["recipient"]) == 10000

    watch = ferryctl.popen(relay.ferryd, "routes", "watch", json_output=True)
    try:
        snapshot = json.loads(watch.stdout.readline())
    finally:
        watch.kill()
        watch.wait(10)
    assert snapshot["kind"] == "KIND_SNAPSHOT"
    assert snapshot["version"] == table["version"]


def test_watch_text_output(relay, ferryctl):
    wait_started(relay.ferryd)
    process = ferryctl.popen(relay.ferryd, "routes", "watch")
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in
                                     process.stdout], daemon=True).start()
    try:
        assert lines.get(timeout=10).startswith("version 1: snapshot of 2 "
                                                "routes")
        ferryctl(relay.ferryd, "routes", "delete", "example.com")
        seen = []
        while not any(line.startswith("version 2:") for line in seen):
            seen.append(lines.get(timeout=10))
        assert seen[-1].strip() == "version 2: delete example.com"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)


def test_restart_keeps_api_routes(ferryd, upstream, spool_dir, ferryctl):
    config_hop = upstream(start=False)
    api_hop = upstream()
    listen = free_port()
    relay = ferryd(relay_config(listen, spool_dir,
                                {"example.net": [config_hop.port]}))
    wait_started(relay)
    ferryctl(relay, "routes", "put", "example.net",
             f"127.0.0.1:{api_hop.port}")
    assert relay.stop() == 0

    relay.restart()
    wait_started(relay)
    [loaded] = relay.log_lines_with("event=routes_loaded")[-1:]
    assert "source=state version=2 routes=1" in loaded
    assert relay.log_lines_with("event=config_routes_ignored")
    listed = routes_json(ferryctl, relay)
    assert int(listed["version"]) == 2
    assert listed["route"][0]["next_hop"][0]["port"] == api_hop.port
    reply = send_message(listen, "alice@example.com", ["bob@example.net"],
                         make_message("after the restart"))
    assert reply.code == 250, reply
    api_hop.wait_for_messages(1)

    # The file's routes stay ignored on reload, and the reload reports it.
    reloaded = ferryctl(relay, "reload", json_output=True).json()
    assert reloaded["applied"] == [
        "routes: managed through the admin API since version 2; the "
        "file's routes are ignored"]
    os.kill(relay.pid, signal.SIGHUP)
    wait_until(lambda: len(relay.log_lines_with(
        "event=routes_reload_skipped")) >= 2, 10,
        message="the skipped reload after SIGHUP")
    assert int(routes_json(ferryctl, relay)["version"]) == 2


def test_config_seeds_first_start(ferryd, upstream, spool_dir, ferryctl):
    next_hop = upstream()
    listen = free_port()
    config = relay_config(listen, spool_dir, {"example.net": [next_hop.port]})
    config += ('route { domain: "*.Example.ORG" '
               'next_hop { host: "MX.example.org" } '
               'etrn_client: "2001:db8::/32" etrn_client: "192.0.2.7" }\n')
    relay = ferryd(config)
    wait_started(relay)
    [loaded] = relay.log_lines_with("event=routes_loaded")
    assert "source=config version=1 routes=2" in loaded
    assert os.path.exists(os.path.join(spool_dir, "routes.pb"))
    listed = routes_json(ferryctl, relay)
    assert int(listed["version"]) == 1
    assert listed["route"][0] == {
        "domain": "*.example.org",
        "next_hop": [{"host": "mx.example.org", "port": 25, "priority": 0}],
        "recipient": [],
        "etrn_client": ["2001:db8::/32", "192.0.2.7"],
    }
    assert listed["route"][1]["domain"] == "example.net"

    # While no change came through the API, a restart follows the file.
    assert relay.stop() == 0
    with open(relay.config_path, "w") as file:
        file.write(relay_config(listen, spool_dir,
                                {"example.net": [next_hop.port],
                                 "example.com": [next_hop.port]}) +
                   f'admin {{ socket: "{relay.admin_socket}" }}\n')
    relay.restart()
    wait_started(relay)
    [loaded] = relay.log_lines_with("event=routes_loaded")[-1:]
    assert "source=config version=3 routes=2" in loaded
    listed = routes_json(ferryctl, relay)
    assert [route["domain"] for route in listed["route"]] == [
        "example.com", "example.net"]


def test_damaged_state_file_stops_start(ferryd, spool_dir):
    os.makedirs(spool_dir)
    state_file = os.path.join(spool_dir, "routes.pb")
    with open(state_file, "wb") as file:
        file.write(b"\x0a\x05hello\x15\x00\x00\x00\x00")
    relay = ferryd(relay_config(free_port(), spool_dir, {}), start=False)
    process = subprocess.run(relay.argv(), capture_output=True, text=True,
                             timeout=30)
    assert process.returncode == 1
    assert f"route state file {state_file} is damaged" in process.stderr
    assert "checksum mismatch" in process.stderr
    assert "remove it" in process.stderr


@pytest.mark.parametrize("subcommand",
                         ["list", "get", "put", "delete", "watch"])
def test_every_routes_subcommand_has_help(ferryctl, subcommand):
    result = subprocess.run([ferryctl.binary, "routes", subcommand, "--help"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert result.stdout.startswith(
        f"Usage: ferryctl [GLOBAL OPTIONS] routes {subcommand}")


def test_routes_usage_errors(ferryctl):
    result = subprocess.run([ferryctl.binary, "routes", "--help"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert "SUBCOMMANDS" in result.stdout
    result = subprocess.run([ferryctl.binary, "--socket=/nonexistent.sock",
                             "routes", "frobnicate"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert 'unknown routes subcommand "frobnicate"' in result.stderr
    result = subprocess.run([ferryctl.binary, "--socket=/nonexistent.sock",
                             "routes", "list"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 3
