"""The null reverse-path <> (RFC 5321 section 4.5.5).

It is accepted, forwarded as exactly MAIL FROM:<>, and when the upstream
rejects it permanently no bounce is made: a bounce to <> is never sent.
"""

import time

import pytest

from relay_checks import QUIET_PERIOD, make_message
from smtp_wire import send_message

PLAIN_UPSTREAM = {"ehlo": ["250-upstream.example.org", "250 8BITMIME"]}


def test_null_sender_forwarded_exactly(make_relay):
    relay = make_relay(PLAIN_UPSTREAM)
    reply = send_message(relay.port, "", ["bob@example.net"],
                         make_message("null sender"))
    assert reply.code == 250, reply
    [message] = relay.upstream.wait_for_messages(1)
    assert relay.upstream.store.commands("MAIL") == ["MAIL FROM:<>"]
    assert message.mail_from == "<>"


# Where the upstream rejects the message permanently.
REJECTIONS = {
    "at_mail": {"mail": {"default": "250 2.1.0 Ok",
                         "<>": "550 5.7.1 Null sender rejected"}},
    "after_dot": {"end_of_data": "554 5.6.0 Message rejected"},
}


@pytest.mark.parametrize("script", REJECTIONS.values(), ids=REJECTIONS.keys())
def test_null_sender_rejection_makes_no_bounce(make_relay, script):
    relay = make_relay(script)
    reply = send_message(relay.port, "", ["bob@example.net"],
                         make_message("null sender rejected"))
    assert reply.code == 250, reply
    store = relay.upstream.store
    time.sleep(QUIET_PERIOD + 2)
    mail_commands = [line.split(" ")[1] for line in store.commands("MAIL")]
    assert mail_commands == ["FROM:<>"], "one attempt and no bounce expected"
    assert store.accepted_messages() == []
    assert reply.queue_id, f"no queue ID in {reply}"
    assert relay.ferryd.wait_for_log_lines(reply.queue_id), (
        f"no log line names queue ID {reply.queue_id}")
