"""SIGHUP reloads the routes, and a changed route also moves mail that is
already queued, because the route is looked up at delivery time.
"""

import os
import signal

from ferry_config import relay_config
from processes import free_port, wait_until
from relay_checks import make_message
from smtp_wire import send_message


def reload_with(relay, config_text: str) -> None:
    with open(relay.config_path, "w") as file:
        file.write(config_text)
    before = len(relay.log_lines_with("event=routes_reloaded")) + len(
        relay.log_lines_with("event=reload_failed"))
    os.kill(relay.pid, signal.SIGHUP)
    wait_until(lambda: len(relay.log_lines_with("event=routes_reloaded")) +
               len(relay.log_lines_with("event=reload_failed")) > before,
               10, message="ferryd's reload log line")


def test_route_change_moves_queued_mail(ferryd, upstream, spool_dir):
    old_hop = upstream(start=False)  # never comes up
    new_hop = upstream()
    listen = free_port()
    relay = ferryd(relay_config(listen, spool_dir,
                                {"example.net": [old_hop.port]}))
    reply = send_message(listen, "alice@example.com", ["bob@example.net"],
                         make_message("moved"))
    assert reply.code == 250, reply
    wait_until(lambda: relay.log_lines_with("status=deferred"), 10,
               message="a deferral while the old next hop is down")

    reload_with(relay, relay_config(listen, spool_dir,
                                    {"example.net": [new_hop.port]}))
    assert relay.log_lines_with("event=routes_reloaded")
    new_hop.wait_for_messages(1)
    [message] = new_hop.store.accepted_messages()
    assert message.recipients == ["bob@example.net"]


def test_invalid_reload_keeps_old_routes(ferryd, upstream, spool_dir):
    next_hop = upstream()
    listen = free_port()
    config = relay_config(listen, spool_dir, {"example.net": [next_hop.port]})
    relay = ferryd(config)
    reload_with(relay, config + "route { domain: \"\" }\n")
    [failure] = relay.log_lines_with("event=reload_failed")
    assert "keeping=old_routes" in failure
    reply = send_message(listen, "alice@example.com", ["bob@example.net"],
                         make_message("still routed"))
    assert reply.code == 250, reply
    next_hop.wait_for_messages(1)


def test_removed_route_defers_until_restored(ferryd, upstream, spool_dir):
    next_hop = upstream(start=False)
    listen = free_port()
    routed = relay_config(listen, spool_dir, {"example.net": [next_hop.port]})
    relay = ferryd(routed)
    reply = send_message(listen, "alice@example.com", ["bob@example.net"],
                         make_message("unrouted for a while"))
    assert reply.code == 250, reply
    # The route goes away while the message waits: each attempt is then
    # deferred for want of a route, and ferryd keeps running.
    reload_with(relay, relay_config(listen, spool_dir,
                                    {"example.org": [next_hop.port]}))
    wait_until(lambda: [line for line in relay.log_lines_with("dsn=4.4.4")
                        if "no route for example.net" in line],
               15, message="a deferral for want of a route")
    next_hop.start()
    reload_with(relay, routed)
    next_hop.wait_for_messages(1)
