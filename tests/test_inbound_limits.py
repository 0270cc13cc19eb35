"""Bounds on what a client may send: line length, size, recipients."""

import time

import pytest

from processes import wait_until
from relay_checks import QUIET_PERIOD, make_message
from smtp_wire import ConnectionClosed, ReplyTimeout, SmtpWire, dot_stuff

# ferryd's default max_command_line is 2048 octets; each of these is longer.
LONG_LINES = {
    "ehlo": "EHLO " + "a" * 10000,
    "mail": "MAIL FROM:<" + "a" * 10000 + "@example.com>",
    "noop": "NOOP " + "a" * 10000,
    "no_verb": "a" * 10000,
    "hundred_thousand": "EHLO " + "a" * 100000,
}


@pytest.mark.parametrize("line", LONG_LINES.values(), ids=LONG_LINES.keys())
def test_long_command_line_500(relay, line):
    with SmtpWire(relay.port) as wire:
        reply = wire.command(line)
        assert reply.code == 500, reply
        assert reply.enhanced == "5.5.2", reply
        assert wire.command("NOOP").code == 250


def test_long_line_and_noop_in_one_write(relay):
    with SmtpWire(relay.port) as wire:
        wire.send(b"EHLO " + b"a" * 10000 + b"\r\nNOOP\r\n")
        first, second = wire.read_replies(2)
    assert first.code == 500, first
    assert second.code == 250, second


def send_flood(wire: SmtpWire, filler: bytes, total: int) -> list:
    """Send `total` octets of `filler` in 1 MiB writes until ferryd closes.

    Returns the replies that arrived meanwhile.
    """
    chunk = filler * (1024 * 1024 // len(filler))
    replies, sent = [], 0
    try:
        while sent < total:
            wire.send(chunk)
            sent += len(chunk)
            while wire.has_pending_data(0):
                replies.append(wire.read_reply(timeout=5))
    except (BrokenPipeError, ConnectionResetError, ConnectionClosed,
            TimeoutError):
        pass  # ferryd closed the connection or stopped reading
    return replies


def read_rest(wire: SmtpWire) -> tuple[list, bool]:
    """Return the replies still to come and whether the connection closed."""
    replies = []
    try:
        while True:
            replies.append(wire.read_reply(timeout=10))
    except (ConnectionClosed, ConnectionResetError):
        return replies, True
    except ReplyTimeout:
        return replies, False


# The memory growth allowed while 100 MB arrive; far below the 100 MB that
# an unbounded line buffer would need.
MEMORY_GROWTH_LIMIT_KB = 50 * 1024

FLOOD_FILLERS = {"letters": b"a", "bare_cr": b"\r", "nul": b"\0"}


@pytest.mark.time_limit(300)
@pytest.mark.parametrize("filler", FLOOD_FILLERS.values(),
                         ids=FLOOD_FILLERS.keys())
def test_100mb_without_lf_bounded(relay, filler):
    peak_before = relay.ferryd.memory_kb("VmHWM")
    with SmtpWire(relay.port) as wire:
        replies = send_flood(wire, filler, 100 * 1024 * 1024)
        more, closed = read_rest(wire)
        replies += more
    growth = relay.ferryd.memory_kb("VmHWM") - peak_before
    assert growth < MEMORY_GROWTH_LIMIT_KB, f"peak memory grew {growth} kB"
    assert closed, "ferryd kept the connection open"
    assert [reply.code for reply in replies] in ([500], [421], [500, 421]), (
        replies)


@pytest.mark.time_limit(300)
def test_100mb_data_line_bounded(relay):
    peak_before = relay.ferryd.memory_kb("VmHWM")
    with SmtpWire(relay.port) as wire:
        wire.ehlo()
        assert wire.command("MAIL FROM:<alice@example.com>").code == 250
        assert wire.command("RCPT TO:<bob@example.net>").code == 250
        assert wire.command("DATA").code == 354
        wire.send(b"Subject: flood\r\n\r\n")
        replies = send_flood(wire, b"a", 100 * 1024 * 1024)
        try:
            wire.send(b"\r\n.\r\n")
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass
        more, closed = read_rest(wire)
        replies += more
    growth = relay.ferryd.memory_kb("VmHWM") - peak_before
    assert growth < MEMORY_GROWTH_LIMIT_KB, f"peak memory grew {growth} kB"
    assert replies or closed, "no reply to the end of data and no close"
    assert all(reply.code >= 400 for reply in replies), replies
    time.sleep(QUIET_PERIOD)
    assert relay.upstream.store.messages() == []


SMALL_LIMIT = {"max_message_size": 1048576}


def test_size_limit_advertised(make_relay):
    relay = make_relay(limits=SMALL_LIMIT)
    with SmtpWire(relay.port) as wire:
        reply = wire.ehlo()
    assert "SIZE 1048576" in reply.lines


# (SIZE parameter, expected MAIL reply code, enhanced code)
DECLARED_SIZES = [
    ("2000000", 552, "5.3.4"),
    ("1048577", 552, "5.3.4"),
    ("1048576", 250, None),
]


@pytest.mark.parametrize("size, code, enhanced", DECLARED_SIZES,
                         ids=[size for size, _, _ in DECLARED_SIZES])
def test_declared_size_checked_at_mail(make_relay, size, code, enhanced):
    relay = make_relay(limits=SMALL_LIMIT)
    with SmtpWire(relay.port) as wire:
        wire.ehlo()
        reply = wire.command(f"MAIL FROM:<alice@example.com> SIZE={size}")
        assert reply.code == code, reply
        if enhanced:
            assert reply.enhanced == enhanced, reply


# MAIL parameters for a 3 MB body: none, or a SIZE that understates it.
UNDECLARED = {"no_size": "", "size_understated": " SIZE=1000"}


@pytest.mark.parametrize("params", UNDECLARED.values(), ids=UNDECLARED.keys())
def test_oversized_body_read_then_552(make_relay, params):
    relay = make_relay(limits=SMALL_LIMIT)
    body = make_message("big", "x" * 998 + "\r\n") * 3000
    assert len(body) > 3000000
    with SmtpWire(relay.port) as wire:
        wire.ehlo()
        reply = wire.command(f"MAIL FROM:<alice@example.com>{params}")
        assert reply.code == 250, reply
        assert wire.command("RCPT TO:<bob@example.net>").code == 250
        assert wire.command("DATA").code == 354
        data = dot_stuff(body)
        wire.send(data[:-3])
        assert not wire.has_pending_data(1.0), "replied before end of data"
        wire.send(data[-3:])
        reply = wire.read_reply()
        assert reply.code == 552, reply
        assert reply.enhanced == "5.3.4", reply
        assert wire.command("RSET").code == 250
    time.sleep(QUIET_PERIOD)
    assert relay.upstream.store.messages() == []


RECIPIENT_LIMIT = {"max_recipients": 100}


def recipient_addresses(count: int) -> list[str]:
    return [f"r{index:03d}@example.net" for index in range(count)]


@pytest.mark.parametrize("pipelined", [False, True],
                         ids=["one_by_one", "pipelined"])
def test_recipients_past_limit_452(make_relay, pipelined):
    relay = make_relay(limits=RECIPIENT_LIMIT)
    addresses = recipient_addresses(150)
    with SmtpWire(relay.port) as wire:
        wire.ehlo()
        assert wire.command("MAIL FROM:<alice@example.com>").code == 250
        commands = [f"RCPT TO:<{address}>" for address in addresses]
        if pipelined:
            wire.send("".join(c + "\r\n" for c in commands).encode())
            replies = wire.read_replies(len(commands))
        else:
            replies = [wire.command(command) for command in commands]
        assert [r.code for r in replies[:100]] == [250] * 100
        assert [r.code for r in replies[100:]] == [452] * 50
        assert {r.enhanced for r in replies[100:]} == {"4.5.3"}
        assert wire.command("DATA").code == 354
        wire.send(dot_stuff(make_message("many recipients")))
        assert wire.read_reply().code == 250
    expected = addresses[:100]

    def delivered():
        recipients = [address for message in
                      relay.upstream.store.accepted_messages()
                      for address in message.recipients]
        return recipients if len(recipients) >= 100 else None

    wait_until(delivered, 30, message="100 recipients")
    time.sleep(QUIET_PERIOD)
    assert sorted(delivered()) == expected
    contents = {m.content for m in relay.upstream.store.accepted_messages()}
    assert len(contents) == 1
