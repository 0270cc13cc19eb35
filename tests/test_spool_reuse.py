"""Spent spool segments are kept as spare files and written over.

With 1 MiB segments and 100 kB messages, a few dozen messages fill several
segments. Once their mail is delivered, the spent segment files become
`*.spare` files, and the next segments are written into those same files
(same inode). What the files held before must never come back: after
kill -9 and a restart, every message is delivered exactly once, and
recovery reports no damage.
"""

import collections
import os
import re
import time

from ferry_config import relay_config
from processes import free_port, wait_until
from relay_checks import QUIET_PERIOD, make_message
from smtp_wire import send_message

SEGMENT_SIZE = 1048576
BODY = ("x" * 998 + "\r\n") * 100  # 100 kB


def segment_inodes(worker_dir: str, suffix: str) -> dict[str, int]:
    """Map the names in `worker_dir` ending in `suffix` to their inodes."""
    return {name: os.stat(os.path.join(worker_dir, name)).st_ino
            for name in os.listdir(worker_dir) if name.endswith(suffix)}


def send_batch(port: int, prefix: str, count: int) -> None:
    for index in range(count):
        reply = send_message(port, "alice@example.com", ["bob@example.net"],
                             make_message(f"{prefix} {index}", BODY))
        assert reply.code == 250, reply


def start_relay(ferryd, next_hop, tmp_path, spare_segments: int):
    """Start ferryd with 1 MiB segments; return it and its worker dir."""
    spool = str(tmp_path / "spool")
    relay = ferryd(relay_config(free_port(), spool,
                                {"example.net": [next_hop.port]},
                                segment_size=SEGMENT_SIZE,
                                spare_segments=spare_segments))
    return relay, os.path.join(spool, "w0")


def subjects(next_hop) -> collections.Counter:
    found = collections.Counter()
    for message in next_hop.store.accepted_messages():
        match = re.search(rb"Subject: ([^\r\n]*)", message.content)
        found[match.group(1).decode()] += 1
    return found


def test_spent_segments_reused_not_recovered(ferryd, upstream, tmp_path):
    next_hop = upstream(start=False)
    relay, worker_dir = start_relay(ferryd, next_hop, tmp_path, 2)

    # About 2.4 MiB of mail, queued while the next hop is down: segments
    # 1 to 3. Once it is delivered, 1 and 2 are spent and become spares.
    send_batch(relay.port, "first", 24)
    first_files = segment_inodes(worker_dir, ".seg")
    assert len(first_files) == 3, first_files
    next_hop.start()
    next_hop.wait_for_messages(24, timeout=60)
    wait_until(lambda: len(segment_inodes(worker_dir, ".spare")) == 2, 20,
               message="two spare segment files")
    spares = segment_inodes(worker_dir, ".spare")
    assert set(spares.values()) == {first_files["0000000000000001.seg"],
                                    first_files["0000000000000002.seg"]}

    # With the next hop down again, the next mail stays queued: it fills
    # segment 3 and goes on in a spare file renamed to segment 4.
    next_hop.stop()
    send_batch(relay.port, "second", 16)
    files = segment_inodes(worker_dir, ".seg")
    assert files["0000000000000004.seg"] in set(spares.values()), files
    assert len(segment_inodes(worker_dir, ".spare")) == 1

    # The reused file still contains first mail after the new records.
    # None of it may be delivered again after kill -9 and a restart.
    relay.kill_and_restart()
    next_hop.start()
    next_hop.wait_for_messages(40, timeout=120)
    time.sleep(QUIET_PERIOD)
    counts = subjects(next_hop)
    expected = {f"first {i}" for i in range(24)} | \
        {f"second {i}" for i in range(16)}
    assert set(counts) == expected
    assert [s for s, n in counts.items() if n != 1] == []
    for event in ("record_skipped", "segment_cut", "segment_copied"):
        assert relay.log_lines_with(event) == [], event


def test_zero_spares_deletes_segments(ferryd, upstream, tmp_path):
    next_hop = upstream()
    relay, worker_dir = start_relay(ferryd, next_hop, tmp_path, 0)
    send_batch(relay.port, "only", 24)
    next_hop.wait_for_messages(24, timeout=60)
    # Segments 1 and 2 go; the current one stays.
    wait_until(lambda: len(segment_inodes(worker_dir, ".seg")) == 1, 20,
               message="spent segments deleted")
    assert segment_inodes(worker_dir, ".spare") == {}
