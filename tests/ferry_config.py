"""Builds ferryd configs (protobuf text format, proto/config.proto)."""

# Delivery timing short enough that retry tests finish in seconds.
FAST_DELIVERY = {
    "initial_backoff": "1s",
    "max_backoff": "2s",
    "queue_lifetime": "60s",
}

# Outbound timeouts short enough that a silent next hop costs seconds.
FAST_CLIENT_TIMEOUTS = {
    "connect": "5s",
    "greeting": "5s",
    "command": "5s",
    "data_initiation": "5s",
    "data_block": "5s",
    "data_termination": "5s",
}


def quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def render_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.isupper() and "_" in value:
        return value  # an enum constant such as BARE_LINE_ENDING_REJECT
    return quote(value)


def render_message(name: str, fields: dict) -> str:
    body = " ".join(f"{key}: {render_value(value)}"
                    for key, value in fields.items())
    return f"{name} {{ {body} }}\n"


def relay_config(listen_port: int, spool_dir: str,
                 routes: dict[str, list[int]], *, workers: int = 1,
                 recipients: dict[str, list[str]] | None = None,
                 etrn_clients: dict[str, list[str]] | None = None,
                 limits: dict | None = None,
                 delivery: dict | None = None,
                 client_timeouts: dict | None = None,
                 server_timeouts: dict | None = None,
                 bare_line_ending: str | None = None,
                 segment_size: int | None = None,
                 spare_segments: int | None = None) -> str:
    """Return a config for ferryd as relay.example.net on `listen_port`.

    `routes` maps each domain to the ports of its next hops on 127.0.0.1,
    in priority order. `recipients` optionally lists, per domain, the only
    recipients accepted at RCPT time, and `etrn_clients` the client
    addresses or networks that may send ETRN for it. `delivery` and
    `client_timeouts` override fields of FAST_DELIVERY and
    FAST_CLIENT_TIMEOUTS.
    """
    text = (f'hostname: "relay.example.net"\n'
            f'smtp_listen: "127.0.0.1:{listen_port}"\n'
            f"spool_dir: {quote(spool_dir)}\n"
            f"workers: {workers}\n")
    for domain, ports in routes.items():
        text += f"route {{ domain: {quote(domain)}"
        for priority, port in enumerate(ports):
            text += (f' next_hop {{ host: "127.0.0.1" port: {port}'
                     f" priority: {priority} }}")
        for recipient in (recipients or {}).get(domain, []):
            text += f" recipient: {quote(recipient)}"
        for client in (etrn_clients or {}).get(domain, []):
            text += f" etrn_client: {quote(client)}"
        text += " }\n"
    text += render_message("delivery", {**FAST_DELIVERY, **(delivery or {})})
    text += render_message("client_timeouts",
                           {**FAST_CLIENT_TIMEOUTS, **(client_timeouts or {})})
    if limits:
        text += render_message("limits", limits)
    if server_timeouts:
        text += render_message("server_timeouts", server_timeouts)
    if bare_line_ending:
        text += f"bare_line_ending: {bare_line_ending}\n"
    if segment_size:
        text += f"segment_size: {segment_size}\n"
    if spare_segments is not None:
        text += f"spare_segments: {spare_segments}\n"
    return text
