"""Delivery to real next hops, to one that is down, and to a backup."""

import time

from ferry_config import relay_config
from processes import free_port, wait_until
from relay_checks import QUIET_PERIOD, make_message, relay_prefix
from smtp_wire import send_message


def test_delivered_to_postfix_smtp_sink(ferryd, smtp_sink, tmp_path):
    next_hop = smtp_sink()
    config = relay_config(free_port(), str(tmp_path / "spool"),
                          {"example.net": [next_hop.port]})
    relay = ferryd(config)
    content = make_message("to smtp-sink", "token 7f3a\r\n")
    reply = send_message(relay.port, "alice@example.com",
                         ["bob@example.net", "carol@example.net"], content)
    assert reply.code == 250, reply
    [dump] = wait_until(next_hop.dumps, 30, message="an smtp-sink dump")
    assert b"X-Mail-Args: <alice@example.com>" in dump
    assert b"X-Rcpt-Args: <bob@example.net>" in dump
    assert b"X-Rcpt-Args: <carol@example.net>" in dump
    assert b"token 7f3a" in dump


def test_next_hop_down_then_up(ferryd, upstream, tmp_path):
    next_hop = upstream(start=False)
    config = relay_config(free_port(), str(tmp_path / "spool"),
                          {"example.net": [next_hop.port]})
    relay = ferryd(config)
    content = make_message("next hop down")
    reply = send_message(relay.port, "alice@example.com", ["bob@example.net"],
                         content)
    assert reply.code == 250, reply
    time.sleep(QUIET_PERIOD)
    next_hop.start()
    [message] = next_hop.wait_for_messages(1, timeout=30)
    time.sleep(QUIET_PERIOD)
    assert len(next_hop.store.messages()) == 1
    relay_prefix(message.content, content)


def test_next_hop_stopped_midway(ferryd, upstream, tmp_path):
    next_hop = upstream()
    config = relay_config(free_port(), str(tmp_path / "spool"),
                          {"example.net": [next_hop.port]})
    relay = ferryd(config)
    first = send_message(relay.port, "alice@example.com", ["bob@example.net"],
                         make_message("before"))
    assert first.code == 250
    next_hop.wait_for_messages(1)
    assert next_hop.stop() == 0
    second = send_message(relay.port, "alice@example.com",
                          ["bob@example.net"], make_message("during"))
    assert second.code == 250
    time.sleep(QUIET_PERIOD)
    next_hop.start()
    messages = next_hop.wait_for_messages(2, timeout=30)
    time.sleep(QUIET_PERIOD)
    assert len(next_hop.store.messages()) == 2
    assert b"Subject: during" in messages[1].content


def test_backup_next_hop_used_when_first_down(ferryd, upstream, tmp_path):
    down_port = free_port()
    backup = upstream()
    config = relay_config(free_port(), str(tmp_path / "spool"),
                          {"example.net": [down_port, backup.port]})
    relay = ferryd(config)
    reply = send_message(relay.port, "alice@example.com", ["bob@example.net"],
                         make_message("backup"))
    assert reply.code == 250, reply
    [message] = backup.wait_for_messages(1, timeout=30)
    assert message.recipients == ["bob@example.net"]


def test_preferred_next_hop_used_first(ferryd, upstream, tmp_path):
    preferred = upstream()
    backup = upstream()
    config = relay_config(free_port(), str(tmp_path / "spool"),
                          {"example.net": [preferred.port, backup.port]})
    relay = ferryd(config)
    for index in range(3):
        reply = send_message(relay.port, "alice@example.com",
                             ["bob@example.net"],
                             make_message(f"preferred {index}"))
        assert reply.code == 250, reply
    preferred.wait_for_messages(3)
    assert backup.store.connection_count() == 0
