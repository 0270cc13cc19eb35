"""Message store shared by the test next hops (sink.py and upstream.py).

A next hop process writes each message it receives into one directory:

  N.eml   the DATA content after dot-unstuffing, without the final ".\\r\\n"
  N.raw   the DATA bytes exactly as they came off the wire, final ".\\r\\n"
          included (only servers that can see them write this file)
  N.json  the envelope and the outcome; written last, by rename, so a
          message is visible to readers only once all its files are complete

and appends one JSON line per SMTP event (connect, command, reply, close) to
events.jsonl. Numbers continue across restarts of the process, so a test can
stop a next hop and start it again on the same directory.

Text that came from the network is stored as latin-1, which maps every octet
to one character and back, so envelope strings keep their exact bytes.
"""

import dataclasses
import json
import os
import re
import time

EVENTS_FILE = "events.jsonl"


@dataclasses.dataclass
class StoredMessage:
    """One message as a next hop received it."""

    number: int
    content: bytes
    raw: bytes | None
    mail_from: str  # reverse-path as sent, with angle brackets: "<a@b>"
    mail_params: list[str]
    rcpt_to: list[str]  # accepted forward-paths, with angle brackets
    rcpt_params: list[list[str]]
    helo: str
    outcome: str  # reply sent after the final dot, or "close" / "hang"
    connection: str
    received_at: float

    @property
    def accepted(self) -> bool:
        """Whether the next hop replied 2xx to the final dot."""
        return self.outcome[:1] == "2"

    @property
    def sender(self) -> str:
        """Reverse-path without angle brackets ("" for the null sender)."""
        return strip_angle_brackets(self.mail_from)

    @property
    def recipients(self) -> list[str]:
        """Forward-paths without angle brackets."""
        return [strip_angle_brackets(path) for path in self.rcpt_to]


def strip_angle_brackets(path: str) -> str:
    """Return `path` without one enclosing pair of angle brackets."""
    if path.startswith("<") and path.endswith(">"):
        return path[1:-1]
    return path


def to_text(data: bytes) -> str:
    """Decode network bytes so that `to_bytes` restores them exactly."""
    return data.decode("latin-1")


def to_bytes(text: str) -> bytes:
    """Encode text made by `to_text` back to the original bytes."""
    return text.encode("latin-1")


class MailStore:
    """Reader and writer of one next hop's message directory.

    One process writes a directory at a time. Any number of readers may read
    it while it is being written.
    """

    def __init__(self, directory: str):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self._next_number = self._highest_number() + 1

    def _highest_number(self) -> int:
        numbers = [0]
        for name in os.listdir(self.directory):
            match = re.fullmatch(r"(\d+)\.(json|eml|raw)(\.tmp)?", name)
            if match:
                numbers.append(int(match.group(1)))
        return max(numbers)

    def _path(self, number: int, suffix: str) -> str:
        return os.path.join(self.directory, f"{number}.{suffix}")

    # Writing (next hop processes).

    def save(self, *, content: bytes, raw: bytes | None, mail_from: str,
             mail_params: list[str], rcpt_to: list[str],
             rcpt_params: list[list[str]], helo: str, outcome: str,
             connection: str) -> int:
        """Store one message and return its number."""
        number = self._next_number
        self._next_number += 1
        self._write_atomically(self._path(number, "eml"), content)
        if raw is not None:
            self._write_atomically(self._path(number, "raw"), raw)
        envelope = {
            "mail_from": mail_from,
            "mail_params": mail_params,
            "rcpt_to": rcpt_to,
            "rcpt_params": rcpt_params,
            "helo": helo,
            "outcome": outcome,
            "connection": connection,
            "received_at": time.time(),
        }
        data = json.dumps(envelope, indent=1).encode()
        self._write_atomically(self._path(number, "json"), data)
        return number

    @staticmethod
    def _write_atomically(path: str, data: bytes) -> None:
        temporary = path + ".tmp"
        with open(temporary, "wb") as file:
            file.write(data)
        os.rename(temporary, path)

    def log_event(self, connection: str, event: str, text: str = "") -> None:
        """Append one event line; `text` is latin-1 text of wire bytes."""
        line = json.dumps({
            "time": time.time(),
            "connection": connection,
            "event": event,
            "text": text,
        })
        with open(os.path.join(self.directory, EVENTS_FILE), "a") as file:
            file.write(line + "\n")

    # Reading (tests).

    def messages(self) -> list[StoredMessage]:
        """Return every complete message, in arrival order."""
        numbers = []
        for name in os.listdir(self.directory):
            match = re.fullmatch(r"(\d+)\.json", name)
            if match:
                numbers.append(int(match.group(1)))
        return [self._load(number) for number in sorted(numbers)]

    def accepted_messages(self) -> list[StoredMessage]:
        """Return the messages to which the next hop replied 2xx."""
        return [message for message in self.messages() if message.accepted]

    def _load(self, number: int) -> StoredMessage:
        with open(self._path(number, "json"), "rb") as file:
            envelope = json.load(file)
        with open(self._path(number, "eml"), "rb") as file:
            content = file.read()
        raw = None
        if os.path.exists(self._path(number, "raw")):
            with open(self._path(number, "raw"), "rb") as file:
                raw = file.read()
        return StoredMessage(number=number, content=content, raw=raw,
                             **envelope)

    def events(self, event: str | None = None) -> list[dict]:
        """Return the logged events, optionally only those of one kind."""
        path = os.path.join(self.directory, EVENTS_FILE)
        if not os.path.exists(path):
            return []
        result = []
        with open(path) as file:
            for line in file:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line still being written
                if event is None or record["event"] == event:
                    result.append(record)
        return result

    def commands(self, verb: str | None = None) -> list[str]:
        """Return the command lines received, optionally of one verb only."""
        lines = [record["text"] for record in self.events("command")]
        if verb is None:
            return lines
        prefix = verb.upper()
        return [line for line in lines
                if line.upper().split(" ", 1)[0].split(":", 1)[0] == prefix]

    def connection_count(self) -> int:
        """Return how many connections the next hop has accepted."""
        return len(self.events("connect"))

    def attempt_count(self) -> int:
        """Return how many delivery attempts reached the next hop.

        A relay that keeps its connection open makes several attempts on
        one connection, so each MAIL command counts as one attempt. A
        connection that ended before any MAIL (after a 421 greeting, for
        example) counts as one too.
        """
        mails: dict[str, int] = {}
        for record in self.events():
            count = mails.setdefault(record["connection"], 0)
            if record["event"] == "command" and \
                    record["text"].upper().startswith("MAIL"):
                mails[record["connection"]] = count + 1
        return sum(max(count, 1) for count in mails.values())
