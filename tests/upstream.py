"""Scriptable SMTP server used as a next hop in the integration tests.

Run as a process of its own so that a test can stop and start it:

  /usr/bin/python3 tests/upstream.py --port 2526 --dir DIR [--script FILE]

It stores every message that it reads to the end of DATA in DIR (see
mailstore.py), including the raw DATA bytes before unstuffing, and logs
every command and reply to DIR/events.jsonl.

The script is a JSON object. Every key is optional:

  greeting    reply sent on connect
  ehlo, helo  reply to EHLO / HELO
  mail        {"default": reply, "<path>": reply, ...}; the key is the
              reverse-path as sent, e.g. "<>" or "<alice@example.com>"
  rcpt        {"default": reply, "address": reply, ...}; the key is the
              forward-path without angle brackets, compared case-insensitively
  data        reply to DATA when some recipient was accepted
  data_without_recipients  reply to DATA when none was (default 554 5.5.1)
  end_of_data reply after the final "."
  rset, noop, quit, unknown  replies to those commands
  reply_delay seconds to wait before every reply
  sessions    list of partial scripts: connection k (counting from 1 since
              the process started) uses sessions[k-1] over the base script

A reply is one of:
  "250 2.0.0 Ok"            one line; CRLF is added
  ["220-a", "220 ready"]    several lines
  "close"                   close the connection without replying
  "hang"                    never reply; read and discard until the peer
                            closes
  {"lines": [...], "extra_lines": N, "delay": S, "times": T, "then": R}
      extra_lines inserts N continuation lines "CODE-line i" before the
      last line; delay waits S seconds first; times limits how often this
      reply is used, after which R (or the default) applies
  {"action": "close" or "hang", "times": T, "then": R}
      close or hang, limited like the above

A connection is closed after any reply with code 421.
"""

import argparse
import asyncio
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mailstore import MailStore, to_text  # noqa: E402

DEFAULT_SCRIPT = {
    "greeting": "220 upstream.example.org ESMTP test server",
    "ehlo": ["250-upstream.example.org", "250-PIPELINING", "250-8BITMIME",
             "250 SIZE 104857600"],
    "helo": "250 upstream.example.org",
    "mail": {"default": "250 2.1.0 Ok"},
    "rcpt": {"default": "250 2.1.5 Ok"},
    "data": "354 End data with <CR><LF>.<CR><LF>",
    "data_without_recipients": "554 5.5.1 Error: no valid recipients",
    "end_of_data": "250 2.0.0 Ok: queued",
    "rset": "250 2.0.0 Ok",
    "noop": "250 2.0.0 Ok",
    "quit": "221 2.0.0 Bye",
    "unknown": "502 5.5.2 Error: command not recognized",
    "reply_delay": 0,
}

# Maximum line length read, command or DATA. A longer command line gets 500.
MAX_LINE = 64 * 1024 * 1024


def split_path_and_params(argument: str) -> tuple[str, list[str]]:
    """Split "<path> P1 P2" into the path (with brackets) and parameters.

    A quoted string inside the path may contain ">" and spaces, as in
    <"foo@example.org> ORCPT=x"@example.net>. Raises ValueError when the
    path has no closing bracket.
    """
    argument = argument.lstrip(" ")
    if not argument.startswith("<"):
        path, _, rest = argument.partition(" ")
        return path, rest.split()
    index, in_quotes = 1, False
    while index < len(argument):
        char = argument[index]
        if in_quotes and char == "\\":
            index += 2
            continue
        if char == '"':
            in_quotes = not in_quotes
        elif char == ">" and not in_quotes:
            return argument[:index + 1], argument[index + 1:].split()
        index += 1
    raise ValueError(f"no closing bracket in {argument!r}")


class ReplyUsage:
    """Counts how often each limited reply ("times") has been sent."""

    def __init__(self):
        self.counts: dict[int, int] = {}

    def resolve(self, spec, fallback):
        """Return the reply to send now for `spec`, honouring "times".

        A spec used up goes on to its "then", or else to `fallback`, which
        must not itself be limited.
        """
        while isinstance(spec, dict) and "times" in spec:
            used = self.counts.get(id(spec), 0)
            if used < spec["times"]:
                self.counts[id(spec)] = used + 1
                return spec
            spec = spec.get("then", fallback)
        return spec


def action_of(spec) -> str | None:
    """Return "close" or "hang" for such a spec, else None."""
    if isinstance(spec, dict):
        spec = spec.get("action")
    return spec if spec in ("close", "hang") else None


def is_positive(spec) -> bool:
    """Return whether the spec sends a 2xx reply."""
    return action_of(spec) is None and render_reply(spec)[:1] == b"2"


def render_reply(spec) -> bytes:
    """Return the wire bytes of a reply spec that is not "close"/"hang"."""
    if isinstance(spec, str):
        lines = [spec]
    elif isinstance(spec, list):
        lines = list(spec)
    else:
        lines = list(spec["lines"])
        extra = spec.get("extra_lines", 0)
        if extra:
            code = lines[-1][:3]
            filler = [f"{code}-line {i} of a long reply" for i in range(extra)]
            lines = lines[:-1] + filler + lines[-1:]
    return b"".join(line.encode("latin-1") + b"\r\n" for line in lines)


class Session:
    """One inbound connection, served by one asyncio task."""

    def __init__(self, server: "UpstreamServer", number: int, reader,
                 writer):
        self.server = server
        self.store = server.store
        self.script = server.script_for(number)
        self.connection = f"{os.getpid()}.{number}"
        self.reader = reader
        self.writer = writer
        self.helo = ""
        self.closed = False
        self.reset()

    def reset(self) -> None:
        self.mail_from: str | None = None
        self.mail_params: list[str] = []
        self.rcpt_to: list[str] = []
        self.rcpt_params: list[list[str]] = []

    async def reply(self, spec) -> None:
        """Send one reply, or close or hang when the spec is such an action."""
        delay = self.script.get("reply_delay", 0)
        if isinstance(spec, dict):
            delay += spec.get("delay", 0)
        if delay:
            await asyncio.sleep(delay)
        action = action_of(spec)
        if action == "close":
            self.store.log_event(self.connection, "reply", "close")
            self.closed = True
            return
        if action == "hang":
            self.store.log_event(self.connection, "reply", "hang")
            await self.discard_until_closed()
            return
        data = render_reply(spec)
        self.store.log_event(self.connection, "reply", to_text(data[:2000]))
        self.writer.write(data)
        await self.writer.drain()
        if data.startswith(b"421"):
            self.closed = True

    async def discard_until_closed(self) -> None:
        while await self.reader.read(65536):
            pass
        self.closed = True

    async def run(self) -> None:
        self.store.log_event(self.connection, "connect")
        try:
            await self.reply(self.resolve("greeting"))
            while not self.closed:
                line = await self.read_command()
                if line is None:
                    break
                await self.handle_command(line)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.store.log_event(self.connection, "close")
            self.writer.close()

    async def read_command(self) -> str | None:
        """Return one command line without its line ending, or None at EOF."""
        try:
            data = await self.reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as error:
            if error.partial:
                self.store.log_event(self.connection, "partial",
                                     to_text(error.partial[:2000]))
            return None
        except asyncio.LimitOverrunError as error:
            await self.reader.readexactly(error.consumed)
            self.store.log_event(self.connection, "command", "<too long>")
            await self.reply("500 5.5.2 Error: line too long")
            return ""
        text = to_text(data)
        self.store.log_event(self.connection, "command", text.rstrip("\r\n"))
        return text.rstrip("\r\n")

    async def handle_command(self, line: str) -> None:
        verb, _, argument = line.partition(" ")
        verb = verb.upper()
        if verb.startswith("MAIL") or verb.startswith("RCPT"):
            verb, _, rest = line.partition(":")
            verb = verb.split(" ")[0].upper()
            argument = rest
        handler = {
            "EHLO": self.on_ehlo, "HELO": self.on_helo, "MAIL": self.on_mail,
            "RCPT": self.on_rcpt, "DATA": self.on_data, "RSET": self.on_rset,
            "NOOP": self.on_noop, "QUIT": self.on_quit,
        }.get(verb)
        if handler is None:
            await self.reply(self.resolve("unknown"))
            return
        await handler(argument)

    def resolve(self, key: str, table_key: str | None = None):
        """Return the reply spec for `key` (a table lookup if table_key)."""
        spec = self.script[key]
        if table_key is not None:
            spec = spec.get(table_key, spec["default"])
            return self.server.usage.resolve(spec,
                                             DEFAULT_SCRIPT[key]["default"])
        return self.server.usage.resolve(spec, DEFAULT_SCRIPT[key])

    async def on_ehlo(self, argument: str) -> None:
        self.helo = argument
        self.reset()
        await self.reply(self.resolve("ehlo"))

    async def on_helo(self, argument: str) -> None:
        self.helo = argument
        self.reset()
        await self.reply(self.resolve("helo"))

    async def on_mail(self, argument: str) -> None:
        if self.mail_from is not None:
            await self.reply("503 5.5.1 Error: nested MAIL command")
            return
        try:
            path, params = split_path_and_params(argument)
        except ValueError:
            await self.reply("501 5.1.7 Bad sender address syntax")
            return
        spec = self.resolve("mail", path)
        if is_positive(spec):
            self.mail_from, self.mail_params = path, params
        await self.reply(spec)

    async def on_rcpt(self, argument: str) -> None:
        if self.mail_from is None:
            await self.reply("503 5.5.1 Error: need MAIL command")
            return
        try:
            path, params = split_path_and_params(argument)
        except ValueError:
            await self.reply("501 5.1.3 Bad recipient address syntax")
            return
        address = path.strip("<>").lower()
        table = {key.lower(): value for key, value in
                 self.script["rcpt"].items()}
        spec = table.get(address, table["default"])
        spec = self.server.usage.resolve(spec,
                                         DEFAULT_SCRIPT["rcpt"]["default"])
        if is_positive(spec):
            self.rcpt_to.append(path)
            self.rcpt_params.append(params)
        await self.reply(spec)

    async def on_data(self, argument: str) -> None:
        if not self.rcpt_to:
            await self.reply(self.resolve("data_without_recipients"))
            return
        spec = self.resolve("data")
        await self.reply(spec)
        if (self.closed or action_of(spec)
                or render_reply(spec)[:1] != b"3"):
            return
        raw, content = await self.read_data()
        if raw is None:
            self.closed = True
            return
        outcome_spec = self.resolve("end_of_data")
        number = self.store.save(
            content=content, raw=raw, mail_from=self.mail_from,
            mail_params=self.mail_params, rcpt_to=self.rcpt_to,
            rcpt_params=self.rcpt_params, helo=self.helo,
            outcome=describe_outcome(outcome_spec),
            connection=self.connection)
        self.store.log_event(self.connection, "message", str(number))
        self.reset()
        await self.reply(outcome_spec)

    async def read_data(self) -> tuple[bytes | None, bytes]:
        """Read DATA up to the line "." and return (raw, unstuffed).

        Only CRLF ends a line here, so a bare LF or CR stays inside the line
        where it arrived and shows up in both results. Returns (None, b"")
        when the peer closes before the end of data.
        """
        raw_lines, content_lines = [], []
        while True:
            try:
                line = await self.reader.readuntil(b"\r\n")
            except asyncio.IncompleteReadError as error:
                self.store.log_event(self.connection, "data_incomplete",
                                     str(len(b"".join(raw_lines))
                                         + len(error.partial)))
                return None, b""
            raw_lines.append(line)
            if line == b".\r\n":
                break
            content_lines.append(line[1:] if line.startswith(b".") else line)
        return b"".join(raw_lines), b"".join(content_lines)

    async def on_rset(self, argument: str) -> None:
        self.reset()
        await self.reply(self.resolve("rset"))

    async def on_noop(self, argument: str) -> None:
        await self.reply(self.resolve("noop"))

    async def on_quit(self, argument: str) -> None:
        await self.reply(self.resolve("quit"))
        self.closed = True


def describe_outcome(spec) -> str:
    """Return the outcome text stored with a message for a reply spec."""
    if action_of(spec):
        return action_of(spec)
    return render_reply(spec).split(b"\r\n")[-2].decode("latin-1")


class UpstreamServer:
    """Listens on one port and runs a Session per connection."""

    def __init__(self, store: MailStore, script: dict):
        self.store = store
        self.base_script = {**DEFAULT_SCRIPT, **script}
        self.sessions = script.get("sessions", [])
        self.connections = 0
        self.usage = ReplyUsage()

    def script_for(self, number: int) -> dict:
        if number <= len(self.sessions):
            return {**self.base_script, **self.sessions[number - 1]}
        return self.base_script

    async def handle(self, reader, writer) -> None:
        self.connections += 1
        await Session(self, self.connections, reader, writer).run()


async def serve(host: str, port: int, store: MailStore, script: dict) -> None:
    server = UpstreamServer(store, script)
    listener = await asyncio.start_server(
        server.handle, host, port, reuse_address=True, limit=MAX_LINE)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with listener:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, required=True,
                        help="TCP port to listen on")
    parser.add_argument("--dir", required=True,
                        help="directory that messages and events go to")
    parser.add_argument("--script", help="JSON file with the script")
    args = parser.parse_args()
    script = {}
    if args.script:
        with open(args.script) as file:
            script = json.load(file)
    asyncio.run(serve(args.host, args.port, MailStore(args.dir), script))


if __name__ == "__main__":
    main()
