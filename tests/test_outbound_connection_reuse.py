"""Outbound connections stay open for a while and carry the next message.

A connection whose destination has no more mail due waits up to
delivery.connection_idle_time for the next message before it sends QUIT.
"""

import time

from ferry_config import relay_config
from processes import free_port, wait_until
from relay_checks import make_message
from smtp_wire import send_message


def send(relay, subject: str) -> None:
    reply = send_message(relay.port, "alice@example.com", ["bob@example.net"],
                         make_message(subject))
    assert reply.code == 250, reply


def quit_times(next_hop) -> list[float]:
    return [event["time"] for event in next_hop.store.events("command")
            if event["text"].upper() == "QUIT"]


def test_idle_connection_carries_the_next_message(ferryd, upstream, tmp_path):
    next_hop = upstream()
    relay = ferryd(relay_config(free_port(), str(tmp_path / "spool"),
                                {"example.net": [next_hop.port]},
                                delivery={"connection_idle_time": "3s"}))
    send(relay, "first")
    next_hop.wait_for_messages(1)
    time.sleep(0.5)
    send(relay, "second")
    next_hop.wait_for_messages(2)
    assert next_hop.store.connection_count() == 1
    assert quit_times(next_hop) == []
    # With nothing more to send, the connection ends after the idle time.
    [quit_at] = wait_until(lambda: quit_times(next_hop), 10,
                           message="QUIT after the idle time")
    last_delivery = next_hop.store.messages()[-1].received_at
    assert 2.5 <= quit_at - last_delivery <= 6, quit_at - last_delivery


def test_zero_idle_time_quits_after_each_message(ferryd, upstream, tmp_path):
    next_hop = upstream()
    relay = ferryd(relay_config(free_port(), str(tmp_path / "spool"),
                                {"example.net": [next_hop.port]},
                                delivery={"connection_idle_time": "0s"}))
    send(relay, "first")
    next_hop.wait_for_messages(1)
    wait_until(lambda: quit_times(next_hop), 5, message="QUIT at once")
    send(relay, "second")
    next_hop.wait_for_messages(2)
    assert next_hop.store.connection_count() == 2


def test_closed_idle_connection_needs_no_retry(ferryd, upstream, tmp_path):
    next_hop = upstream()
    # A retry would wait a minute; the test waits far less.
    relay = ferryd(relay_config(
        free_port(), str(tmp_path / "spool"),
        {"example.net": [next_hop.port]},
        delivery={"connection_idle_time": "60s", "initial_backoff": "60s",
                  "max_backoff": "60s", "queue_lifetime": "1h"}))
    send(relay, "before the restart")
    next_hop.wait_for_messages(1)
    # Stopping the next hop closes the idle connection from its side.
    assert next_hop.stop() == 0
    next_hop.start()
    send(relay, "after the restart")
    [_, second] = next_hop.wait_for_messages(2, timeout=15)
    assert b"after the restart" in second.content
    assert next_hop.store.connection_count() == 2


def test_changed_route_does_not_use_the_idle_connection(
        ferryd, upstream, ferryctl, tmp_path):
    old_hop = upstream()
    new_hop = upstream()
    relay = ferryd(relay_config(free_port(), str(tmp_path / "spool"),
                                {"example.net": [old_hop.port]},
                                delivery={"connection_idle_time": "60s"}))
    send(relay, "to the old next hop")
    old_hop.wait_for_messages(1)
    ferryctl(relay, "routes", "put", "example.net",
             f"127.0.0.1:{new_hop.port}")
    send(relay, "to the new next hop")
    [message] = new_hop.wait_for_messages(1, timeout=15)
    assert b"to the new next hop" in message.content
    assert len(old_hop.store.messages()) == 1
    # The old connection ends when it is woken for the job it may not take.
    wait_until(lambda: quit_times(old_hop), 10, message="QUIT to the old hop")
