"""Self-tests of the harness: next hops, clients and helpers, no ferryd."""

import errno
import smtplib

import pytest

from processes import swaks, wait_until
from relay_checks import bare_line_endings, is_dsn, make_message, relay_prefix
from smtp_wire import SmtpWire, dot_stuff, smtplib_send
from upstream import split_path_and_params


# upstream.py

def test_upstream_stores_content_and_raw(upstream):
    server = upstream()
    content = make_message("raw", ".leading dot\r\n..two\r\nend\r\n")
    smtplib_send(server.port, "alice@example.com", ["bob@example.net"],
                 content)
    [message] = server.wait_for_messages(1)
    assert message.content == content
    assert message.raw == dot_stuff(content)
    assert message.mail_from == "<alice@example.com>"
    assert message.rcpt_to == ["<bob@example.net>"]
    assert message.outcome.startswith("250")


def test_upstream_keeps_bare_lf_in_raw(upstream):
    server = upstream()
    with SmtpWire(server.port) as wire:
        wire.ehlo()
        wire.command("MAIL FROM:<alice@example.com>")
        wire.command("RCPT TO:<bob@example.net>")
        wire.command("DATA")
        wire.send(b"Subject: x\r\n\r\nbare\nlf\r\n.\r\n")
        assert wire.read_reply().code == 250
    [message] = server.wait_for_messages(1)
    assert bare_line_endings(message.raw) == [18]


def test_upstream_logs_commands_exactly(upstream):
    server = upstream()
    with SmtpWire(server.port) as wire:
        wire.ehlo()
        reply = wire.command(
            'MAIL FROM:<"odd user"@example.com> BODY=8BITMIME')
        assert reply.code == 250
        reply = wire.command(
            'RCPT TO:<"foo@example.org> ORCPT=rfc822;x@example.org"'
            '@example.net>')
        assert reply.code == 250
    wait_until(lambda: len(server.store.commands()) == 3, 5)
    assert server.store.commands("MAIL") == [
        'MAIL FROM:<"odd user"@example.com> BODY=8BITMIME']
    assert server.store.commands("RCPT") == [
        'RCPT TO:<"foo@example.org> ORCPT=rfc822;x@example.org"@example.net>']


def test_upstream_multiline_greeting_parsed(upstream):
    server = upstream({"greeting": ["220-a", "220-b", "220 ready"]})
    with SmtpWire(server.port) as wire:
        assert wire.greeting.code == 220
        assert wire.greeting.lines == ["a", "b", "ready"]


def test_upstream_bare_reply_code(upstream):
    server = upstream({"noop": "250"})
    with SmtpWire(server.port) as wire:
        reply = wire.command("NOOP")
    assert reply.code == 250
    assert reply.raw == b"250\r\n"


def test_upstream_extra_continuation_lines(upstream):
    server = upstream({"ehlo": {"lines": ["250-up", "250 OK"],
                                "extra_lines": 10000}})
    with SmtpWire(server.port) as wire:
        reply = wire.command("EHLO client.example.com")
    assert len(reply.lines) == 10002
    assert reply.lines[-1] == "OK"


def test_upstream_per_recipient_replies(upstream):
    server = upstream({"rcpt": {"default": "250 2.1.5 Ok",
                                "gone@example.net": "550 5.1.1 Gone",
                                "later@example.net": {
                                    "lines": ["450 4.2.0 Later"],
                                    "times": 1}}})
    recipients = ["ok@example.net", "gone@example.net", "later@example.net"]
    refused = smtplib_send(server.port, "alice@example.com", recipients,
                           make_message("first"))
    assert refused == {"gone@example.net": (550, b"5.1.1 Gone"),
                       "later@example.net": (450, b"4.2.0 Later")}
    refused = smtplib_send(server.port, "alice@example.com",
                           ["later@example.net"], make_message("second"))
    assert refused == {}
    first, second = server.wait_for_messages(2)
    assert first.recipients == ["ok@example.net"]
    assert second.recipients == ["later@example.net"]


def test_upstream_close_after_dot(upstream):
    server = upstream({"end_of_data": "close"})
    with pytest.raises(smtplib.SMTPServerDisconnected):
        smtplib_send(server.port, "alice@example.com", ["bob@example.net"],
                     make_message("lost"))
    [message] = server.wait_for_messages(1, accepted_only=False)
    assert message.outcome == "close"
    assert not message.accepted


def test_upstream_421_closes_connection(upstream):
    server = upstream({"greeting": "421 4.3.2 Busy"})
    with SmtpWire(server.port) as wire:
        assert wire.greeting.code == 421
        assert wire.is_closed_by_peer(5)


def test_upstream_sessions_override_by_connection(upstream):
    server = upstream({"sessions": [{"greeting": "421 4.3.2 Busy"}]})
    with SmtpWire(server.port) as wire:
        assert wire.greeting.code == 421
    with SmtpWire(server.port) as wire:
        assert wire.greeting.code == 220


def test_upstream_data_without_recipients(upstream):
    server = upstream({"rcpt": {"default": "550 5.1.1 No"}})
    with SmtpWire(server.port) as wire:
        wire.ehlo()
        assert wire.command("MAIL FROM:<a@example.com>").code == 250
        assert wire.command("RCPT TO:<b@example.net>").code == 550
        assert wire.command("DATA").code == 554


def test_upstream_restart_keeps_messages(upstream):
    server = upstream()
    smtplib_send(server.port, "a@example.com", ["b@example.net"],
                 make_message("one"))
    server.wait_for_messages(1)
    assert server.stop() == 0
    server.start()
    smtplib_send(server.port, "a@example.com", ["b@example.net"],
                 make_message("two"))
    messages = server.wait_for_messages(2)
    assert [m.number for m in messages] == [1, 2]
    assert server.store.connection_count() == 2


def test_split_path_with_quoted_bracket():
    path, params = split_path_and_params('<"a> B=c"@example.net> X=1 Y')
    assert path == '<"a> B=c"@example.net>'
    assert params == ["X=1", "Y"]


def test_split_path_unterminated():
    with pytest.raises(ValueError):
        split_path_and_params('<"unterminated@example.net>')


# sink.py (aiosmtpd)

def test_sink_stores_exact_content(sink):
    server = sink()
    content = b"Subject: exact\r\n\r\ncaf\xe9\r\n.dot\r\n\r\n"
    smtplib_send(server.port, "alice@example.com",
                 ["bob@example.net", "carol@example.net"], content)
    [message] = server.wait_for_messages(1)
    assert message.content == content
    assert message.raw is None
    assert message.recipients == ["bob@example.net", "carol@example.net"]


def test_sink_rejects_chosen_recipients(sink):
    server = sink(["--rcpt-reply", "gone@example.net=550 5.1.1 Gone",
                   "--rcpt-reply", "later@example.net=450 4.2.0 Later"])
    refused = smtplib_send(
        server.port, "alice@example.com",
        ["ok@example.net", "gone@example.net", "later@example.net"],
        make_message("partial"))
    assert refused["gone@example.net"][0] == 550
    assert refused["later@example.net"][0] == 450
    [message] = server.wait_for_messages(1)
    assert message.recipients == ["ok@example.net"]


def test_sink_rejects_null_sender(sink):
    server = sink(["--mail-reply", "<>=550 5.7.1 Null sender rejected"])
    with pytest.raises(smtplib.SMTPSenderRefused) as error:
        smtplib_send(server.port, "<>", ["bob@example.net"],
                     make_message("bounce"))
    assert error.value.smtp_code == 550
    [command] = server.store.commands("MAIL")
    assert command.split(" ")[:2] == ["MAIL", "FROM:<>"]


# Clients and helpers.

def test_wire_pipelined_replies_in_order(upstream):
    server = upstream()
    with SmtpWire(server.port) as wire:
        wire.ehlo()
        wire.send(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<bad\r\n"
                  b"RCPT TO:<b@example.net>\r\nDATA\r\n")
        codes = [reply.code for reply in wire.read_replies(4)]
    assert codes == [250, 501, 250, 354]


def test_dot_stuff_doubles_leading_dots():
    assert dot_stuff(b".a\r\nb\r\n..\r\n") == b"..a\r\nb\r\n...\r\n.\r\n"


def test_relay_prefix_accepts_received_field():
    original = b"Subject: x\r\n\r\nbody\r\n"
    received = (b"Received: from a\r\n\tby relay.example.net; date\r\n"
                + original)
    assert relay_prefix(received, original).startswith(b"Received:")


def test_relay_prefix_rejects_other_fields():
    original = b"Subject: x\r\n\r\nbody\r\n"
    with pytest.raises(AssertionError):
        relay_prefix(b"X-Other: 1\r\n" + original, original)


def test_is_dsn_detects_multipart_report():
    content = (b"Content-Type: multipart/report;\r\n"
               b' report-type="delivery-status"; boundary="b"\r\n\r\n')
    assert is_dsn(content)
    assert not is_dsn(make_message("plain"))


def test_swaks_sends_to_upstream(upstream, swaks_tool):
    server = upstream()
    result = swaks(server.port, "--from", "alice@example.com", "--to",
                   "bob@example.net", "--header", "Subject: via swaks")
    assert result.returncode == 0, result.stdout.decode()
    [message] = server.wait_for_messages(1)
    assert b"Subject: via swaks" in message.content


def test_smtp_sink_dumps_transaction(smtp_sink):
    server = smtp_sink()
    smtplib_send(server.port, "alice@example.com", ["bob@example.net"],
                 make_message("to smtp-sink"))
    [dump] = wait_until(server.dumps, 10, message="an smtp-sink dump")
    assert b"X-Mail-Args: <alice@example.com>" in dump
    assert b"X-Rcpt-Args: <bob@example.net>" in dump
    assert b"Subject: to smtp-sink" in dump


def test_postfix_relays_to_relayhost(postfix, upstream, swaks_tool):
    server = upstream()
    instance = postfix(server.port)
    result = swaks(instance.port, "--from", "alice@example.com", "--to",
                   "bob@example.net", "--header", "Subject: via postfix")
    assert result.returncode == 0, result.stdout.decode()
    [message] = server.wait_for_messages(1, timeout=60)
    assert message.recipients == ["bob@example.net"]
    assert b"Subject: via postfix" in message.content


def test_spool_namespace_fills_and_remounts(spool_namespace, tmp_path):
    namespace = spool_namespace(str(tmp_path / "spool"), "1m")
    assert namespace.fill() > 0
    assert namespace.free_octets() == 0
    namespace.remount("ro")
    with pytest.raises(OSError) as error:
        open(namespace.path("new"), "wb")
    assert error.value.errno == errno.EROFS
