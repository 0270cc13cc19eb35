"""Dot transparency (RFC 5321 section 4.5.2) on the way in and out.

ferryd removes the leading dot of each received line that starts with one,
spools the result, and stuffs every line that starts with a dot again when
it sends the message on. The upstream's unstuffed copy must equal the
spooled body, apart from the trace fields ferryd puts in front.
"""

import pytest

from relay_checks import bare_line_endings, relay_prefix
from smtp_wire import SmtpWire, dot_stuff

# (DATA as the client sends it, without the final ".\r\n"; body spooled)
BODIES = {
    "case": (b"Subject: dots\r\n\r\n..\r\n...two\r\n\r\n..\r\nend\r\n",
             b"Subject: dots\r\n\r\n.\r\n..two\r\n\r\n.\r\nend\r\n"),
    "dot_space": (b"Subject: d\r\n\r\n.. \r\n", b"Subject: d\r\n\r\n. \r\n"),
    "first_line_dot": (b"..first\r\n\r\nbody\r\n", b".first\r\n\r\nbody\r\n"),
    "last_line_dots": (b"Subject: d\r\n\r\nx\r\n....\r\n",
                       b"Subject: d\r\n\r\nx\r\n...\r\n"),
    "inner_dots_kept": (b"Subject: d\r\n\r\na.b\r\n .\r\nx..\r\n",
                        b"Subject: d\r\n\r\na.b\r\n .\r\nx..\r\n"),
}


def send_data(port: int, data: bytes):
    with SmtpWire(port) as wire:
        wire.ehlo()
        assert wire.command("MAIL FROM:<alice@example.com>").code == 250
        assert wire.command("RCPT TO:<bob@example.net>").code == 250
        assert wire.command("DATA").code == 354
        wire.send(data + b".\r\n")
        return wire.read_reply()


@pytest.mark.parametrize("sent, spooled", BODIES.values(), ids=BODIES.keys())
def test_dots_unstuffed_and_restuffed(relay, sent, spooled):
    reply = send_data(relay.port, sent)
    assert reply.code == 250, reply
    [message] = relay.upstream.wait_for_messages(1)
    relay_prefix(message.content, spooled)
    assert message.raw == dot_stuff(message.content)


@pytest.mark.time_limit(240)
def test_200000_dot_lines_relayed_whole(relay):
    reply = send_data(relay.port, b"..\r\n" * 200000)
    assert reply.code == 250, reply
    [message] = relay.upstream.wait_for_messages(1, timeout=120)
    relay_prefix(message.content, b".\r\n" * 200000)
    assert message.raw == dot_stuff(message.content)
    assert bare_line_endings(message.raw) == []
