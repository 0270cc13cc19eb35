"""Checks on what a next hop received from the relay."""

import re

# A header field: the first line and its folded continuation lines.
HEADER_FIELD = re.compile(rb"[!-9;-~]+:[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*")


def make_message(subject: str, body: str = "hello\r\n",
                 headers: dict[str, str] | None = None) -> bytes:
    """Return a small CRLF message with From, To and Subject fields."""
    fields = {"From": "alice@example.com", "To": "bob@example.net",
              "Subject": subject, **(headers or {})}
    head = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
    return (head + "\r\n" + body).encode()


def relay_prefix(received: bytes, original: bytes) -> bytes:
    """Return what the relay put before `original`, checking its form.

    The relay may prepend trace header fields (Received:) and nothing else,
    so `received` must end with `original` byte for byte.
    """
    assert received.endswith(original), (
        f"the next hop's copy does not end with the message as sent:\n"
        f"sent     {original[:300]!r}...{original[-100:]!r}\n"
        f"received {received[:300]!r}...{received[-100:]!r}")
    prefix = received[:len(received) - len(original)]
    fields = HEADER_FIELD.findall(prefix)
    assert b"".join(fields) == prefix, (
        f"the relay added something other than header fields: {prefix!r}")
    for field in fields:
        name = field.split(b":", 1)[0].lower()
        assert name == b"received", f"the relay added {field!r}"
    return prefix


def bare_line_endings(raw: bytes) -> list[int]:
    """Return the offsets of each CR not before LF and each LF not after CR."""
    return [match.start() for match in
            re.finditer(rb"\r(?!\n)|(?<!\r)\n", raw)]


def unfold(content: bytes) -> bytes:
    """Remove each CRLF that is followed by a space or tab (RFC 5322 3.2.2)."""
    return re.sub(rb"\r\n(?=[ \t])", b"", content)


def is_dsn(content: bytes) -> bool:
    """Return whether `content` is a multipart/report DSN (RFC 3464)."""
    unfolded = unfold(content.split(b"\r\n\r\n", 1)[0]).lower()
    return (b"content-type: multipart/report" in unfolded
            and b"report-type=delivery-status" in unfolded.replace(b'"', b""))


# How long a test waits before it concludes that nothing more will arrive.
# ferryd delivers a spooled message at once when the next hop is up, and
# the test configs retry after 1s (FAST_DELIVERY), so 3s covers a first
# attempt and at least one retry.
QUIET_PERIOD = 3.0
