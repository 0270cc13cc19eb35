"""Durability: a 250 means the message survives kill -9 and a full disk.

ferryd replies 250 to the end of data only after the message is on disk
(fdatasync). After kill -9 and a restart on the same spool, every message
that got 250 is delivered, and exactly once, except a message that was in
flight to the next hop at the kill: its first copy may have been accepted
by the next hop before ferryd could record that, so a second copy is
allowed for it (RFC 5321 section 6.1 accepts this window). A spool that is
full or read-only gets 452 4.3.1 or 451 4.3.0, never 250.
"""

import collections
import re
import threading
import time

import pytest

from ferry_config import relay_config
from processes import free_port, wait_until
from relay_checks import QUIET_PERIOD, make_message, relay_prefix
from smtp_wire import (ConnectionClosed, ReplyTimeout, SmtpWire, dot_stuff,
                       send_message)

SPOOL_ERRORS = {(451, "4.3.0"), (452, "4.3.1")}


def relay_with_upstream(ferryd, upstream, tmp_path, *, upstream_up=True,
                        **options):
    next_hop = upstream(start=upstream_up)
    config = relay_config(free_port(), str(tmp_path / "spool"),
                          {"example.net": [next_hop.port],
                           "example.com": [next_hop.port]}, **options)
    return ferryd(config), next_hop


@pytest.mark.parametrize("count", [1, 20], ids=["one", "twenty"])
def test_kill9_after_250_then_delivered(ferryd, upstream, tmp_path, count):
    relay, next_hop = relay_with_upstream(ferryd, upstream, tmp_path,
                                          upstream_up=False)
    contents = [make_message(f"survives kill {index}") for index in
                range(count)]
    for content in contents:
        reply = send_message(relay.port, "alice@example.com",
                             ["bob@example.net", "carol@example.net"],
                             content)
        assert reply.code == 250, reply
    relay.kill_and_restart()
    next_hop.start()
    messages = next_hop.wait_for_messages(count, timeout=60)
    time.sleep(QUIET_PERIOD)
    messages = next_hop.store.accepted_messages()
    assert len(messages) == count
    for message, content in zip(sorted(messages, key=subject_of),
                                sorted(contents, key=subject_of)):
        relay_prefix(message.content, content)
        assert sorted(message.recipients) == ["bob@example.net",
                                              "carol@example.net"]


def subject_of(message) -> bytes:
    content = message if isinstance(message, bytes) else message.content
    return re.search(rb"Subject: ([^\r\n]*)", content).group(1)


def test_sigterm_keeps_queued_mail(ferryd, upstream, tmp_path):
    relay, next_hop = relay_with_upstream(ferryd, upstream, tmp_path,
                                          upstream_up=False)
    content = make_message("survives restart")
    assert send_message(relay.port, "alice@example.com", ["bob@example.net"],
                        content).code == 250
    assert relay.stop() == 0
    relay.restart()
    next_hop.start()
    [message] = next_hop.wait_for_messages(1, timeout=60)
    relay_prefix(message.content, content)


# The kill -9 load test.

LOAD_MESSAGES = 2000
LOAD_THREADS = 20
KILL_AFTER_ACCEPTED = 800


class LoadClient:
    """Sends numbered messages from several threads and records replies."""

    def __init__(self, port: int, padding_lines: int = 0):
        self.port = port
        self.padding = ("p" * 998 + "\r\n") * padding_lines
        self.lock = threading.Lock()
        self.accepted: set[int] = set()
        self.unanswered: set[int] = set()  # sent, connection lost before reply
        self.rejected: dict[int, str] = {}
        self.next_number = 0

    def take_number(self) -> int | None:
        with self.lock:
            if self.next_number >= LOAD_MESSAGES:
                return None
            self.next_number += 1
            return self.next_number - 1

    def run_thread(self) -> None:
        try:
            with SmtpWire(self.port, timeout=30) as wire:
                wire.ehlo()
                while (number := self.take_number()) is not None:
                    self.send_one(wire, number)
        except (OSError, ConnectionClosed, ReplyTimeout, AssertionError):
            pass  # ferryd was killed; the message in flight is recorded

    def send_one(self, wire: SmtpWire, number: int) -> None:
        content = make_message(f"load {number}",
                               f"X-Load-Number: {number}\r\n{self.padding}")
        with self.lock:
            self.unanswered.add(number)
        reply = wire.mail_transaction("alice@example.com",
                                      ["bob@example.net"], content)
        with self.lock:
            self.unanswered.discard(number)
            if reply.code == 250:
                self.accepted.add(number)
            else:
                self.rejected[number] = str(reply)

    def run(self) -> None:
        """Run all threads to the end; return when every thread is done."""
        threads = [threading.Thread(target=self.run_thread)
                   for _ in range(LOAD_THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert not any(thread.is_alive() for thread in threads)


def load_number(message) -> int:
    return int(re.search(rb"X-Load-Number: (\d+)", message.content).group(1))


def kill_during_load(relay, client: LoadClient) -> tuple[float, set[int]]:
    """Kill ferryd once KILL_AFTER_ACCEPTED messages got 250.

    Returns the time of the kill and the messages sent without a reply.
    """
    runner = threading.Thread(target=client.run)
    runner.start()
    wait_until(lambda: len(client.accepted) >= KILL_AFTER_ACCEPTED
               or not runner.is_alive(), 300,
               message=f"{KILL_AFTER_ACCEPTED} accepted messages")
    relay.kill()
    killed_at = time.time()
    runner.join(timeout=120)
    assert not runner.is_alive()
    in_flight = set(client.unanswered)
    client.unanswered.clear()
    return killed_at, in_flight


# With 10 kB messages and 1 MiB segments, each worker fills several
# segments before the kill, and spent ones are reused while mail flows.
LOAD_SETUPS = {
    "small_messages": {"padding_lines": 0, "options": {}},
    "reused_segments": {"padding_lines": 10,
                        "options": {"segment_size": 1048576,
                                    "spare_segments": 2}},
}


@pytest.mark.time_limit(600)
@pytest.mark.parametrize("setup", LOAD_SETUPS.values(), ids=LOAD_SETUPS.keys())
def test_kill9_under_load_no_loss(ferryd, upstream, tmp_path, setup):
    relay, next_hop = relay_with_upstream(ferryd, upstream, tmp_path,
                                          workers=2, **setup["options"])
    client = LoadClient(relay.port, setup["padding_lines"])
    killed_at, in_flight_inbound = kill_during_load(relay, client)
    assert len(client.accepted) >= KILL_AFTER_ACCEPTED // 2

    # Send the rest after the restart, on the same spool.
    relay.restart()
    client.run()
    assert client.rejected == {}
    assert client.unanswered == set(), "connections failed after restart"
    assert client.next_number == LOAD_MESSAGES

    def delivered_numbers():
        return {load_number(m) for m in next_hop.store.accepted_messages()}

    wait_until(lambda: delivered_numbers() >= client.accepted, 300,
               message="delivery of every accepted message")
    time.sleep(QUIET_PERIOD)
    messages = next_hop.store.accepted_messages()
    counts = collections.Counter(load_number(m) for m in messages)
    missing = client.accepted - set(counts)
    assert not missing, (f"{len(missing)} accepted messages lost: "
                         f"{sorted(missing)[:20]}")

    # A duplicate is allowed only when its first copy reached the next hop
    # before the kill, because ferryd may not have recorded that delivery.
    first_copy_at = {}
    for message in messages:
        first_copy_at.setdefault(load_number(message), message.received_at)
    unexplained = {number for number, count in counts.items()
                   if count > 1 and first_copy_at[number] > killed_at + 0.5}
    assert not unexplained, f"duplicates after the kill: {sorted(unexplained)}"
    without_250 = set(counts) - client.accepted
    assert without_250 <= in_flight_inbound, (
        f"delivered without a 250: {sorted(without_250 - in_flight_inbound)}")


# Full and read-only spools, on a small tmpfs in a private mount namespace.

SPOOL_SIZE = "16m"
SEGMENT_SIZE = 1048576


def spool_relay(ferryd, upstream, tmp_path, namespace, upstream_up=False):
    next_hop = upstream(start=upstream_up)
    config = relay_config(free_port(), namespace.spool_dir,
                          {"example.net": [next_hop.port],
                           "example.com": [next_hop.port]},
                          segment_size=SEGMENT_SIZE)
    return ferryd(config, prefix=namespace.prefix), next_hop


def try_message(port: int, content: bytes):
    """Run one transaction; return the first reply that is not 2xx/3xx."""
    with SmtpWire(port) as wire:
        wire.ehlo()
        for command in ("MAIL FROM:<alice@example.com>",
                        "RCPT TO:<bob@example.net>", "DATA"):
            reply = wire.command(command)
            if reply.code >= 400:
                return reply
        wire.send(dot_stuff(content))
        return wire.read_reply()


def fill_while_running(relay, namespace) -> None:
    namespace.fill()


def fill_while_stopped(relay, namespace) -> None:
    assert relay.stop() == 0
    namespace.fill()
    relay.start()


FILL_TIMES = {"while_running": fill_while_running,
              "before_start": fill_while_stopped}


@pytest.mark.time_limit(300)
@pytest.mark.parametrize("fill", FILL_TIMES.values(), ids=FILL_TIMES.keys())
def test_full_spool_never_250(ferryd, upstream, tmp_path, spool_namespace,
                              fill):
    namespace = spool_namespace(str(tmp_path / "spool"), SPOOL_SIZE)
    relay, next_hop = spool_relay(ferryd, upstream, tmp_path, namespace)
    fill(relay, namespace)
    # Space set aside before the disk filled up (a preallocated segment)
    # may still take some messages, so send until the first refusal.
    accepted, refusal = [], None
    for index in range(400):
        content = make_message(f"full {index}", "y" * 64000 + "\r\n")
        reply = try_message(relay.port, content)
        if reply.code != 250:
            refusal = reply
            break
        accepted.append(content)
    assert refusal is not None, "400 messages of 64 kB fit in a full spool"
    assert (refusal.code, refusal.enhanced) in SPOOL_ERRORS, refusal
    # Free the space: mail is accepted again, and after a restart exactly
    # the messages that got 250 are delivered, none half-written.
    namespace.run_inside(["rm", f"{namespace.spool_dir}/filler"])
    content = make_message("after space freed")
    reply = try_message(relay.port, content)
    assert reply.code == 250, reply
    accepted.append(content)
    relay.kill_and_restart()
    next_hop.start()
    next_hop.wait_for_messages(len(accepted), timeout=120)
    time.sleep(QUIET_PERIOD)
    messages = next_hop.store.messages()
    assert len(messages) == len(accepted)
    for message, content in zip(sorted(messages, key=subject_of),
                                sorted(accepted, key=subject_of)):
        relay_prefix(message.content, content)


def test_read_only_spool_never_250(ferryd, upstream, tmp_path,
                                   spool_namespace):
    namespace = spool_namespace(str(tmp_path / "spool"), SPOOL_SIZE)
    relay, next_hop = spool_relay(ferryd, upstream, tmp_path, namespace,
                                  upstream_up=True)
    # Remount while ferryd is down: a mount with files open for writing
    # cannot be made read-only.
    assert relay.stop() == 0
    namespace.remount("ro")
    relay.start()
    for index in range(3):
        reply = try_message(relay.port, make_message(f"read-only {index}"))
        assert (reply.code, reply.enhanced) in SPOOL_ERRORS, reply
    time.sleep(QUIET_PERIOD)
    assert next_hop.store.messages() == []
