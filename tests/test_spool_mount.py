"""ferryd warns when the spool's file system is mounted with discard."""

import subprocess

from ferry_config import relay_config
from processes import free_port, wait_until


def mount_options(path: str) -> list[str]:
    """Return the options of the mount that contains `path`, from findmnt."""
    result = subprocess.run(["findmnt", "-n", "-o", "OPTIONS", "-T", path],
                            capture_output=True, text=True, check=True,
                            timeout=30)
    return result.stdout.strip().split(",")


def test_discard_warning_matches_findmnt(ferryd, tmp_path):
    spool = tmp_path / "spool"
    relay = ferryd(relay_config(free_port(), str(spool), {}))
    wait_until(lambda: relay.log_lines_with("event=started"), 10,
               message="ferryd started")
    warnings = relay.log_lines_with("event=spool_mount_discard")
    if "discard" in mount_options(str(spool)):
        [warning] = warnings
        assert f"spool={spool}" in warning
        assert "fstrim" in warning
    else:
        assert warnings == []
