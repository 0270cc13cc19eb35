"""aiosmtpd-based SMTP server used as a next hop in the integration tests.

Run as a process of its own so that a test can stop and start it:

  /usr/bin/python3 tests/sink.py --port 2526 --dir DIR \\
      [--rcpt-reply 'gone@example.net=550 5.1.1 User unknown'] \\
      [--mail-reply '<>=550 5.7.1 Null sender rejected']

Each message is stored in DIR (see mailstore.py) with the content exactly
as aiosmtpd received it after dot-unstuffing (aiosmtpd's original_content).
aiosmtpd does not expose the DATA bytes before unstuffing, so no N.raw is
written; upstream.py does write it.
"""

import argparse
import asyncio
import os
import re
import signal
import sys

from aiosmtpd.smtp import SMTP

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mailstore import MailStore  # noqa: E402


def parse_rule(text: str) -> tuple[str, str]:
    """Split "KEY=REPLY" at the first "=" that is followed by a reply code."""
    match = re.fullmatch(r"(.*?)=(\d{3}(?: .*)?)", text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"expected ADDRESS=REPLY such as 'a@example.net=550 5.1.1 "
            f"Unknown', got {text!r}")
    return match.group(1), match.group(2)


def angle_path(address: str) -> str:
    """Return aiosmtpd's parsed address as a path with angle brackets."""
    if address in ("", "<>"):
        return "<>"
    return f"<{address}>"


class StoringHandler:
    """aiosmtpd handler that applies the reply rules and stores messages."""

    def __init__(self, store: MailStore, mail_replies: dict[str, str],
                 rcpt_replies: dict[str, str]):
        self.store = store
        self.mail_replies = mail_replies
        self.rcpt_replies = {key.lower(): value
                             for key, value in rcpt_replies.items()}

    @staticmethod
    def connection_of(session) -> str:
        return f"{os.getpid()}.{id(session)}"

    async def handle_MAIL(self, server, session, envelope, address,
                          mail_options):
        path = angle_path(address)
        text = " ".join([f"MAIL FROM:{path}", *mail_options])
        self.store.log_event(self.connection_of(session), "command", text)
        reply = self.mail_replies.get(path)
        if reply is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        text = " ".join([f"RCPT TO:{angle_path(address)}", *rcpt_options])
        self.store.log_event(self.connection_of(session), "command", text)
        reply = self.rcpt_replies.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.append(list(rcpt_options))
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        number = self.store.save(
            content=envelope.original_content, raw=None,
            mail_from=angle_path(envelope.mail_from),
            mail_params=list(envelope.mail_options),
            rcpt_to=[angle_path(address) for address in envelope.rcpt_tos],
            rcpt_params=[list(options) for options in envelope.rcpt_options],
            helo=session.host_name or "", outcome="250 2.0.0 Ok",
            connection=self.connection_of(session))
        return f"250 2.0.0 Ok: queued as {number}"


async def serve(args: argparse.Namespace) -> None:
    store = MailStore(args.dir)
    handler = StoringHandler(store, dict(args.mail_reply),
                             dict(args.rcpt_reply))
    loop = asyncio.get_running_loop()

    def make_protocol():
        return SMTP(handler, hostname="sink.example.org", decode_data=False,
                    enable_SMTPUTF8=True, data_size_limit=args.max_size)

    server = await loop.create_server(make_protocol, args.host, args.port,
                                      reuse_address=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, required=True,
                        help="TCP port to listen on")
    parser.add_argument("--dir", required=True,
                        help="directory that messages and events go to")
    parser.add_argument("--max-size", type=int, default=64 * 1024 * 1024,
                        help="largest message accepted, in octets")
    parser.add_argument("--mail-reply", type=parse_rule, action="append",
                        default=[], metavar="PATH=REPLY",
                        help="reply to MAIL FROM:PATH, e.g. '<>=550 5.7.1 No'")
    parser.add_argument("--rcpt-reply", type=parse_rule, action="append",
                        default=[], metavar="ADDRESS=REPLY",
                        help="reply to RCPT TO:<ADDRESS>, e.g. "
                             "'gone@example.net=550 5.1.1 Unknown'")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
