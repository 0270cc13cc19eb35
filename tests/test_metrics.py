"""ferryd's metrics: the Prometheus endpoint (metrics_listen) and its HTTP
responses, its text format as promtool checks it, a real Prometheus server
that scrapes it and evaluates deploy/ferry.rules.yml, the counters that
rejects, deferrals and bounces move, and `ferryctl metrics`.
"""

import datetime
import json
import os
import re
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request

import pytest

from ferry_config import relay_config
from processes import ManagedProcess, free_port, listening_ports, wait_until
from relay_checks import make_message
from smtp_wire import SmtpWire, send_message

PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"
DEPLOY_DIR = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "deploy")
RULES = os.path.join(DEPLOY_DIR, "ferry.rules.yml")

SAMPLE_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$")
LABEL_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def require_tool(path: str) -> None:
    if not os.path.exists(path):
        pytest.skip(f"{path} is not installed (tools/install-deps installs "
                    f"the prometheus package)")


def with_metrics(config_text: str, port: int) -> str:
    return config_text + f'metrics_listen: "127.0.0.1:{port}"\n'


def start_relay(ferryd, config_text: str):
    """Start ferryd with a metrics endpoint; return (ferryd, metrics port)."""
    port = free_port()
    relay = ferryd(with_metrics(config_text, port))
    wait_until(lambda: port in listening_ports(), 10,
               message=f"the metrics endpoint on port {port}")
    return relay, port


def scrape(port: int) -> str:
    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith(
            "text/plain; version=0.0.4")
        return response.read().decode()


def parse_samples(text: str) -> dict:
    """Return {(name, ((label, value), ...)): float} for every sample."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE_LINE.match(line)
        assert match, f"not a sample line: {line!r}"
        labels = tuple(sorted(LABEL_PAIR.findall(match.group(2) or "")))
        samples[(match.group(1), labels)] = float(match.group(3))
    return samples


def sample(port: int, name: str, **labels) -> float:
    """Scrape once and return the value of one sample."""
    key = (name, tuple(sorted(labels.items())))
    samples = parse_samples(scrape(port))
    assert key in samples, f"no sample {name}{labels} in the scrape"
    return samples[key]


def wait_for_sample(port: int, predicate, name: str, timeout: float = 30,
                    **labels) -> float:
    """Scrape until predicate(value) holds for the sample; return it."""
    def check():
        value = sample(port, name, **labels)
        return (value,) if predicate(value) else None
    return wait_until(check, timeout, interval=0.2,
                      message=f"{name}{labels}")[0]


def raw_request(port: int, request: bytes) -> bytes:
    """Send `request` over a new connection; return everything read."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        received = b""
        while True:
            data = conn.recv(65536)
            if not data:
                return received
            received += data


def status_line(response: bytes) -> str:
    return response.split(b"\r\n", 1)[0].decode()


# ---- The HTTP endpoint ----

def test_endpoint_responds_to_each_request(ferryd, upstream, spool_dir):
    relay, port = start_relay(ferryd, relay_config(
        free_port(), spool_dir, {"example.net": [upstream().port]}))

    get = raw_request(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_line(get) == "HTTP/1.1 200 OK"
    assert b"\r\nConnection: close\r\n" in get
    head, body = get.split(b"\r\n\r\n", 1)
    assert f"Content-Length: {len(body)}".encode() in head
    assert b"# TYPE ferry_deliveries_total counter" in body

    head_only = raw_request(port, b"HEAD /metrics HTTP/1.1\r\n\r\n")
    assert status_line(head_only) == "HTTP/1.1 200 OK"
    assert head_only.endswith(b"\r\n\r\n")

    old_client = raw_request(port, b"GET /metrics HTTP/1.0\r\n\r\n")
    assert status_line(old_client) == "HTTP/1.1 200 OK"

    not_found = raw_request(port, b"GET / HTTP/1.1\r\n\r\n")
    assert status_line(not_found) == "HTTP/1.1 404 Not Found"
    assert b"/metrics" in not_found

    post = raw_request(port, b"POST /metrics HTTP/1.1\r\n"
                             b"Content-Length: 5\r\n\r\nhello")
    assert status_line(post) == "HTTP/1.1 405 Method Not Allowed"
    assert b"\r\nAllow: GET, HEAD\r\n" in post

    garbage = raw_request(port, b"HELLO\r\n\r\n")
    assert status_line(garbage) == "HTTP/1.1 400 Bad Request"

    huge = raw_request(port, b"GET /metrics HTTP/1.1\r\nX-Big: " +
                       b"a" * 20000 + b"\r\n\r\n")
    assert status_line(huge) == "HTTP/1.1 431 Request Header Fields Too Large"

    # The endpoint still serves after all that.
    assert "ferry_messages_received_total 0" in scrape(port)


def test_metrics_listen_in_use_stops_start(ferryd, spool_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        relay = ferryd(with_metrics(relay_config(free_port(), spool_dir, {}),
                                    port), start=False)
        process = subprocess.run(relay.argv(), capture_output=True,
                                 text=True, timeout=30)
    assert process.returncode == 1
    assert "metrics_listen" in process.stderr
    assert f"127.0.0.1:{port}" in process.stderr


def test_invalid_metrics_listen_is_a_config_error(ferryd, spool_dir):
    relay = ferryd(relay_config(free_port(), spool_dir, {}) +
                   'metrics_listen: "localhost:9925"\n', start=False)
    process = subprocess.run([*relay.argv(), "--check-config"],
                             capture_output=True, text=True, timeout=30)
    assert process.returncode == 1
    assert "metrics_listen" in process.stderr
    assert "not an IP address" in process.stderr


# ---- Text format and rules, checked by promtool ----

def test_scrape_passes_promtool_check_metrics(ferryd, sink, spool_dir):
    require_tool(PROMTOOL)
    next_hop = sink()
    relay, port = start_relay(ferryd, relay_config(
        free_port(), spool_dir, {"example.net": [next_hop.port]}))
    for i in range(3):
        reply = send_message(relay.port, "alice@example.com",
                             ["bob@example.net"], make_message(f"m{i}"))
        assert reply.code == 250, reply
    next_hop.wait_for_messages(3)
    wait_for_sample(port, lambda v: v == 3, "ferry_deliveries_total",
                    result="delivered")
    check = subprocess.run([PROMTOOL, "check", "metrics"],
                           input=scrape(port), capture_output=True,
                           text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.strip() == "", check.stdout
    assert check.stderr.strip() == "", check.stderr


def test_rules_and_scrape_config_pass_promtool():
    require_tool(PROMTOOL)
    for argv in ([PROMTOOL, "check", "rules", RULES],
                 [PROMTOOL, "check", "config",
                  os.path.join(DEPLOY_DIR, "prometheus.yml")],
                 [PROMTOOL, "test", "rules",
                  os.path.join(DEPLOY_DIR, "ferry.rules.test.yml")]):
        result = subprocess.run(argv, capture_output=True, text=True,
                                timeout=60, cwd=DEPLOY_DIR)
        assert result.returncode == 0, (
            f"{' '.join(argv)}:\n{result.stdout}{result.stderr}")
        assert "SUCCESS" in result.stdout


# ---- A real Prometheus server ----

class PrometheusServer(ManagedProcess):
    """Debian's prometheus, with its own configuration and storage."""

    name = "prometheus"

    def __init__(self, port: int, directory: str, target_port: int):
        os.makedirs(directory, exist_ok=True)
        super().__init__(port, os.path.join(directory, "prometheus.log"))
        self.config_path = os.path.join(directory, "prometheus.yml")
        self.storage = os.path.join(directory, "data")
        with open(self.config_path, "w") as file:
            file.write(
                "global:\n"
                "  scrape_interval: 1s\n"
                "  evaluation_interval: 1s\n"
                f"rule_files:\n  - {json.dumps(RULES)}\n"
                "scrape_configs:\n"
                "  - job_name: ferryd\n"
                "    static_configs:\n"
                f"      - targets: [\"127.0.0.1:{target_port}\"]\n")

    def argv(self) -> list[str]:
        return [PROMETHEUS, f"--config.file={self.config_path}",
                f"--storage.tsdb.path={self.storage}",
                f"--web.listen-address=127.0.0.1:{self.port}"]

    def api(self, path: str, **params) -> dict:
        url = (f"http://127.0.0.1:{self.port}/api/v1/{path}?"
               f"{urllib.parse.urlencode(params)}")
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expression: str) -> list:
        return self.api("query", query=expression)["result"]


@pytest.fixture
def prometheus(process_registry, tmp_path):
    """Factory: prometheus(target_port) -> PrometheusServer, listening."""
    require_tool(PROMETHEUS)

    def start(target_port: int) -> PrometheusServer:
        server = PrometheusServer(free_port(), str(tmp_path / "prometheus"),
                                  target_port)
        process_registry.append(server)
        return server.start(timeout=60)

    return start


@pytest.mark.time_limit(240)
def test_prometheus_counts_relayed_messages(ferryd, sink, spool_dir,
                                            prometheus):
    count = 7
    next_hop = sink()
    relay, port = start_relay(ferryd, relay_config(
        free_port(), spool_dir, {"example.net": [next_hop.port]}, workers=2))
    for i in range(count):
        reply = send_message(relay.port, "alice@example.com",
                             ["bob@example.net"], make_message(f"m{i}"))
        assert reply.code == 250, reply
    next_hop.wait_for_messages(count)

    server = prometheus(port)

    def delivered():
        # Prometheus answers 503 until its storage is ready.
        try:
            result = server.query(
                'ferry_deliveries_total{result="delivered"}')
        except (urllib.error.URLError, ConnectionError):
            return None
        return result if result and result[0]["value"][1] == str(count) \
            else None
    result = wait_until(delivered, 90, interval=0.5,
                        message=f"Prometheus to see {count} deliveries")
    assert len(result) == 1
    assert result[0]["metric"]["job"] == "ferryd"

    received = server.query("ferry_messages_received_total")
    assert received[0]["value"][1] == str(count)
    targets = server.api("targets")["activeTargets"]
    assert [t["health"] for t in targets] == ["up"]

    # Every recording rule and alert evaluates without error on the real
    # series.
    def rules_evaluated():
        groups = server.api("rules")["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        done = all(rule["lastEvaluation"] > "0001-01-01T00:00:00Z"
                   for rule in rules)
        return rules if rules and done else None
    rules = wait_until(rules_evaluated, 30, interval=0.5,
                       message="Prometheus to evaluate ferry.rules.yml")
    for rule in rules:
        assert rule["health"] == "ok", rule

    # One more message while Prometheus watches: the counter reaches
    # count + 1 and the recorded rate turns positive.
    reply = send_message(relay.port, "alice@example.com",
                         ["bob@example.net"], make_message("one more"))
    assert reply.code == 250, reply
    next_hop.wait_for_messages(count + 1)
    wait_until(lambda: server.query(
        f'ferry_deliveries_total{{result="delivered"}} == {count + 1}'),
        30, interval=0.5, message=f"Prometheus to see {count + 1} deliveries")
    rate = wait_until(
        lambda: server.query(
            'instance_result:ferry_deliveries:rate5m{result="delivered"} > 0'),
        30, interval=0.5, message="the recorded delivery rate")
    assert rate[0]["metric"]["instance"] == f"127.0.0.1:{port}"
    firing = server.query('ALERTS{alertstate="firing"}')
    assert firing == []


# ---- Counters that rejects, deferrals and bounces move ----

@pytest.mark.time_limit(120)
def test_counters_follow_rejects_deferrals_and_bounces(ferryd, upstream,
                                                       spool_dir):
    next_hop = upstream({"rcpt": {"default": "250 2.1.5 Ok",
                                  "later@example.net": "450 4.2.1 busy",
                                  "gone@example.net": "550 5.1.1 no such"}})
    relay, port = start_relay(ferryd, relay_config(
        free_port(), spool_dir,
        {"example.net": [next_hop.port], "example.com": [next_hop.port]},
        limits={"max_message_size": 4096}))
    before = parse_samples(scrape(port))
    assert before[("ferry_messages_received_total", ())] == 0

    # A recipient without a route: 550 at RCPT.
    with SmtpWire(relay.port) as wire:
        wire.ehlo()
        assert wire.command("MAIL FROM:<alice@example.com>").code == 250
        assert wire.command("RCPT TO:<carol@example.org>").code == 550
        wire.command("QUIT")
    assert sample(port, "ferry_recipients_rejected_total",
                  reason="no_route") == 1

    # Content over max_message_size: 552 after the end of data.
    with SmtpWire(relay.port) as wire:
        wire.ehlo()
        assert wire.command("MAIL FROM:<alice@example.com>").code == 250
        assert wire.command("RCPT TO:<bob@example.net>").code == 250
        assert wire.command("DATA").code == 354
        wire.send(make_message("big", "x" * 70 + "\r\n") * 100 + b".\r\n")
        assert wire.read_reply().code == 552
        wire.command("QUIT")
    assert sample(port, "ferry_messages_rejected_total",
                  reason="message_too_large") == 1

    # One message delivered, one bounced (its DSN to alice@example.com is
    # delivered too), one deferred again and again.
    for recipient in ("bob@example.net", "gone@example.net",
                      "later@example.net"):
        reply = send_message(relay.port, "alice@example.com", [recipient],
                             make_message(recipient))
        assert reply.code == 250, reply
    assert sample(port, "ferry_messages_received_total") == 3
    wait_for_sample(port, lambda v: v == 2, "ferry_deliveries_total",
                    result="delivered")
    assert sample(port, "ferry_deliveries_total", result="bounced") == 1
    wait_for_sample(port, lambda v: v >= 2, "ferry_deliveries_total",
                    result="deferred")
    assert sample(port, "ferry_deliveries_total", result="expired") == 0
    wait_for_sample(port, lambda v: v == 1, "ferry_queue_messages",
                    state="deferred")

    samples = parse_samples(scrape(port))
    assert samples[("ferry_smtp_replies_total", (("class", "5xx"),))] >= 2
    assert samples[("ferry_smtp_replies_total", (("class", "3xx"),))] == 4
    assert samples[("ferry_outbound_connections_total",
                    (("result", "connected"),))] >= 2
    assert samples[("ferry_queue_oldest_message_age_seconds", ())] > 0
    assert samples[("ferry_queue_bytes", (("state", "deferred"),))] > 0
    assert samples[("ferry_delivery_delay_seconds_count", ())] == 2
    assert samples[("ferry_end_of_data_to_250_seconds_count", ())] == 3
    # Three messages and at least the outcomes of five attempts.
    assert samples[("ferry_spool_group_commit_records_sum", ())] >= 3 + 5
    assert samples[("ferry_spool_segment_bytes", ())] > 0
    for (name, labels), value in samples.items():
        assert value >= 0, f"{name}{dict(labels)} is {value}"


def test_connection_limit_rejection_is_counted(ferryd, upstream, spool_dir):
    relay, port = start_relay(ferryd, relay_config(
        free_port(), spool_dir, {"example.net": [upstream().port]},
        limits={"max_connections_per_address": 1}))
    with SmtpWire(relay.port) as first:
        assert first.greeting.code == 220
        assert sample(port, "ferry_open_connections",
                      direction="inbound") == 1
        with SmtpWire(relay.port) as second:
            assert second.greeting.code == 421
    wait_for_sample(port, lambda v: v == 0, "ferry_open_connections",
                    direction="inbound")
    samples = parse_samples(scrape(port))
    assert samples[("ferry_inbound_connections_total",
                    (("result", "rejected_max_connections_per_address"),))] \
        == 1
    assert samples[("ferry_inbound_connections_total",
                    (("result", "accepted"),))] == 1
    assert samples[("ferry_smtp_replies_total", (("class", "4xx"),))] == 1


# ---- ferryctl metrics ----

def test_ferryctl_metrics_once_and_watching(ferryd, sink, spool_dir,
                                            ferryctl):
    next_hop = sink()
    relay, port = start_relay(ferryd, relay_config(
        free_port(), spool_dir, {"example.net": [next_hop.port]}))
    reply = send_message(relay.port, "alice@example.com",
                         ["bob@example.net"], make_message("one"))
    assert reply.code == 250, reply
    next_hop.wait_for_messages(1)

    snapshot = ferryctl(relay, "metrics", json_output=True).json()
    by_name = {m["name"]: m for m in snapshot["metric"] if not m["label"]}
    assert by_name["ferry_messages_received_total"]["counter"] == 1
    assert by_name["ferry_messages_received_total"]["help"]

    table = ferryctl(relay, "metrics", "ferry_queue").stdout.splitlines()
    assert table[0].split() == ["NAME", "LABELS", "VALUE"]
    assert all(line.startswith("ferry_queue") for line in table[1:])
    assert any("state=deferred" in line for line in table[1:])

    watch = ferryctl.popen(relay, "metrics", "--watch=200ms",
                           "ferry_messages_received_total",
                           json_output=True)
    try:
        lines = [watch.stdout.readline() for _ in range(3)]
    finally:
        watch.terminate()
        watch.wait(10)
    times = [datetime.datetime.fromisoformat(json.loads(line)["time"])
             for line in lines]
    assert times[0] < times[1] < times[2]
    assert relay.log_lines_with("event=watch_metrics_started")

    too_fast = ferryctl(relay, "metrics", "--watch=50ms", check=False)
    assert too_fast.returncode == 2
    assert "at least 100ms" in too_fast.stderr

    # A watch ends when ferryd stops, with the exit status for a lost
    # ferryd and the reason.
    watch = ferryctl.popen(relay, "metrics", "--watch=5s")
    try:
        assert watch.stdout.readline()
        assert relay.stop() == 0
        assert watch.wait(10) == 3
    finally:
        watch.kill()
        watch.wait(10)
    assert "ferryd is stopping" in watch.stderr.read()
