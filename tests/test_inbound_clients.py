"""Real SMTP clients sending into ferryd, delivered to aiosmtpd byte-exact.

Clients: swaks, Python's smtplib, and a real Postfix that uses ferryd as
its relayhost. The next hop is sink.py (aiosmtpd). Its copy must equal what
the client put on the wire after unstuffing, apart from the trace fields
that ferryd puts in front.
"""

import smtplib

from ferry_config import relay_config
from processes import free_port, swaks
from relay_checks import make_message, relay_prefix
from smtp_wire import smtplib_send

# Lines that stress transparency and 8-bit transport: dots, a line of 998
# octets (the RFC 5321 maximum without CRLF), octets above 127, tabs and
# trailing spaces.
AWKWARD_BODY = (b"Subject: awkward\r\n"
                b"Content-Type: text/plain; charset=iso-8859-1\r\n"
                b"Content-Transfer-Encoding: 8bit\r\n"
                b"\r\n"
                b".starts with a dot\r\n"
                b"..two dots\r\n"
                b".\r\n"
                b"caf\xe9 na\xefve \xff\r\n"
                b"tab\there, trailing spaces   \r\n"
                + b"x" * 998 + b"\r\n"
                b"\r\n"
                b"end\r\n")


def start_relay(ferryd, sink, tmp_path):
    next_hop = sink()
    config = relay_config(free_port(), str(tmp_path / "spool"),
                          {"example.net": [next_hop.port],
                           "example.com": [next_hop.port]})
    return ferryd(config), next_hop


def test_smtplib_message_byte_exact(ferryd, sink, tmp_path):
    relay, next_hop = start_relay(ferryd, sink, tmp_path)
    refused = smtplib_send(relay.port, "alice@example.com",
                           ["bob@example.net", "carol@example.net"],
                           AWKWARD_BODY, mail_options=["BODY=8BITMIME"])
    assert refused == {}
    [message] = next_hop.wait_for_messages(1)
    relay_prefix(message.content, AWKWARD_BODY)
    assert message.sender == "alice@example.com"
    assert sorted(message.recipients) == ["bob@example.net",
                                          "carol@example.net"]


def test_smtplib_several_messages_one_connection(ferryd, sink, tmp_path):
    relay, next_hop = start_relay(ferryd, sink, tmp_path)
    contents = [make_message(f"message {index}") for index in range(5)]
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=30) as client:
        for content in contents:
            assert client.sendmail("alice@example.com", ["bob@example.net"],
                                   content) == {}
    messages = next_hop.wait_for_messages(5)
    received = sorted(m.content[-len(contents[0]):] for m in messages)
    assert received == sorted(contents)


def test_swaks_message_byte_exact(ferryd, sink, upstream, swaks_tool,
                                  tmp_path):
    data_file = tmp_path / "message.eml"
    data_file.write_bytes(AWKWARD_BODY.replace(b"\r\n", b"\n"))
    arguments = ["--from", "alice@example.com", "--to", "bob@example.net",
                 "--data", f"@{data_file}"]
    # What swaks puts on the wire, captured by sending once straight to a
    # test next hop: swaks rewrites line endings and stuffs dots itself.
    reference = upstream()
    result = swaks(reference.port, *arguments)
    assert result.returncode == 0, result.stdout.decode()
    [expected] = reference.wait_for_messages(1)
    relay, next_hop = start_relay(ferryd, sink, tmp_path)
    result = swaks(relay.port, *arguments)
    assert result.returncode == 0, result.stdout.decode()
    [message] = next_hop.wait_for_messages(1)
    relay_prefix(message.content, expected.content)


def test_swaks_pipelining_session(ferryd, sink, swaks_tool, tmp_path):
    relay, next_hop = start_relay(ferryd, sink, tmp_path)
    result = swaks(relay.port, "--pipeline", "--from", "alice@example.com",
                   "--to", "bob@example.net,carol@example.net",
                   "--header", "Subject: pipelined swaks")
    assert result.returncode == 0, result.stdout.decode()
    [message] = next_hop.wait_for_messages(1)
    assert b"Subject: pipelined swaks" in message.content
    assert sorted(message.recipients) == ["bob@example.net",
                                          "carol@example.net"]


def test_postfix_relays_through_ferryd(ferryd, sink, postfix, swaks_tool,
                                       tmp_path):
    relay, next_hop = start_relay(ferryd, sink, tmp_path)
    instance = postfix(relay.port)
    result = swaks(instance.port, "--from", "alice@example.com",
                   "--to", "bob@example.net",
                   "--header", "Subject: through postfix")
    assert result.returncode == 0, result.stdout.decode()
    [message] = next_hop.wait_for_messages(1, timeout=60)
    assert message.sender == "alice@example.com"
    assert message.recipients == ["bob@example.net"]
    assert b"Subject: through postfix" in message.content
    assert b"by postfix.example.com" in message.content
