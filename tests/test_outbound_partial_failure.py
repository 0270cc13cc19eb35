"""Some recipients fail at the next hop, or all of them do.

An accepted recipient gets the message once. A 5xx recipient gets one DSN
to the sender. A 4xx recipient stays queued alone and is retried in a new
transaction. When every RCPT fails, no message body is sent.
"""

import time

import pytest

from ferry_config import relay_config
from processes import free_port, wait_until
from relay_checks import QUIET_PERIOD, is_dsn, make_message, unfold
from smtp_wire import send_message

PARTIAL = {
    "rcpt": {
        "default": "250 2.1.5 Ok",
        "gone@example.net": "550 5.1.1 User unknown",
        "later@example.net": {"lines": ["450 4.2.0 Mailbox busy"],
                              "times": 1},
    },
}

RECIPIENTS = ["ok@example.net", "gone@example.net", "later@example.net"]


def dsns(store) -> list:
    return [m for m in store.accepted_messages() if m.mail_from == "<>"]


def test_partial_failure_each_recipient_once(make_relay):
    relay = make_relay(PARTIAL)
    reply = send_message(relay.port, "alice@example.com", RECIPIENTS,
                         make_message("partial"))
    assert reply.code == 250, reply
    store = relay.upstream.store

    def later_delivered():
        return [m for m in store.accepted_messages()
                if "later@example.net" in m.recipients]

    wait_until(later_delivered, 30, message="the retry for later@")
    wait_until(lambda: dsns(store), 30, message="a DSN for gone@")
    time.sleep(QUIET_PERIOD)
    originals = [m for m in store.accepted_messages() if m.mail_from != "<>"]
    to_ok = [m for m in originals if "ok@example.net" in m.recipients]
    assert len(to_ok) == 1, "ok@ must receive the message exactly once"
    [retry] = later_delivered()
    assert retry.recipients == ["later@example.net"]
    assert retry.number > to_ok[0].number
    assert retry.content == to_ok[0].content
    gone_attempts = [line for line in store.commands("RCPT")
                     if "gone@example.net" in line]
    assert len(gone_attempts) == 1, "a 5xx recipient must not be retried"


def test_partial_failure_one_dsn_quoting_reply(make_relay):
    relay = make_relay(PARTIAL)
    send_message(relay.port, "alice@example.com", RECIPIENTS,
                 make_message("partial dsn"))
    store = relay.upstream.store
    wait_until(lambda: dsns(store), 30, message="a DSN for gone@")
    time.sleep(QUIET_PERIOD)
    [dsn] = dsns(store)
    assert dsn.recipients == ["alice@example.com"]
    assert is_dsn(dsn.content)
    content = unfold(dsn.content)
    assert b"gone@example.net" in content
    assert b"550 5.1.1 User unknown" in content
    assert b"ok@example.net" not in content


# Replies to every RCPT at the next hop for example.net.
ALL_FAIL = {"permanent": "550 5.1.1 User unknown",
            "temporary": "450 4.2.0 Mailbox busy"}

ALLOWED_VERBS = {"EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "QUIT",
                 "NOOP"}


@pytest.mark.parametrize("rcpt_reply", ALL_FAIL.values(), ids=ALL_FAIL.keys())
def test_all_recipients_fail_no_body_sent(ferryd, upstream, sink, tmp_path,
                                          rcpt_reply):
    failing = upstream({"rcpt": {"default": rcpt_reply}})
    senders = sink()
    config = relay_config(free_port(), str(tmp_path / "spool"),
                          {"example.net": [failing.port],
                           "example.com": [senders.port]})
    relay = ferryd(config)
    reply = send_message(relay.port, "alice@example.com",
                         ["bob@example.net", "carol@example.net"],
                         make_message("all fail"))
    assert reply.code == 250, reply
    wait_until(lambda: failing.store.commands("MAIL"), 30,
               message="an attempt at the failing next hop")
    time.sleep(QUIET_PERIOD)
    assert failing.store.messages() == []
    verbs = {line.split(" ")[0].split(":")[0].upper()
             for line in failing.store.commands()}
    assert verbs <= ALLOWED_VERBS, f"body lines sent as commands: {verbs}"
    if rcpt_reply.startswith("4"):
        assert len(failing.store.commands("MAIL")) >= 2, "no retry"
    else:
        [dsn] = senders.wait_for_messages(1)
        assert dsn.mail_from == "<>"
        assert is_dsn(dsn.content)
