"""Only CRLF.CRLF ends DATA: SMTP smuggling attempts with bare LF or CR.

A client sends, in one write after 354, a first message that "ends" with a
dot between bare line endings, followed by a second transaction. A relay
that takes the fake end as real would run the second transaction and relay
a forged message. ferryd must see one message only. With the default
bare_line_ending (NORMALIZE) it spools that one message, bare endings
rewritten as CRLF, with the would-be commands as body text. With REJECT it
replies 550 5.6.0 after the real end of data and spools nothing.
"""

import time

import pytest

from relay_checks import QUIET_PERIOD, bare_line_endings
from smtp_wire import SmtpWire

FAKE_ENDS = {
    "lf_dot_lf": b"\n.\n",
    "lf_dot_crlf": b"\n.\r\n",
    "crlf_dot_lf": b"\r\n.\n",
    "cr_dot_cr": b"\r.\r",
    "crlf_dot_cr": b"\r\n.\r",
    "cr_dot_crlf": b"\r.\r\n",
    "lf_dot_cr": b"\n.\r",
}

SMUGGLED = (b"MAIL FROM:<ceo@example.com>\r\n"
            b"RCPT TO:<bob@example.net>\r\n"
            b"DATA\r\n"
            b"Subject: forged\r\n"
            b"\r\n"
            b"x\r\n"
            b".\r\n")


def smuggling_payload(fake_end: bytes) -> bytes:
    return b"Subject: first\r\n\r\nhello" + fake_end + SMUGGLED


def send_after_354(port: int, payload: bytes):
    """Open a transaction alice -> carol, send `payload` in one write.

    Returns the first reply after the payload and whether any further reply
    arrived within a second (a smuggled transaction would produce several).
    """
    with SmtpWire(port) as wire:
        wire.ehlo()
        assert wire.command("MAIL FROM:<alice@example.com>").code == 250
        assert wire.command("RCPT TO:<carol@example.net>").code == 250
        assert wire.command("DATA").code == 354
        wire.send(payload)
        reply = wire.read_reply()
        extra = wire.has_pending_data(1.0)
        noop = wire.command("NOOP")
    return reply, extra, noop


@pytest.mark.parametrize("fake_end", FAKE_ENDS.values(), ids=FAKE_ENDS.keys())
def test_fake_end_normalized_one_message(make_relay, fake_end):
    relay = make_relay()
    reply, extra, noop = send_after_354(relay.port,
                                        smuggling_payload(fake_end))
    assert reply.code == 250, f"end of data: {reply}"
    assert not extra, "more than one reply after one end of data"
    assert noop.code == 250
    [message] = relay.upstream.wait_for_messages(1)
    time.sleep(QUIET_PERIOD)
    assert len(relay.upstream.store.messages()) == 1
    assert message.mail_from == "<alice@example.com>"
    assert message.recipients == ["carol@example.net"]
    assert b"MAIL FROM:<ceo@example.com>" in message.content
    assert b"Subject: forged" in message.content
    # What the upstream saw on the wire: CRLF only, one end of data.
    assert bare_line_endings(message.raw) == []
    assert message.raw.count(b"\r\n.\r\n") == 1
    assert message.raw.endswith(b"\r\n.\r\n")
    mail_commands = relay.upstream.store.commands("MAIL")
    assert all("ceo@example.com" not in line for line in mail_commands)


@pytest.mark.parametrize("fake_end", FAKE_ENDS.values(), ids=FAKE_ENDS.keys())
def test_fake_end_rejected_with_reject_policy(make_relay, fake_end):
    relay = make_relay(bare_line_ending="BARE_LINE_ENDING_REJECT")
    reply, extra, noop = send_after_354(relay.port,
                                        smuggling_payload(fake_end))
    assert reply.code == 550, f"end of data: {reply}"
    assert reply.enhanced == "5.6.0"
    assert not extra, "more than one reply after one end of data"
    assert noop.code == 250
    time.sleep(QUIET_PERIOD)
    assert relay.upstream.store.messages() == []


def test_bare_lf_in_body_normalized(make_relay):
    relay = make_relay()
    reply, _, _ = send_after_354(
        relay.port, b"Subject: lf\r\n\r\none\ntwo\rthree\r\n.\r\n")
    assert reply.code == 250
    [message] = relay.upstream.wait_for_messages(1)
    assert message.content.endswith(b"\r\n\r\none\r\ntwo\r\nthree\r\n")
    assert bare_line_endings(message.raw) == []
