"""Runs ferryctl against a ferryd under test and parses its output."""

import dataclasses
import json
import subprocess


@dataclasses.dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self):
        """The single JSON object that --json printed."""
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        assert len(lines) == 1, f"expected one JSON line, got {self.stdout!r}"
        return json.loads(lines[0])

    def json_lines(self) -> list:
        return [json.loads(line) for line in self.stdout.splitlines()
                if line.strip()]


class Ferryctl:
    def __init__(self, binary: str):
        self.binary = binary

    def argv(self, relay, *args: str, json_output: bool = False) -> list:
        socket = relay.admin_socket if relay is not None else None
        argv = [self.binary]
        if socket:
            argv.append(f"--socket={socket}")
        if json_output:
            argv.append("--json")
        return argv + list(args)

    def __call__(self, relay, *args: str, json_output: bool = False,
                 check: bool = True, timeout: float = 30) -> Result:
        """Runs `ferryctl --socket=<relay's> [--json] ARGS`. With check,
        fails the test unless the exit status is 0."""
        process = subprocess.run(self.argv(relay, *args,
                                           json_output=json_output),
                                 capture_output=True, text=True,
                                 timeout=timeout)
        result = Result(process.returncode, process.stdout, process.stderr)
        if check:
            assert result.returncode == 0, (
                f"ferryctl {' '.join(args)} exited {result.returncode}: "
                f"{result.stderr.strip()}")
        return result

    def popen(self, relay, *args: str, json_output: bool = False):
        """Starts a long-running ferryctl (a watch); the caller stops it."""
        return subprocess.Popen(self.argv(relay, *args,
                                          json_output=json_output),
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
