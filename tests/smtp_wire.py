"""Raw-socket SMTP client for tests that must control every byte sent.

SmtpWire sends exactly the bytes it is given, in one send call, and parses
the replies that come back (RFC 5321 section 4.2: a reply ends at the line
whose fourth character is a space). Pipelining and smuggling tests use it
because smtplib rewrites line endings and waits for each reply.
"""

import dataclasses
import re
import select
import smtplib
import socket
import time


class ConnectionClosed(Exception):
    """The server closed the connection before a whole reply arrived."""


class ReplyTimeout(Exception):
    """No whole reply arrived within the timeout."""


@dataclasses.dataclass
class Reply:
    """One SMTP reply."""

    code: int
    lines: list[str]  # text of each line after "CODE-" / "CODE "
    raw: bytes

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def enhanced(self) -> str | None:
        """RFC 3463 enhanced status code of the first line, if any."""
        match = re.match(r"([245]\.\d{1,3}\.\d{1,3})(?: |$)", self.lines[0])
        return match.group(1) if match else None

    @property
    def queue_id(self) -> str | None:
        """Queue ID from a reply such as "250 2.0.0 Ok: queued as ID"."""
        match = re.search(r"queued as (\S+)", self.text)
        return match.group(1) if match else None

    def __str__(self) -> str:
        return self.raw.decode("latin-1").rstrip("\r\n")


def dot_stuff(content: bytes) -> bytes:
    """Return DATA for `content` (CRLF lines): dots doubled, "." appended."""
    assert content == b"" or content.endswith(b"\r\n"), content[-20:]
    lines = content.split(b"\r\n")[:-1] if content else []
    stuffed = [b"." + line if line.startswith(b".") else line
               for line in lines]
    return b"".join(line + b"\r\n" for line in stuffed) + b".\r\n"


class SmtpWire:
    """One client connection. Not thread-safe: use one per thread."""

    def __init__(self, port: int, host: str = "127.0.0.1",
                 timeout: float = 30.0, read_greeting: bool = True,
                 source: str | None = None):
        """Connect to host:port, from the local address `source` if given
        (such as "127.0.0.2", to test rules on client addresses)."""
        self.timeout = timeout
        self.sock = socket.create_connection(
            (host, port), timeout=timeout,
            source_address=(source, 0) if source else None)
        self._buffer = b""
        self.greeting = self.read_reply() if read_greeting else None

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "SmtpWire":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # Sending.

    def send(self, data: bytes) -> None:
        """Send `data` with one sendall call (one write for the kernel)."""
        self.sock.sendall(data)

    def command(self, line: str | bytes,
                timeout: float | None = None) -> Reply:
        """Send one command line (CRLF is added) and return its reply."""
        if isinstance(line, str):
            line = line.encode("latin-1")
        self.send(line + b"\r\n")
        return self.read_reply(timeout)

    def ehlo(self, name: str = "client.example.com") -> Reply:
        reply = self.command(f"EHLO {name}")
        assert reply.code == 250, f"EHLO failed: {reply}"
        return reply

    # Reading.

    def _fill(self, deadline: float) -> None:
        """Read more bytes into the buffer, or raise at EOF or deadline."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ReplyTimeout(f"no whole reply; buffered {self._buffer!r}")
        readable, _, _ = select.select([self.sock], [], [], remaining)
        if not readable:
            raise ReplyTimeout(f"no whole reply; buffered {self._buffer!r}")
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionClosed(f"closed; buffered {self._buffer!r}")
        self._buffer += data

    def read_line(self, timeout: float | None = None) -> bytes:
        """Return one reply line including its CRLF."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\n" not in self._buffer:
            self._fill(deadline)
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line + b"\n"

    def read_reply(self, timeout: float | None = None) -> Reply:
        """Return the next whole reply."""
        raw, lines = b"", []
        while True:
            line = self.read_line(timeout)
            raw += line
            text = line.rstrip(b"\r\n").decode("latin-1")
            if len(text) < 3 or not text[:3].isdigit():
                raise AssertionError(f"malformed reply line {line!r}")
            lines.append(text[4:])
            if len(text) == 3 or text[3] == " ":
                return Reply(code=int(text[:3]), lines=lines, raw=raw)
            if text[3] != "-":
                raise AssertionError(f"malformed reply line {line!r}")

    def read_replies(self, count: int,
                     timeout: float | None = None) -> list[Reply]:
        return [self.read_reply(timeout) for _ in range(count)]

    def has_pending_data(self, wait: float) -> bool:
        """Return whether the server sends anything within `wait` seconds."""
        if self._buffer:
            return True
        readable, _, _ = select.select([self.sock], [], [], wait)
        return bool(readable)

    def is_closed_by_peer(self, timeout: float) -> bool:
        """Read and discard until EOF; return whether EOF came in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            readable, _, _ = select.select(
                [self.sock], [], [], max(0.0, deadline - time.monotonic()))
            if not readable:
                return False
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                return True
            if not data:
                return True
            self._buffer += data
        return False

    # Whole transactions.

    def mail_transaction(self, mail_from: str, recipients: list[str],
                         content: bytes, params: str = "") -> Reply:
        """Run MAIL, RCPT..., DATA for `content`; return the final reply.

        Each address is given without angle brackets. Asserts that MAIL,
        every RCPT and DATA succeed.
        """
        reply = self.command(f"MAIL FROM:<{mail_from}>{params}")
        assert reply.code == 250, f"MAIL FROM:<{mail_from}>: {reply}"
        for recipient in recipients:
            reply = self.command(f"RCPT TO:<{recipient}>")
            assert reply.code == 250, f"RCPT TO:<{recipient}>: {reply}"
        reply = self.command("DATA")
        assert reply.code == 354, f"DATA: {reply}"
        self.send(dot_stuff(content))
        return self.read_reply()


def send_message(port: int, mail_from: str, recipients: list[str],
                 content: bytes, params: str = "") -> Reply:
    """Send one message over a new connection; return the final reply."""
    with SmtpWire(port) as wire:
        assert wire.greeting.code == 220, f"greeting: {wire.greeting}"
        wire.ehlo()
        reply = wire.mail_transaction(mail_from, recipients, content, params)
        try:
            wire.command("QUIT", timeout=5)
        except (ConnectionClosed, ReplyTimeout, OSError):
            pass
        return reply


def smtplib_send(port: int, sender: str, recipients: list[str],
                 content: bytes, **options) -> dict:
    """Send one message with smtplib; return its refused recipients.

    smtplib turns bare LF into CRLF and stuffs dots itself. `options` go to
    sendmail (mail_options, rcpt_options).
    """
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("client.example.com")
        return client.sendmail(sender, recipients, content, **options)
