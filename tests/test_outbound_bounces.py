"""Bounces never loop (RFC 5321 section 6.1, RFC 3464).

A message from <> that fails permanently is dropped and logged. A message
from a real sender gives exactly one DSN, sent from <>; when the DSN fails
too, nothing more is sent.
"""

import time

from ferry_config import relay_config
from processes import free_port, wait_until
from relay_checks import QUIET_PERIOD, is_dsn, make_message, unfold
from smtp_wire import send_message

REJECT_ALL = {"rcpt": {"default": "550 5.1.1 User unknown"}}


def mail_paths(store) -> list[str]:
    """Return the reverse-path of each MAIL command the next hop received."""
    return [line.split(" ")[1][len("FROM:"):]
            for line in store.commands("MAIL")]


def test_null_sender_bounce_dropped_and_logged(make_relay):
    relay = make_relay(REJECT_ALL)
    reply = send_message(relay.port, "", ["bob@example.net"],
                         make_message("bounce of a bounce"))
    assert reply.code == 250, reply
    store = relay.upstream.store
    wait_until(lambda: store.commands("RCPT"), 30, message="an attempt")
    time.sleep(QUIET_PERIOD + 2)
    assert mail_paths(store) == ["<>"]
    assert store.messages() == []
    assert reply.queue_id, f"no queue ID in {reply}"
    assert ferryd_logged(relay.ferryd, reply.queue_id, "550")


def ferryd_logged(relay_process, queue_id: str, text: str) -> bool:
    return any(text in line for line in relay_process.log_lines_with(queue_id))


def test_failed_dsn_not_bounced_again(make_relay):
    relay = make_relay(REJECT_ALL)
    reply = send_message(relay.port, "alice@example.com", ["bob@example.net"],
                         make_message("double bounce"))
    assert reply.code == 250, reply
    store = relay.upstream.store
    wait_until(lambda: "<>" in mail_paths(store), 30,
               message="the DSN attempt")
    time.sleep(QUIET_PERIOD + 2)
    assert mail_paths(store) == ["<alice@example.com>", "<>"]
    rcpt_lines = store.commands("RCPT")
    assert rcpt_lines == ["RCPT TO:<bob@example.net>",
                          "RCPT TO:<alice@example.com>"]
    assert store.messages() == []


def test_one_dsn_from_null_sender(ferryd, upstream, sink, tmp_path):
    failing = upstream(REJECT_ALL)
    senders = sink()
    config = relay_config(free_port(), str(tmp_path / "spool"),
                          {"example.net": [failing.port],
                           "example.com": [senders.port]})
    relay = ferryd(config)
    reply = send_message(relay.port, "alice@example.com", ["bob@example.net"],
                         make_message("one bounce"))
    assert reply.code == 250, reply
    senders.wait_for_messages(1)
    time.sleep(QUIET_PERIOD)
    [dsn] = senders.store.messages()
    assert dsn.mail_from == "<>"
    assert dsn.recipients == ["alice@example.com"]
    assert is_dsn(dsn.content)
    assert b"550 5.1.1 User unknown" in unfold(dsn.content)
