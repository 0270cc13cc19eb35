"""No reply, or no 2xx, after the final dot.

When the next hop closes without a reply, replies 4xx, or stays silent past
client_timeouts.data_termination, the message stays queued and is retried
with backoff. Only a 250 marks it delivered and only a 5xx bounces it.
"""

import time

import pytest

from relay_checks import QUIET_PERIOD, is_dsn, make_message
from smtp_wire import send_message

# What the next hop does after the final dot of the first two attempts.
LOST = {
    "close": {"action": "close", "times": 2},
    "421": {"lines": ["421 4.4.2 Connection dropped"], "times": 2},
    "451": {"lines": ["451 4.3.0 Try again later"], "times": 2},
    "timeout": {"action": "hang", "times": 2},
}

DATA_TERMINATION = "2s"


@pytest.mark.parametrize("reply_after_dot", LOST.values(), ids=LOST.keys())
def test_lost_reply_retried_until_250(make_relay, reply_after_dot):
    relay = make_relay({"end_of_data": reply_after_dot},
                       client_timeouts={"data_termination": DATA_TERMINATION})
    reply = send_message(relay.port, "alice@example.com", ["bob@example.net"],
                         make_message("lost reply"))
    assert reply.code == 250, reply
    store = relay.upstream.store
    relay.upstream.wait_for_messages(1, timeout=60)
    time.sleep(QUIET_PERIOD)
    messages = store.messages()
    assert [m.accepted for m in messages] == [False, False, True]
    assert len({m.content for m in messages}) == 1
    assert all(m.mail_from == "<alice@example.com>" for m in messages)
    # Each retry waits at least initial_backoff (1s) after the failure.
    for failed, retry in zip(messages, messages[1:]):
        assert retry.received_at - failed.received_at >= 0.9


def test_5xx_after_dot_bounced_once(make_relay):
    relay = make_relay({"end_of_data": {
        "lines": ["554 5.6.0 Message rejected"], "times": 1}})
    reply = send_message(relay.port, "alice@example.com", ["bob@example.net"],
                         make_message("rejected after dot"))
    assert reply.code == 250, reply
    store = relay.upstream.store
    [dsn] = relay.upstream.wait_for_messages(1)
    time.sleep(QUIET_PERIOD)
    [original, dsn] = store.messages()
    assert original.outcome.startswith("554")
    assert dsn.mail_from == "<>"
    assert dsn.recipients == ["alice@example.com"]
    assert is_dsn(dsn.content)
