"""The admin API's Queue service through ferryctl: list with filters and
pages, show and summary. The actions flush, hold, release, delete and
bounce run on mail that real clients queued while the next hop is down;
each test starts the next hop when it needs it.

Backoffs are an hour, so mail only moves when a test flushes or releases
it; each check that mail did not move waits QUIET_PERIOD seconds.
"""

import time

import pytest

from ferry_config import relay_config
from processes import free_port, wait_until
from relay_checks import QUIET_PERIOD, is_dsn, make_message, unfold
from smtp_wire import send_message

LONG_BACKOFF = {"initial_backoff": "1h", "max_backoff": "1h",
                "queue_lifetime": "5d"}


class QueueSetup:
    """ferryd in front of a next hop that is down, for example.net and
    example.org, and a running sink for example.com (the senders' domain,
    where DSNs go)."""

    def __init__(self, ferryd, upstream, sink, spool_dir, workers=2):
        self.next_hop = upstream(start=False)
        self.sender_sink = sink()
        self.port = free_port()
        self.ferryd = ferryd(relay_config(
            self.port, spool_dir,
            {"example.net": [self.next_hop.port],
             "example.org": [self.next_hop.port],
             "example.com": [self.sender_sink.port]},
            workers=workers, delivery=LONG_BACKOFF))

    def send(self, subject: str, recipients=("bob@example.net",),
             sender: str = "alice@example.com") -> str:
        reply = send_message(self.port, sender, list(recipients),
                             make_message(subject))
        assert reply.code == 250, reply
        assert reply.queue_id, reply
        return reply.queue_id


@pytest.fixture
def queue_setup(ferryd, upstream, sink, spool_dir) -> QueueSetup:
    return QueueSetup(ferryd, upstream, sink, spool_dir)


def listed(ferryctl, relay, *args) -> list[dict]:
    """Every message that `queue list ARGS --all-pages` returns."""
    pages = ferryctl(relay, "queue", "list", "--all-pages", *args,
                     json_output=True).json_lines()
    return [message for page in pages for message in page["message"]]


def listed_ids(ferryctl, relay, *args) -> list[str]:
    return [m["queue_id"] for m in listed(ferryctl, relay, *args)]


def wait_deferred(ferryctl, relay, count: int) -> None:
    """Wait until `count` messages had their first, failed attempt."""
    wait_until(lambda: len(listed(ferryctl, relay, "--state=deferred")) ==
               count, 30, message=f"{count} deferred message(s)")


def subjects(next_hop) -> list[str]:
    found = []
    for message in next_hop.store.accepted_messages():
        for line in unfold(message.content).split(b"\r\n"):
            if line.startswith(b"Subject: "):
                found.append(line[len(b"Subject: "):].decode())
    return sorted(found)


def test_hold_release_and_flush(queue_setup, ferryctl):
    setup = queue_setup
    held = setup.send("held")
    other = setup.send("flushed")
    wait_deferred(ferryctl, setup.ferryd, 2)

    result = ferryctl(setup.ferryd, "queue", "hold", held,
                      json_output=True).json()
    assert result["messages"] == "1"
    assert result["recipients"] == "1"
    assert listed_ids(ferryctl, setup.ferryd, "--state=held") == [held]
    text = ferryctl(setup.ferryd, "queue", "hold", held).stdout
    assert text.startswith("held 0 recipients in 0 messages")

    setup.next_hop.start()
    flushed = ferryctl(setup.ferryd, "queue", "flush", "--all",
                       json_output=True).json()
    assert flushed["recipients"] == "1"
    setup.next_hop.wait_for_messages(1)
    time.sleep(QUIET_PERIOD)
    assert subjects(setup.next_hop) == ["flushed"]
    assert listed_ids(ferryctl, setup.ferryd) == [held]
    assert other not in listed_ids(ferryctl, setup.ferryd)

    text = ferryctl(setup.ferryd, "queue", "release", held).stdout
    assert text.startswith("released 1 recipient in 1 message")
    setup.next_hop.wait_for_messages(2)
    assert subjects(setup.next_hop) == ["flushed", "held"]
    wait_until(lambda: listed(ferryctl, setup.ferryd) == [], 30,
               message="an empty queue")


def test_flush_of_a_domain_leaves_others(queue_setup, ferryctl):
    setup = queue_setup
    setup.send("for net", ["bob@example.net"])
    setup.send("for org", ["carol@example.org"])
    wait_deferred(ferryctl, setup.ferryd, 2)
    setup.next_hop.start()
    ferryctl(setup.ferryd, "queue", "flush", "--domain=example.org")
    setup.next_hop.wait_for_messages(1)
    time.sleep(QUIET_PERIOD)
    assert subjects(setup.next_hop) == ["for org"]


def test_delete_is_never_delivered(queue_setup, ferryctl):
    setup = queue_setup
    deleted = setup.send("deleted", ["bob@example.net", "carol@example.org"])
    wait_deferred(ferryctl, setup.ferryd, 1)

    text = ferryctl(setup.ferryd, "queue", "delete", deleted).stdout
    assert text.startswith("deleted 2 recipients in 1 message")
    shown = ferryctl(setup.ferryd, "queue", "show", deleted, check=False)
    assert shown.returncode == 1
    assert "not in the queue" in shown.stderr
    assert setup.ferryd.wait_for_log_lines(f"{deleted} event=removed")

    setup.next_hop.start()
    ferryctl(setup.ferryd, "queue", "flush", "--all")
    setup.ferryd.stop()
    setup.ferryd.restart()
    time.sleep(QUIET_PERIOD)
    assert setup.next_hop.store.messages() == []
    assert setup.next_hop.store.connection_count() == 0
    # A delete sends no DSN.
    assert setup.sender_sink.store.messages() == []
    assert listed(ferryctl, setup.ferryd) == []


def test_bounce_sends_a_dsn_to_the_sender(queue_setup, ferryctl):
    setup = queue_setup
    bounced = setup.send("bounced", ["bob@example.net", "carol@example.net"])
    wait_deferred(ferryctl, setup.ferryd, 1)

    result = ferryctl(setup.ferryd, "queue", "bounce", bounced,
                      json_output=True).json()
    assert result["messages"] == "1"
    assert result["recipients"] == "2"
    dsns = setup.sender_sink.wait_for_messages(1)
    assert len(dsns) == 1
    dsn = dsns[0]
    assert dsn.sender == ""
    assert dsn.recipients == ["alice@example.com"]
    content = unfold(dsn.content)
    assert is_dsn(dsn.content)
    assert b"Status: 5.0.0" in content
    assert b"bounced by the relay operator" in content
    assert b"Final-Recipient: rfc822; bob@example.net" in content
    assert b"Final-Recipient: rfc822; carol@example.net" in content
    assert bounced.encode() in content

    setup.next_hop.start()
    ferryctl(setup.ferryd, "queue", "flush", "--all")
    time.sleep(QUIET_PERIOD)
    assert setup.next_hop.store.messages() == []
    assert listed(ferryctl, setup.ferryd) == []


def test_list_filters(queue_setup, ferryctl):
    setup = queue_setup
    to_net = setup.send("net", ["bob@example.net"])
    to_org = setup.send("org", ["Carol@Example.ORG"])
    from_null = setup.send("null", ["dave@example.net"], sender="")
    from_eve = setup.send("eve", ["bob@example.net"],
                          sender="eve@example.com")
    wait_deferred(ferryctl, setup.ferryd, 4)
    relay = setup.ferryd

    assert listed_ids(ferryctl, relay) == [to_net, to_org, from_null,
                                           from_eve]
    assert listed_ids(ferryctl, relay, "--domain=example.org") == [to_org]
    assert listed_ids(ferryctl, relay, "--domain=*.org") == [to_org]
    assert listed_ids(ferryctl, relay, "--recipient=carol@example.org") == \
        [to_org]
    assert listed_ids(ferryctl, relay, "--sender=<>") == [from_null]
    assert listed_ids(ferryctl, relay, "--sender=eve@example.com") == \
        [from_eve]
    assert listed_ids(ferryctl, relay, "--state=deferred") == \
        [to_net, to_org, from_null, from_eve]
    assert listed_ids(ferryctl, relay, "--state=queued") == []
    assert listed_ids(ferryctl, relay, "--min-age=1h") == []
    assert len(listed_ids(ferryctl, relay, "--max-age=1h")) == 4
    assert listed_ids(ferryctl, relay, from_eve, to_net) == [to_net,
                                                             from_eve]
    assert listed_ids(ferryctl, relay, "--domain=example.net",
                      "--sender=alice@example.com") == [to_net]

    text = ferryctl(relay, "queue", "list", "--domain=example.org").stdout
    assert "QUEUE ID" in text
    assert to_org in text
    assert "Carol@Example.ORG" in text
    assert "1 of 1 matching messages" in text

    bad = ferryctl(relay, "queue", "list", "--state=stuck", check=False)
    assert bad.returncode == 2
    assert "queued, deferred or held" in bad.stderr
    bad = ferryctl(relay, "queue", "list", "--domain=not a domain",
                   check=False)
    assert bad.returncode == 1
    assert "is not a domain" in bad.stderr


def test_list_pages(ferryd, upstream, sink, spool_dir, ferryctl):
    setup = QueueSetup(ferryd, upstream, sink, spool_dir, workers=2)
    relay = setup.ferryd
    # The kernel spreads connections over the two workers' sockets by a
    # hash of the client's port, so send until both hold mail (an odd
    # count, so that the last page of two has one message).
    sent = [setup.send("page 0")]
    while len(sent) < 41:
        sent += [setup.send(f"page {len(sent) + i}") for i in range(2)]
        if len(sent) < 5:
            continue
        wait_deferred(ferryctl, relay, len(sent))
        if {m["worker"] for m in listed(ferryctl, relay)} == {0, 1}:
            break
    else:
        pytest.fail("every message went to one worker")
    count = len(sent)

    seen = []
    token = ""
    for expected_size in [2] * (count // 2) + [1]:
        args = ["queue", "list", "--page-size=2"]
        if token:
            args.append(f"--page-token={token}")
        page = ferryctl(relay, *args, json_output=True).json()
        assert page["total"] == str(count)
        assert len(page["message"]) == expected_size
        seen += [m["queue_id"] for m in page["message"]]
        token = page["next_page_token"]
    assert token == ""
    assert seen == sent  # oldest first, across both workers

    text = ferryctl(relay, "queue", "list", "--page-size=2").stdout
    assert f"2 of {count} matching messages" in text
    assert "next page: ferryctl queue list --page-token=" in text
    text = ferryctl(relay, "queue", "list", "--page-size=2",
                    "--all-pages").stdout
    assert f"{count} of {count} matching messages" in text
    assert all(queue_id in text for queue_id in sent)

    bad = ferryctl(relay, "queue", "list", "--page-token=nonsense",
                   check=False)
    assert bad.returncode == 1
    assert "page_token" in bad.stderr


def test_show_and_summary(queue_setup, ferryctl):
    setup = queue_setup
    queue_id = setup.send("shown", ["bob@example.net", "carol@example.org"])
    wait_deferred(ferryctl, setup.ferryd, 1)
    relay = setup.ferryd

    message = ferryctl(relay, "queue", "show", queue_id,
                       json_output=True).json()["message"]
    assert message["queue_id"] == queue_id
    assert message["sender"] == "alice@example.com"
    assert message["state"] == "MESSAGE_STATE_DEFERRED"
    assert message["client"] == "[127.0.0.1]"
    assert message["attempts"] == 2
    assert message["next_attempt"]
    assert [r["address"] for r in message["recipient"]] == \
        ["bob@example.net", "carol@example.org"]
    for recipient in message["recipient"]:
        assert recipient["state"] == "RECIPIENT_STATE_DEFERRED"
        assert recipient["attempts"] == 1
        assert "4.4.1" in recipient["last_reply"]
        assert "Connection refused" in recipient["last_reply"]

    text = ferryctl(relay, "queue", "show", queue_id).stdout
    assert "queue id:" in text
    assert "LAST REPLY" in text
    assert "deferred" in text

    ferryctl(relay, "queue", "hold", "--domain=example.org")
    message = ferryctl(relay, "queue", "show", queue_id,
                       json_output=True).json()["message"]
    assert message["state"] == "MESSAGE_STATE_DEFERRED"
    assert [r["state"] for r in message["recipient"]] == \
        ["RECIPIENT_STATE_DEFERRED", "RECIPIENT_STATE_HELD"]

    setup.send("second", ["dave@example.net"])
    wait_deferred(ferryctl, relay, 2)
    summary = ferryctl(relay, "queue", "summary", json_output=True).json()
    rows = {row["domain"]: row for row in summary["row"]}
    assert rows["example.net"]["total"] == "2"
    assert rows["example.org"]["total"] == "1"
    assert summary["all"]["total"] == "3"
    assert summary["row"][0]["domain"] == "example.net"
    assert len(summary["bucket_bound"]) == 9
    assert rows["example.net"]["count"][0] == "2"
    text = ferryctl(relay, "queue", "summary").stdout
    assert text.splitlines()[0].split() == [
        "DOMAIN", "TOTAL", "5m", "10m", "20m", "40m", "80m", "160m", "320m",
        "640m", "1280m", "1280m+"]
    assert text.splitlines()[1].split()[:2] == ["TOTAL", "3"]


def test_restart_keeps_held_mail_and_the_queue(queue_setup, ferryctl):
    setup = queue_setup
    held = setup.send("held across a restart")
    waiting = setup.send("waiting across a restart")
    wait_deferred(ferryctl, setup.ferryd, 2)
    ferryctl(setup.ferryd, "queue", "hold", held)

    setup.ferryd.stop()
    setup.ferryd.restart()
    assert listed_ids(ferryctl, setup.ferryd, "--state=held") == [held]
    # The other message is tried again at start-up, and still fails.
    wait_until(lambda: ferryctl(setup.ferryd, "queue", "show", waiting,
                                json_output=True).json()["message"]
               ["attempts"] == 2, 30, message="the attempt after restart")
    shown = ferryctl(setup.ferryd, "queue", "show", held,
                     json_output=True).json()["message"]
    assert shown["attempts"] == 1
    assert shown["recipient"][0]["state"] == "RECIPIENT_STATE_HELD"

    setup.next_hop.start()
    ferryctl(setup.ferryd, "queue", "flush", "--all")
    setup.next_hop.wait_for_messages(1)
    time.sleep(QUIET_PERIOD)
    assert subjects(setup.next_hop) == ["waiting across a restart"]

    setup.ferryd.kill_and_restart()
    assert listed_ids(ferryctl, setup.ferryd, "--state=held") == [held]
    ferryctl(setup.ferryd, "queue", "release", "--all")
    setup.next_hop.wait_for_messages(2)
    assert subjects(setup.next_hop) == ["held across a restart",
                                        "waiting across a restart"]


@pytest.mark.parametrize("action", ["flush", "hold", "release", "delete",
                                    "bounce"])
def test_action_without_selector_is_refused(relay, ferryctl, action):
    result = ferryctl(relay.ferryd, "queue", action, check=False)
    assert result.returncode == 2
    assert "needs a selector" in result.stderr
    assert "--all" in result.stderr
    result = ferryctl(relay.ferryd, "queue", action, "--all",
                      "CREH7RF426G000", check=False)
    assert result.returncode == 2


def test_unknown_queue_ids(relay, ferryctl):
    result = ferryctl(relay.ferryd, "queue", "show", "CREH7RF426G000",
                      check=False)
    assert result.returncode == 1
    assert "not in the queue" in result.stderr
    result = ferryctl(relay.ferryd, "queue", "show", "nope", check=False)
    assert result.returncode == 1
    assert "not a queue ID" in result.stderr
    result = ferryctl(relay.ferryd, "queue", "delete", "nope", check=False)
    assert result.returncode == 1
    assert "not a queue ID" in result.stderr
    # A huge value is cut in the error instead of making it too large
    # for a gRPC status.
    result = ferryctl(relay.ferryd, "queue", "show", "A" * 100000,
                      check=False)
    assert result.returncode == 1
    assert "(100000 octets) is not a queue ID" in result.stderr
    result = ferryctl(relay.ferryd, "queue", "list",
                      "--page-token=" + "a" * 20000, check=False)
    assert result.returncode == 1
    assert "(20000 octets) is not a token" in result.stderr
    result = ferryctl(relay.ferryd, "queue", "frobnicate", check=False)
    assert result.returncode == 2
    assert "unknown queue subcommand" in result.stderr


@pytest.mark.parametrize("subcommand", ["list", "show", "summary", "flush",
                                        "hold", "release", "delete",
                                        "bounce"])
def test_every_queue_subcommand_has_help(ferryctl, subcommand):
    result = ferryctl(None, "queue", subcommand, "--help")
    assert result.stdout.startswith(
        f"Usage: ferryctl [GLOBAL OPTIONS] queue {subcommand}")
    overview = ferryctl(None, "queue", "--help")
    assert subcommand in overview.stdout


# The next hop replies to the end of data after 4 s with 451, so an action
# can arrive while the attempt is in progress.
SLOW_DEFERRAL = {"end_of_data": {"lines": ["451 4.3.0 try again later"],
                                 "delay": 4}}


@pytest.mark.parametrize("action, final_state", [
    ("hold", "held"), ("delete", "deleted"), ("bounce", "bounced")])
def test_action_during_an_attempt_applies_when_it_ends(
        ferryd, upstream, sink, spool_dir, ferryctl, action, final_state):
    next_hop = upstream(SLOW_DEFERRAL)
    sender_sink = sink()
    port = free_port()
    relay = ferryd(relay_config(
        port, spool_dir, {"example.net": [next_hop.port],
                          "example.com": [sender_sink.port]},
        delivery=LONG_BACKOFF))
    reply = send_message(port, "alice@example.com", ["bob@example.net"],
                         make_message("in an attempt"))
    assert reply.code == 250, reply
    queue_id = reply.queue_id
    wait_until(lambda: next_hop.store.commands("DATA"), 30,
               message="the attempt's DATA")

    result = ferryctl(relay, "queue", action, queue_id,
                      json_output=True).json()
    assert result["in_flight"] == "1"
    assert result["recipients"] == "0"
    shown = ferryctl(relay, "queue", "show", queue_id,
                     json_output=True).json()["message"]
    assert shown["recipient"][0]["state"] == "RECIPIENT_STATE_ACTIVE"
    wait_until(lambda: relay.log_lines_with(
        f"{queue_id} to=<bob@example.net> status={final_state}"), 30,
        message=f"the {action} after the attempt")
    if action == "hold":
        shown = ferryctl(relay, "queue", "show", queue_id,
                         json_output=True).json()["message"]
        assert shown["state"] == "MESSAGE_STATE_HELD"
        assert shown["recipient"][0]["attempts"] == 1
        assert "451 4.3.0" in shown["recipient"][0]["last_reply"]
    else:
        wait_until(lambda: listed(ferryctl, relay, "--sender=alice@example.com")
                   == [], 30, message="the message to leave the queue")
    if action == "bounce":
        dsn = sender_sink.wait_for_messages(1)[0]
        assert b"bounced by the relay operator; last attempt: 451 4.3.0" in \
            unfold(dsn.content)
    else:
        time.sleep(QUIET_PERIOD)
        assert sender_sink.store.messages() == []
