"""Next hop replies of every shape (RFC 5321 section 4.2.1).

A reply ends at the line whose fourth character is a space. Multi-line
greetings, EHLO lines whose text starts with digits and bare "250" lines
are parsed and the message is delivered. A reply of 10,000 continuation
lines is cut off as a protocol error: the message is deferred, and ferryd
keeps running and delivers it on a later attempt.
"""

import pytest

from relay_checks import make_message
from smtp_wire import send_message

SHAPES = {
    "multiline_greeting": {"greeting": ["220-a", "220-b", "220 ready"]},
    "ehlo_line_with_digits": {
        "ehlo": ["250-upstream.example.org", "250-234 text starting with "
                 "digits", "250-PIPELINING", "250 8BITMIME"]},
    "bare_250_ehlo": {"ehlo": "250"},
    "bare_250_mail_rcpt": {"mail": {"default": "250"},
                           "rcpt": {"default": "250"}},
    "bare_354_and_250": {"data": "354", "end_of_data": "250"},
    "multiline_final_reply": {"end_of_data": ["250-2.0.0 Ok", "250-queued",
                                              "250 2.0.0 as 12345"]},
    "greeting_and_ehlo_multiline_digits": {
        "greeting": ["220-220 220", "220 220"],
        "ehlo": ["250-250", "250-250 250", "250 250"]},
}


@pytest.mark.parametrize("script", SHAPES.values(), ids=SHAPES.keys())
def test_reply_shape_parsed(make_relay, script):
    relay = make_relay(script)
    reply = send_message(relay.port, "alice@example.com", ["bob@example.net"],
                         make_message("reply shapes"))
    assert reply.code == 250, reply
    [message] = relay.upstream.wait_for_messages(1)
    assert message.recipients == ["bob@example.net"]


def oversized(lines: list[str]) -> dict:
    """A reply with 10,000 continuation lines, used on the first attempt."""
    return {"lines": lines, "extra_lines": 10000, "times": 1}


OVERSIZED = {
    "greeting": {"greeting": oversized(["220 upstream.example.org"])},
    "ehlo": {"ehlo": oversized(["250-upstream.example.org", "250 8BITMIME"])},
    "mail": {"mail": {"default": oversized(["250 2.1.0 Ok"])}},
    "rcpt": {"rcpt": {"default": oversized(["250 2.1.5 Ok"])}},
}


@pytest.mark.parametrize("script", OVERSIZED.values(), ids=OVERSIZED.keys())
def test_oversized_reply_defers(make_relay, script):
    relay = make_relay(script)
    reply = send_message(relay.port, "alice@example.com", ["bob@example.net"],
                         make_message("oversized reply"))
    assert reply.code == 250, reply
    [message] = relay.upstream.wait_for_messages(1, timeout=60)
    assert relay.upstream.store.connection_count() >= 2
    assert relay.ferryd.running
    assert message.recipients == ["bob@example.net"]
