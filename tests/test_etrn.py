"""ETRN (RFC 1985): a client that a route lists in etrn_client can have
the mail queued for the route's domain delivered at once, instead of
after its backoff (an hour here). Other clients get 459, and malformed
or misplaced commands get 501 or 503.

The refused client connects from 127.0.0.2, which is also loopback.
"""

import time

import pytest

from ferry_config import relay_config
from processes import free_port
from relay_checks import QUIET_PERIOD, make_message
from smtp_wire import SmtpWire, send_message

LONG_BACKOFF = {"initial_backoff": "1h", "max_backoff": "1h",
                "queue_lifetime": "5d"}


class EtrnSetup:
    """ferryd with routes example.net and *.example.net to a next hop that
    is down until a test starts it, and example.org to the same next hop.
    Only 127.0.0.1 may send ETRN, and not for example.org."""

    def __init__(self, ferryd, upstream, spool_dir):
        self.next_hop = upstream(start=False)
        self.port = free_port()
        port = self.next_hop.port
        self.ferryd = ferryd(relay_config(
            self.port, spool_dir,
            {"example.net": [port], "*.example.net": [port],
             "example.org": [port]},
            etrn_clients={"example.net": ["127.0.0.1"],
                          "*.example.net": ["127.0.0.0/30"]},
            workers=2, delivery=LONG_BACKOFF))

    def queue(self, recipient: str) -> str:
        """Queue one message and wait for its failed first attempt."""
        reply = send_message(self.port, "alice@example.com", [recipient],
                             make_message(f"for {recipient}"))
        assert reply.code == 250, reply
        wait_for_log(self.ferryd, f"{reply.queue_id} to=<{recipient}>")
        return reply.queue_id

    def etrn(self, argument: str, source: str = "127.0.0.1"):
        with SmtpWire(self.port, source=source) as wire:
            wire.ehlo()
            return wire.command(f"ETRN {argument}")


def wait_for_log(relay, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not relay.log_lines_with(text):
        assert time.monotonic() < deadline, f"no log line with {text!r}"
        time.sleep(0.05)


@pytest.fixture
def etrn_setup(ferryd, upstream, spool_dir) -> EtrnSetup:
    return EtrnSetup(ferryd, upstream, spool_dir)


def delivered_recipients(next_hop) -> list[str]:
    return sorted(r for m in next_hop.store.accepted_messages()
                  for r in m.recipients)


def test_ehlo_offers_etrn(etrn_setup):
    with SmtpWire(etrn_setup.port) as wire:
        reply = wire.ehlo()
    assert "ETRN" in reply.lines


def test_etrn_from_permitted_client_delivers_at_once(etrn_setup):
    setup = etrn_setup
    setup.queue("bob@example.net")
    setup.queue("carol@example.org")
    setup.next_hop.start()
    reply = setup.etrn("example.net")
    assert reply.code == 250, reply
    assert reply.enhanced == "2.0.0"
    assert "Queuing for node example.net started" in reply.text
    setup.next_hop.wait_for_messages(1, timeout=10)
    time.sleep(QUIET_PERIOD)
    # example.org's route lists no ETRN client, so its mail waits.
    assert delivered_recipients(setup.next_hop) == ["bob@example.net"]
    assert setup.ferryd.wait_for_log_lines(
        "event=etrn node=example.net client=127.0.0.1 result=started")


def test_etrn_at_domain_includes_subdomains(etrn_setup):
    setup = etrn_setup
    setup.queue("bob@example.net")
    setup.queue("carol@mx.example.net")
    setup.next_hop.start()
    reply = setup.etrn("example.net")
    assert reply.code == 250, reply
    setup.next_hop.wait_for_messages(1, timeout=10)
    time.sleep(QUIET_PERIOD)
    assert delivered_recipients(setup.next_hop) == ["bob@example.net"]

    reply = setup.etrn("@Example.NET")
    assert reply.code == 250, reply
    assert "Queuing for node @Example.NET started" in reply.text
    setup.next_hop.wait_for_messages(2, timeout=10)
    assert delivered_recipients(setup.next_hop) == [
        "bob@example.net", "carol@mx.example.net"]


def test_etrn_from_refused_client_gets_459(etrn_setup):
    setup = etrn_setup
    setup.queue("bob@example.net")
    setup.next_hop.start()
    reply = setup.etrn("example.net", source="127.0.0.2")
    assert reply.code == 459, reply
    assert reply.enhanced == "4.7.1"
    assert "Node example.net not allowed" in reply.text
    # No route lists any ETRN client for example.org, and none exists for
    # example.com.
    for node in ("example.org", "example.com"):
        reply = setup.etrn(node)
        assert reply.code == 459, reply
    time.sleep(QUIET_PERIOD)
    assert setup.next_hop.store.messages() == []
    assert setup.ferryd.wait_for_log_lines(
        "event=etrn node=example.net client=127.0.0.2 result=not_allowed")


def test_etrn_syntax_and_sequence(etrn_setup):
    setup = etrn_setup
    with SmtpWire(setup.port) as wire:
        reply = wire.command("ETRN example.net")
        assert (reply.code, reply.enhanced) == (503, "5.5.1"), reply
        wire.ehlo()
        for argument in ("", "bad..name", "two words", "[127.0.0.1]",
                         "bob@example.net"):
            reply = wire.command(f"ETRN {argument}".rstrip())
            assert (reply.code, reply.enhanced) == (501, "5.5.4"), \
                (argument, reply)
        reply = wire.command("ETRN #outbound")
        assert (reply.code, reply.enhanced) == (458, "4.3.0"), reply
        reply = wire.command("MAIL FROM:<alice@example.com>")
        assert reply.code == 250, reply
        reply = wire.command("ETRN example.net")
        assert (reply.code, reply.enhanced) == (503, "5.5.1"), reply
        reply = wire.command("RSET")
        assert reply.code == 250, reply
        reply = wire.command("ETRN example.net")
        assert reply.code == 250, reply
