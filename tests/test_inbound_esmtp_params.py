"""MAIL and RCPT parameters (RFC 5321 section 4.1.2, RFC 1870, RFC 6152).

Each malformed parameter gets 501 5.5.4, a well-formed unknown one 555
5.5.4, and a SIZE beyond any limit 552 5.3.4. The session goes on after
each: NOOP gets 250 and a new MAIL is accepted.
"""

import pytest

from smtp_wire import SmtpWire

# (parameters after MAIL FROM:<alice@example.com>, code, enhanced code)
MAIL_PARAMETERS = [
    ("SIZE=", 501, "5.5.4"),
    ("=x", 501, "5.5.4"),
    ("X-FOO=a=b", 501, "5.5.4"),
    ("BODY=8BITMIME BODY=7BIT", 501, "5.5.4"),
    ("FOO", 555, "5.5.4"),
    ("SIZE=abc", 501, "5.5.4"),
    ("SIZE=99999999999999999999999", 552, "5.3.4"),
    # Siblings of the cases above.
    ("SIZE=100 SIZE=100", 501, "5.5.4"),
    ("BODY=", 501, "5.5.4"),
    ("BODY=9BIT", 501, "5.5.4"),
    ("SIZE=-1", 501, "5.5.4"),
    ("SIZE=+5", 501, "5.5.4"),
    ("SIZE=1e3", 501, "5.5.4"),
    ("X-FOO=", 501, "5.5.4"),
    ("X-FOO=\x01", 501, "5.5.4"),
    ("SIZE=100 X-FOO=", 501, "5.5.4"),
    ("FOO=bar", 555, "5.5.4"),
    ("BAR BAZ", 555, "5.5.4"),
    ("SIZE=18446744073709551616", 552, "5.3.4"),
]

RCPT_PARAMETERS = [
    ("FOO", 555, "5.5.4"),
    ("=x", 501, "5.5.4"),
    ("X-FOO=a=b", 501, "5.5.4"),
]


@pytest.mark.parametrize("params, code, enhanced", MAIL_PARAMETERS,
                         ids=[p[0] for p in MAIL_PARAMETERS])
def test_mail_parameter_rejected(relay, params, code, enhanced):
    with SmtpWire(relay.port) as wire:
        wire.ehlo()
        reply = wire.command(f"MAIL FROM:<alice@example.com> {params}")
        assert reply.code == code, reply
        assert reply.enhanced == enhanced, reply
        assert wire.command("NOOP").code == 250
        assert wire.command("MAIL FROM:<alice@example.com>").code == 250


@pytest.mark.parametrize("params, code, enhanced", RCPT_PARAMETERS,
                         ids=[p[0] for p in RCPT_PARAMETERS])
def test_rcpt_parameter_rejected(relay, params, code, enhanced):
    with SmtpWire(relay.port) as wire:
        wire.ehlo()
        assert wire.command("MAIL FROM:<alice@example.com>").code == 250
        reply = wire.command(f"RCPT TO:<bob@example.net> {params}")
        assert reply.code == code, reply
        assert reply.enhanced == enhanced, reply
        assert wire.command("NOOP").code == 250
        assert wire.command("RCPT TO:<bob@example.net>").code == 250


def test_mail_known_parameters_accepted(relay):
    with SmtpWire(relay.port) as wire:
        wire.ehlo()
        reply = wire.command(
            "MAIL FROM:<alice@example.com> SIZE=1000 BODY=8BITMIME")
        assert reply.code == 250, reply
