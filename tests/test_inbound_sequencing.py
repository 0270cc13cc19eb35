"""Command order and pipelining (RFC 5321 section 4.1.4, RFC 2920)."""

import time

import pytest

from relay_checks import QUIET_PERIOD, make_message
from smtp_wire import ConnectionClosed, ReplyTimeout, SmtpWire, dot_stuff


def test_nested_mail_rejected_503(relay):
    with SmtpWire(relay.port) as wire:
        wire.ehlo()
        assert wire.command("MAIL FROM:<alice@example.com>").code == 250
        reply = wire.command("MAIL FROM:<mallory@example.com>")
        assert reply.code == 503, reply
        assert reply.enhanced == "5.5.1", reply
        assert wire.command("RCPT TO:<bob@example.net>").code == 250
        assert wire.command("DATA").code == 354
        wire.send(dot_stuff(make_message("nested")))
        assert wire.read_reply().code == 250
    [message] = relay.upstream.wait_for_messages(1)
    assert message.mail_from == "<alice@example.com>"


# Commands sent before MAIL, each on a fresh connection after EHLO.
OUT_OF_ORDER = {
    "rcpt_before_mail": ["RCPT TO:<bob@example.net>"],
    "data_before_mail": ["DATA"],
    "rcpt_after_rset": ["MAIL FROM:<alice@example.com>", "RSET",
                        "RCPT TO:<bob@example.net>"],
}


@pytest.mark.parametrize("commands", OUT_OF_ORDER.values(),
                         ids=OUT_OF_ORDER.keys())
def test_command_out_of_order_503(relay, commands):
    with SmtpWire(relay.port) as wire:
        wire.ehlo()
        for command in commands[:-1]:
            assert wire.command(command).code == 250
        reply = wire.command(commands[-1])
        assert reply.code == 503, reply
        assert wire.command("NOOP").code == 250


def read_until_closed(wire: SmtpWire, limit: int = 50) -> list:
    replies = []
    try:
        for _ in range(limit):
            replies.append(wire.read_reply(timeout=5))
    except (ConnectionClosed, ReplyTimeout, ConnectionResetError):
        pass
    return replies


# DATA with no accepted recipient, pipelined with the body that follows.
NO_RECIPIENT = {
    "no_rcpt": b"",
    "rcpt_without_route": b"RCPT TO:<carol@example.org>\r\n",
    "rcpt_bad_syntax": b"RCPT TO:<bad-syntax\r\n",
}


@pytest.mark.parametrize("rcpt", NO_RECIPIENT.values(),
                         ids=NO_RECIPIENT.keys())
def test_data_without_recipient_takes_no_body(relay, rcpt):
    body = b"Subject: not a message\r\n\r\nbody text\r\n.\r\n"
    with SmtpWire(relay.port) as wire:
        wire.ehlo()
        wire.send(b"MAIL FROM:<alice@example.com>\r\n" + rcpt + b"DATA\r\n"
                  + body + b"QUIT\r\n")
        replies = read_until_closed(wire)
    expected_rcpt_replies = 1 if rcpt else 0
    mail_reply, data_reply = replies[0], replies[1 + expected_rcpt_replies]
    assert mail_reply.code == 250
    assert data_reply.code in (503, 554), data_reply
    if data_reply.code == 554:
        assert data_reply.enhanced == "5.5.1", data_reply
    assert all(reply.code != 354 for reply in replies), replies
    assert all(reply.queue_id is None for reply in replies), replies
    time.sleep(QUIET_PERIOD)
    assert relay.upstream.store.messages() == []


# Commands that end a transaction: afterwards DATA has nothing to send and a
# new MAIL is not nested.
RESETS = ["EHLO client.example.com", "HELO client.example.com", "RSET"]


@pytest.mark.parametrize("reset", RESETS, ids=["ehlo", "helo", "rset"])
def test_reset_command_ends_transaction(relay, reset):
    with SmtpWire(relay.port) as wire:
        wire.ehlo()
        assert wire.command("MAIL FROM:<alice@example.com>").code == 250
        assert wire.command("RCPT TO:<bob@example.net>").code == 250
        assert wire.command(reset).code == 250
        assert wire.command("DATA").code == 503
        assert wire.command("MAIL FROM:<mallory@example.com>").code == 250
        assert wire.command("RCPT TO:<carol@example.net>").code == 250
        assert wire.command("DATA").code == 354
        wire.send(dot_stuff(make_message("after reset")))
        assert wire.read_reply().code == 250
    [message] = relay.upstream.wait_for_messages(1)
    assert message.mail_from == "<mallory@example.com>"
    assert message.recipients == ["carol@example.net"]


def test_pipelined_replies_one_per_command(relay):
    with SmtpWire(relay.port) as wire:
        assert "PIPELINING" in wire.ehlo().text.upper()
        wire.send(b"MAIL FROM:<alice@example.com>\r\n"
                  b"RCPT TO:<bad-syntax\r\n"
                  b"RCPT TO:<bob@example.net>\r\n"
                  b"DATA\r\n")
        replies = wire.read_replies(4)
        assert [reply.code for reply in replies] == [250, 501, 250, 354]
        assert not wire.has_pending_data(0.5)
        wire.send(dot_stuff(make_message("pipelined")))
        assert wire.read_reply().code == 250
    [message] = relay.upstream.wait_for_messages(1)
    assert message.recipients == ["bob@example.net"]


def test_pipelined_whole_transaction_one_write(relay):
    message = dot_stuff(make_message("one write"))
    with SmtpWire(relay.port) as wire:
        wire.send(b"EHLO client.example.com\r\n"
                  b"MAIL FROM:<alice@example.com>\r\n"
                  b"RCPT TO:<bob@example.net>\r\n"
                  b"RCPT TO:<carol@example.net>\r\n"
                  b"DATA\r\n")
        replies = wire.read_replies(5)
        assert [reply.code for reply in replies] == [250, 250, 250, 250, 354]
        wire.send(message + b"QUIT\r\n")
        assert wire.read_reply().code == 250
        assert wire.read_reply().code == 221
    [stored] = relay.upstream.wait_for_messages(1)
    assert stored.recipients == ["bob@example.net", "carol@example.net"]
