"""Addresses are accepted and forwarded with the same bytes.

The upstream here advertises no extension but 8BITMIME, so ferryd has no
parameter to add: each forwarded MAIL and RCPT line must be exactly the
path as the client sent it (BODY=8BITMIME is allowed where the client gave
it).
"""

import os

import pytest

from relay_checks import make_message
from smtp_wire import SmtpWire, dot_stuff

PLAIN_UPSTREAM = {"ehlo": ["250-upstream.example.org", "250 8BITMIME"]}

# (MAIL command, RCPT command, forwarded MAIL path, forwarded RCPT path)
KEPT = {
    "quoted_sender": ('MAIL FROM:<"odd user"@example.com>',
                      "RCPT TO:<bob@example.net>",
                      '<"odd user"@example.com>', "<bob@example.net>"),
    "quoted_orcpt_lookalike": (
        "MAIL FROM:<alice@example.com>",
        'RCPT TO:<"foo@example.org> ORCPT=rfc822;x@example.org"@example.net>',
        "<alice@example.com>",
        '<"foo@example.org> ORCPT=rfc822;x@example.org"@example.net>'),
    "plus_and_equals": ("MAIL FROM:<alice@example.com>",
                        "RCPT TO:<a+caf_=x=y@example.net>",
                        "<alice@example.com>", "<a+caf_=x=y@example.net>"),
    "srs": ("MAIL FROM:<alice@example.com>",
            "RCPT TO:<SRS0=ab/c=12=example.com=alice@example.net>",
            "<alice@example.com>",
            "<SRS0=ab/c=12=example.com=alice@example.net>"),
    "escaped_quote": ("MAIL FROM:<alice@example.com>",
                      'RCPT TO:<"a\\"b"@example.net>',
                      "<alice@example.com>", '<"a\\"b"@example.net>'),
    "lower_case_verbs": ("mail from:<Alice.Smith@Example.COM> body=8bitmime",
                         "rcpt to:<bob@example.net>",
                         "<Alice.Smith@Example.COM>", "<bob@example.net>"),
    "mixed_case_domain": ("Mail From:<alice@example.com>",
                          "Rcpt To:<Bob@Example.NET>",
                          "<alice@example.com>", "<Bob@Example.NET>"),
    "quoted_space_recipient": ("MAIL FROM:<alice@example.com>",
                               'RCPT TO:<"john doe"@example.net>',
                               "<alice@example.com>",
                               '<"john doe"@example.net>'),
}


@pytest.mark.parametrize("mail, rcpt, mail_path, rcpt_path", KEPT.values(),
                         ids=KEPT.keys())
def test_address_forwarded_unchanged(make_relay, mail, rcpt, mail_path,
                                     rcpt_path):
    relay = make_relay(PLAIN_UPSTREAM)
    with SmtpWire(relay.port) as wire:
        wire.ehlo()
        reply = wire.command(mail)
        assert reply.code == 250, f"{mail}: {reply}"
        reply = wire.command(rcpt)
        assert reply.code == 250, f"{rcpt}: {reply}"
        assert wire.command("DATA").code == 354
        wire.send(dot_stuff(make_message("address")))
        assert wire.read_reply().code == 250
    [message] = relay.upstream.wait_for_messages(1)
    [forwarded_mail] = relay.upstream.store.commands("MAIL")
    assert forwarded_mail in (f"MAIL FROM:{mail_path}",
                              f"MAIL FROM:{mail_path} BODY=8BITMIME")
    assert relay.upstream.store.commands("RCPT") == [f"RCPT TO:{rcpt_path}"]
    assert message.rcpt_to == [rcpt_path]
    assert message.rcpt_params == [[]]


# (command after a good MAIL, or a MAIL command; expected code)
BAD_SYNTAX = {
    "unterminated_quote_rcpt": 'RCPT TO:<"unterminated@example.net>',
    "unterminated_quote_mail": 'MAIL FROM:<"unterminated@example.com>',
    "escaped_closing_quote": 'RCPT TO:<"a\\"@example.net>',
    "missing_closing_bracket": "RCPT TO:<bob@example.net",
    "two_at_signs": "RCPT TO:<bob@@example.net>",
    "empty_local_part": "RCPT TO:<@example.net>",
}


@pytest.mark.parametrize("command", BAD_SYNTAX.values(),
                         ids=BAD_SYNTAX.keys())
def test_malformed_address_rejected_501(relay, command):
    with SmtpWire(relay.port) as wire:
        wire.ehlo()
        if command.startswith("RCPT"):
            assert wire.command("MAIL FROM:<alice@example.com>").code == 250
        reply = wire.command(command)
        assert reply.code == 501, f"{command}: {reply}"
        assert wire.command("NOOP").code == 250


INJECTIONS = {
    "case": "MAIL FROM:<;touch /tmp/x;>",
    "command_substitution": "MAIL FROM:<$(touch /tmp/x)@example.com>",
    "backquotes": "MAIL FROM:<`touch /tmp/x`@example.com>",
    "pipe": "MAIL FROM:<|touch /tmp/x>",
    "semicolon_domain": "MAIL FROM:<alice@example.com;touch /tmp/x>",
}


def file_state(path: str):
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


@pytest.mark.parametrize("command", INJECTIONS.values(), ids=INJECTIONS.keys())
def test_shell_metacharacters_rejected_501(relay, command):
    before = file_state("/tmp/x")
    with SmtpWire(relay.port) as wire:
        wire.ehlo()
        reply = wire.command(command)
        assert reply.code == 501, f"{command}: {reply}"
        assert reply.enhanced == "5.1.7", reply
        assert wire.command("NOOP").code == 250
    assert file_state("/tmp/x") == before
