"""Faults found by attacking ferryd: a second instance on the same port,
many large transactions at once, and a restart with fewer workers.
"""

import socket
import subprocess
import time

from ferry_config import relay_config
from processes import free_port, wait_until
from relay_checks import QUIET_PERIOD, make_message
from smtp_wire import SmtpWire, send_message


def test_second_ferryd_on_same_address_exits(ferryd, ferryd_binary,
                                             relay, tmp_path):
    # The running relay is bound to the port; a second ferryd with SO_REUSEPORT
    # would silently share it, so it must refuse to start.
    config = relay_config(relay.port, str(tmp_path / "spool2"),
                          {"example.net": [relay.upstream.port]})
    path = tmp_path / "second.conf"
    path.write_text(config)
    result = subprocess.run([ferryd_binary, f"--config={path}"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1, result
    assert f"127.0.0.1:{relay.port}" in result.stderr
    assert "already in use" in result.stderr
    # The first relay still takes mail.
    reply = send_message(relay.port, "alice@example.com",
                         ["bob@example.net"], make_message("after"))
    assert reply.code == 250, reply


# Small limits so that a few connections reach the memory limit.
MEMORY_LIMITS = {"max_message_size": 1048576,
                 "max_receiving_bytes": 2097152}


def open_data_phase(port: int) -> SmtpWire:
    wire = SmtpWire(port)
    wire.ehlo()
    assert wire.command("MAIL FROM:<alice@example.com>").code == 250
    assert wire.command("RCPT TO:<bob@example.net>").code == 250
    assert wire.command("DATA").code == 354
    return wire


def test_receiving_memory_limit_closes_with_421(make_relay):
    relay = make_relay(limits=MEMORY_LIMITS)
    wires = [open_data_phase(relay.port) for _ in range(5)]
    chunk = (b"x" * 998 + b"\r\n") * 800  # 800 KB, under the message size
    for wire in wires:
        try:
            wire.send(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
    time.sleep(1)
    closed = 0
    for wire in wires:
        if wire.is_closed_by_peer(5):
            closed += 1
        wire.close()
    # 5 x 800 KB is past the 2 MiB limit, so at least two are closed.
    assert closed >= 2, f"only {closed} connections were closed"
    assert relay.ferryd.wait_for_log_lines("event=out_of_memory")
    # The memory is given back: a new message is accepted and delivered.
    reply = send_message(relay.port, "alice@example.com",
                         ["bob@example.net"], make_message("afterwards"))
    assert reply.code == 250, reply
    relay.upstream.wait_for_messages(1)


RECIPIENT_SCRIPT = {
    "rcpt": {
        "default": "250 2.1.5 Ok",
        "later@example.net": "450 4.2.0 Mailbox busy",
    },
}


def test_fewer_workers_no_redelivery(ferryd, upstream, spool_dir):
    next_hop = upstream(RECIPIENT_SCRIPT, start=False)
    listen = free_port()
    routes = {"example.net": [next_hop.port],
              "example.com": [next_hop.port]}
    delivery = {"queue_lifetime": "300s"}
    relay = ferryd(relay_config(listen, spool_dir, routes, workers=4,
                                delivery=delivery))
    count = 12
    for index in range(count):
        reply = send_message(listen, "alice@example.com",
                             ["bob@example.net", "later@example.net"],
                             make_message(f"shrink {index}"))
        assert reply.code == 250, reply
    assert relay.stop() == 0
    # Restart with 2 workers: w2 and w3 now belong to w0 and w1. bob is
    # delivered, later stays deferred, so every segment stays live.
    fewer = ferryd(relay_config(listen, spool_dir, routes, workers=2,
                                delivery=delivery), start=False)
    next_hop.start()
    for _ in range(3):
        fewer.restart()

        def to_bob():
            return [m for m in next_hop.store.accepted_messages()
                    if "bob@example.net" in m.recipients]

        wait_until(lambda: len(to_bob()) >= count, 30,
                   message="every message delivered to bob")
        time.sleep(QUIET_PERIOD)
        assert fewer.stop() == 0
    assert len(to_bob()) == count, "bob got a message twice after a restart"
