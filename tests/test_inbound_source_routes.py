"""Source routes (RFC 5321 section 4.1.1.3, appendix C).

ferryd accepts a source route, ignores it, and forwards the bare mailbox.
The route is never used to pick a next hop, so it cannot open a relay.
"""

import pytest

from relay_checks import make_message
from smtp_wire import SmtpWire, dot_stuff

PLAIN_UPSTREAM = {"ehlo": ["250-upstream.example.org", "250 8BITMIME"]}

# (MAIL command, RCPT command, forwarded MAIL line, forwarded RCPT line)
STRIPPED = {
    "sender_route": ("MAIL FROM:<@hop1.example.com:alice@example.com>",
                     "RCPT TO:<bob@example.net>",
                     "MAIL FROM:<alice@example.com>",
                     "RCPT TO:<bob@example.net>"),
    "recipient_route": (
        "MAIL FROM:<alice@example.com>",
        "RCPT TO:<@hop1.example.com,@hop2.example.org:bob@example.net>",
        "MAIL FROM:<alice@example.com>", "RCPT TO:<bob@example.net>"),
    "sender_two_hops": (
        "MAIL FROM:<@hop1.example.com,@hop2.example.org:alice@example.com>",
        "RCPT TO:<bob@example.net>",
        "MAIL FROM:<alice@example.com>", "RCPT TO:<bob@example.net>"),
    "route_through_foreign_domain": (
        "MAIL FROM:<alice@example.com>",
        "RCPT TO:<@evil.example.org:bob@example.net>",
        "MAIL FROM:<alice@example.com>", "RCPT TO:<bob@example.net>"),
}


@pytest.mark.parametrize("mail, rcpt, forwarded_mail, forwarded_rcpt",
                         STRIPPED.values(), ids=STRIPPED.keys())
def test_source_route_stripped(make_relay, mail, rcpt, forwarded_mail,
                               forwarded_rcpt):
    relay = make_relay(PLAIN_UPSTREAM)
    with SmtpWire(relay.port) as wire:
        wire.ehlo()
        assert wire.command(mail).code == 250
        assert wire.command(rcpt).code == 250
        assert wire.command("DATA").code == 354
        wire.send(dot_stuff(make_message("source route")))
        assert wire.read_reply().code == 250
    relay.upstream.wait_for_messages(1)
    assert relay.upstream.store.commands("MAIL") == [forwarded_mail]
    assert relay.upstream.store.commands("RCPT") == [forwarded_rcpt]


MALFORMED_ROUTES = {
    "space_not_colon": "RCPT TO:<@hop1.example.com bob@example.net>",
    "colon_between_hops": (
        "RCPT TO:<@hop1.example.com:@hop2.example.org:bob@example.net>"),
    "empty_hop": "RCPT TO:<@:bob@example.net>",
    "hop_without_at": "RCPT TO:<@hop1.example.com,hop2.example.org:"
                      "bob@example.net>",
    "no_mailbox": "RCPT TO:<@hop1.example.com:>",
}


@pytest.mark.parametrize("command", MALFORMED_ROUTES.values(),
                         ids=MALFORMED_ROUTES.keys())
def test_malformed_source_route_rejected_501(relay, command):
    with SmtpWire(relay.port) as wire:
        wire.ehlo()
        assert wire.command("MAIL FROM:<alice@example.com>").code == 250
        reply = wire.command(command)
        assert reply.code == 501, f"{command}: {reply}"


def test_source_route_does_not_open_relay(relay):
    with SmtpWire(relay.port) as wire:
        wire.ehlo()
        assert wire.command("MAIL FROM:<alice@example.com>").code == 250
        reply = wire.command("RCPT TO:<@example.net:bob@example.org>")
        assert 500 <= reply.code <= 599, reply
