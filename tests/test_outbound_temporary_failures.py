"""A next hop that defers forever: retries end with the queue lifetime.

The message is retried with backoff until delivery.queue_lifetime has
passed since it arrived, then bounced once, and no attempt follows.
"""

import time

import pytest

from ferry_config import relay_config
from processes import free_port, wait_until
from relay_checks import QUIET_PERIOD, is_dsn, make_message
from smtp_wire import send_message

QUEUE_LIFETIME = 8.0
MAX_BACKOFF = 2.0

# Where the next hop for example.net replies 4xx on every attempt.
FOREVER = {
    "greeting_421": {"greeting": "421 4.3.2 Service not available"},
    "mail_451": {"mail": {"default": "451 4.3.0 Try again later"}},
    "rcpt_450": {"rcpt": {"default": "450 4.2.0 Mailbox busy"}},
    "after_dot_451": {"end_of_data": "451 4.3.0 Try again later"},
}


@pytest.mark.parametrize("script", FOREVER.values(), ids=FOREVER.keys())
def test_deferred_until_lifetime_then_one_dsn(ferryd, upstream, sink,
                                              tmp_path, script):
    deferring = upstream(script)
    senders = sink()
    config = relay_config(
        free_port(), str(tmp_path / "spool"),
        {"example.net": [deferring.port], "example.com": [senders.port]},
        delivery={"queue_lifetime": f"{QUEUE_LIFETIME:g}s",
                  "max_backoff": f"{MAX_BACKOFF:g}s"})
    relay = ferryd(config)
    accepted_at = time.time()
    reply = send_message(relay.port, "alice@example.com", ["bob@example.net"],
                         make_message("deferred forever"))
    assert reply.code == 250, reply
    [dsn] = senders.wait_for_messages(1, timeout=QUEUE_LIFETIME + 20)
    assert dsn.received_at - accepted_at >= QUEUE_LIFETIME - 0.5
    attempts_at_bounce = deferring.store.attempt_count()
    time.sleep(QUEUE_LIFETIME / 2)
    assert deferring.store.attempt_count() <= attempts_at_bounce + 1
    time.sleep(QUIET_PERIOD)
    final_attempts = deferring.store.attempt_count()
    assert final_attempts >= 3, "expected several attempts with backoff"
    assert deferring.store.accepted_messages() == []
    assert len(senders.store.messages()) == 1
    assert dsn.mail_from == "<>"
    assert dsn.recipients == ["alice@example.com"]
    assert is_dsn(dsn.content)


def test_backoff_spaces_attempts(make_relay):
    relay = make_relay({"greeting": "421 4.3.2 Service not available"},
                       delivery={"initial_backoff": "1s",
                                 "max_backoff": "2s"})
    reply = send_message(relay.port, "alice@example.com", ["bob@example.net"],
                         make_message("backoff"))
    assert reply.code == 250, reply
    store = relay.upstream.store
    wait_until(lambda: store.connection_count() >= 4, 30,
               message="four attempts")
    times = [event["time"] for event in store.events("connect")]
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    # Backoff 1s, then doubled to the 2s maximum; 20% slack for jitter.
    assert gaps[0] >= 0.8, gaps
    assert all(gap >= 1.6 for gap in gaps[1:3]), gaps
