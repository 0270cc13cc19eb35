"""The admin API's Server service and ferryctl's shared behaviour: status,
drain, reload, the socket's permissions, TCP with client certificates,
and ferryctl's exit codes and help.
"""

import json
import os
import socket
import stat
import subprocess

import pytest

from ferry_config import relay_config
from processes import free_port, wait_until
from relay_checks import make_message
from smtp_wire import send_message


def test_status_reports_the_running_relay(relay, ferryctl):
    status = ferryctl(relay.ferryd, "status", json_output=True).json()
    assert status["pid"] == relay.ferryd.pid
    assert status["smtp_listen"] == [f"127.0.0.1:{relay.port}"]
    assert status["workers"] == 1
    assert status["draining"] is False
    assert status["spool_dir"] == relay.ferryd.spool_dir
    assert status["config_file"] == relay.ferryd.config_path
    assert int(status["spool_total_bytes"]) >= int(status["spool_free_bytes"])
    assert int(status["spool_free_bytes"]) > 0

    text = ferryctl(relay.ferryd, "status").stdout
    assert "pid:" in text
    assert str(relay.ferryd.pid) in text
    assert "accepting:" in text
    assert "yes" in text


def test_socket_is_private(relay):
    path = relay.ferryd.admin_socket
    info = os.stat(path)
    assert stat.S_ISSOCK(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert relay.ferryd.log_lines_with(f"admin=unix:{path}")


def test_drain_refuses_new_sessions_and_keeps_delivering(
        ferryd, upstream, spool_dir, ferryctl):
    next_hop = upstream(start=False)
    listen = free_port()
    relay = ferryd(relay_config(listen, spool_dir,
                                {"example.net": [next_hop.port]}))
    reply = send_message(listen, "alice@example.com", ["bob@example.net"],
                         make_message("queued before the drain"))
    assert reply.code == 250, reply

    first = ferryctl(relay, "drain", json_output=True).json()
    assert first["changed"] is True
    again = ferryctl(relay, "drain").stdout
    assert "already draining" in again
    wait_until(lambda: relay.log_lines_with("event=draining"), 10,
               message="the workers' drain log line")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", listen), timeout=5).close()
    assert ferryctl(relay, "status", json_output=True).json()["draining"]

    assert ferryctl(relay, "status", json_output=True).json()[
        "queued_messages"] == "1"
    next_hop.start()  # queued mail still leaves
    next_hop.wait_for_messages(1)


def test_reload_applies_the_file(ferryd, upstream, spool_dir, ferryctl):
    old_hop = upstream(start=False)
    new_hop = upstream()
    listen = free_port()
    relay = ferryd(relay_config(listen, spool_dir,
                                {"example.net": [old_hop.port]}))
    reply = send_message(listen, "alice@example.com", ["bob@example.net"],
                         make_message("moved by reload"))
    assert reply.code == 250, reply
    text = relay_config(listen, spool_dir, {"example.net": [new_hop.port]})
    text += f'\nadmin {{ socket: "{relay.admin_socket}" }}\n'
    with open(relay.config_path, "w") as file:
        file.write(text)
    result = ferryctl(relay, "reload", json_output=True).json()
    assert any(line.startswith("routes") for line in result["applied"])
    new_hop.wait_for_messages(1)


def test_reload_of_an_invalid_file_names_the_problem(relay, ferryctl):
    with open(relay.ferryd.config_path, "a") as file:
        file.write('\nroute { domain: "" }\n')
    result = ferryctl(relay.ferryd, "reload", check=False)
    assert result.returncode == 1
    assert "domain" in result.stderr
    assert "not applied" in result.stderr


def test_second_ferryd_on_the_same_socket_is_refused(relay, ferryd,
                                                     tmp_path):
    other = ferryd(relay_config(free_port(), str(tmp_path / "spool2"),
                                {"example.net": [relay.upstream.port]}) +
                   f'admin {{ socket: "{relay.ferryd.admin_socket}" }}\n',
                   start=False)
    process = subprocess.run(other.argv(), capture_output=True, text=True,
                             timeout=30)
    assert process.returncode == 1
    assert "another process" in process.stderr
    assert relay.ferryd.admin_socket in process.stderr


def test_stale_socket_is_replaced(ferryd, upstream, spool_dir, tmp_path,
                                  ferryctl):
    path = str(tmp_path / "run" / "admin.sock")
    os.makedirs(os.path.dirname(path))
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)
    stale.close()  # the file stays; nothing listens
    relay = ferryd(relay_config(free_port(), spool_dir,
                                {"example.net": [upstream().port]}) +
                   f'admin {{ socket: "{path}" }}\n')
    assert ferryctl(relay, "status", json_output=True).json()["pid"] == \
        relay.pid


def test_unreachable_and_usage_errors(ferryctl, tmp_path, relay):
    result = subprocess.run(
        [ferryctl.binary, f"--socket={tmp_path}/none.sock", "status"],
        capture_output=True, text=True, timeout=30)
    assert result.returncode == 3
    assert "no admin socket" in result.stderr
    assert f"{tmp_path}/none.sock" in result.stderr

    result = ferryctl(relay.ferryd, "status", "--bogus", check=False)
    assert result.returncode == 2
    assert "--bogus" in result.stderr
    result = ferryctl(relay.ferryd, "frobnicate", check=False)
    assert result.returncode == 2
    assert "unknown command" in result.stderr
    result = subprocess.run([ferryctl.binary], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 2
    assert "COMMANDS" in result.stdout


def test_global_option_errors(ferryctl, tmp_path, relay):
    def run(*args, env=None):
        return subprocess.run([ferryctl.binary, *args], capture_output=True,
                              text=True, timeout=30, env=env)

    for option in ("--socket=", "--config=", "--timeout="):
        result = run(option, "status")
        assert result.returncode == 2, option
        assert f"{option[:-1]} is empty" in result.stderr

    result = run(f"--socket={relay.ferryd.admin_socket}", "--timeout=0s",
                 "status")
    assert result.returncode == 2
    assert "--timeout=0s leaves no time for an answer" in result.stderr

    # --config on the command line wins over $FERRY_ADMIN_SOCKET.
    config = tmp_path / "ctl.textproto"
    config.write_text(
        f'admin {{ socket: "{relay.ferryd.admin_socket}" }}\n')
    env = dict(os.environ, FERRY_ADMIN_SOCKET=str(tmp_path / "none.sock"))
    result = run(f"--config={config}", "--json", "status", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pid"] == relay.ferryd.pid
    result = run("status", env=env)
    assert result.returncode == 3
    assert f"{tmp_path}/none.sock" in result.stderr

    # Missing or unreadable TLS files are command-line errors.
    result = run("--server=127.0.0.1:1", "status")
    assert result.returncode == 2
    assert "--tls-ca is missing" in result.stderr
    result = run("--server=127.0.0.1:1", f"--tls-ca={tmp_path}/none.pem",
                 f"--tls-cert={tmp_path}/none.pem",
                 f"--tls-key={tmp_path}/none.key", "status")
    assert result.returncode == 2
    assert f"--tls-ca: cannot read {tmp_path}/none.pem" in result.stderr


@pytest.mark.parametrize("command", ["status", "drain", "reload"])
def test_every_command_has_help(ferryctl, command):
    result = subprocess.run([ferryctl.binary, command, "--help"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert result.stdout.startswith(f"Usage: ferryctl [GLOBAL OPTIONS] "
                                    f"{command}")


def make_certificates(directory) -> dict:
    """A CA, a server certificate for 127.0.0.1, a client certificate from
    the same CA, and one from another CA."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True,
                       cwd=directory, timeout=60)

    files = {}
    for ca in ("ca", "otherca"):
        run("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", f"/CN=ferry test {ca}", "-keyout", f"{ca}.key",
            "-out", f"{ca}.pem")
    for name, ca, extension in (
            ("server", "ca", "subjectAltName=IP:127.0.0.1"),
            ("client", "ca", "extendedKeyUsage=clientAuth"),
            ("stranger", "otherca", "extendedKeyUsage=clientAuth")):
        run("req", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
            f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.csr")
        with open(os.path.join(directory, f"{name}.ext"), "w") as file:
            file.write(extension + "\n")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem",
            "-CAkey", f"{ca}.key", "-CAcreateserial", "-days", "2",
            "-extfile", f"{name}.ext", "-out", f"{name}.pem")
    for name in ("ca", "server", "client", "stranger"):
        files[name] = os.path.join(directory, f"{name}.pem")
        files[name + "_key"] = os.path.join(directory, f"{name}.key")
    return files


def test_tcp_needs_a_client_certificate(ferryd, upstream, spool_dir,
                                        tmp_path, ferryctl):
    certs = make_certificates(str(tmp_path))
    admin_port = free_port()
    relay = ferryd(
        relay_config(free_port(), spool_dir,
                     {"example.net": [upstream().port]}) +
        f'admin {{ socket: "{tmp_path}/admin.sock" '
        f'tcp_listen: "127.0.0.1:{admin_port}" '
        f'tls_cert_file: "{certs["server"]}" '
        f'tls_key_file: "{certs["server_key"]}" '
        f'tls_client_ca_file: "{certs["ca"]}" }}\n')
    base = [ferryctl.binary, f"--server=127.0.0.1:{admin_port}",
            f"--tls-ca={certs['ca']}", "--timeout=5s"]

    def status(cert: str, key: str):
        return subprocess.run(
            [*base, f"--tls-cert={cert}", f"--tls-key={key}", "--json",
             "status"], capture_output=True, text=True, timeout=60)

    good = status(certs["client"], certs["client_key"])
    assert good.returncode == 0, good.stderr
    assert f'"pid":{relay.pid}' in good.stdout

    stranger = status(certs["stranger"], certs["stranger_key"])
    assert stranger.returncode != 0

    # Without a client certificate ferryctl refuses before connecting, as
    # a command-line error.
    result = subprocess.run([*base, "status"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "--tls-cert" in result.stderr

    # A TLS client without a certificate: ferryd ends the handshake (with
    # TLS 1.3 the client learns it only at its first read).
    subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{admin_port}",
         "-CAfile", certs["ca"], "-alpn", "h2"],
        input="", capture_output=True, text=True, timeout=60)
    wait_until(lambda: relay.log_lines_with(
        "peer did not return a certificate"), 10,
        message="ferryd's refusal of a client without a certificate")
    assert relay.log_lines_with("certificate verify failed")


def test_tcp_without_tls_files_is_a_config_error(ferryd, spool_dir,
                                                 tmp_path):
    relay = ferryd(relay_config(free_port(), spool_dir, {}) +
                   f'admin {{ socket: "{tmp_path}/a.sock" '
                   f'tcp_listen: "127.0.0.1:{free_port()}" }}\n',
                   start=False)
    process = subprocess.run(relay.argv(), capture_output=True, text=True,
                             timeout=30)
    assert process.returncode == 1
    assert "admin.tls_cert_file" in process.stderr
    assert "client certificates" in process.stderr


def test_reload_names_settings_that_need_a_restart(relay, ferryctl):
    with open(relay.ferryd.config_path, "a") as file:
        file.write("\nlimits { max_recipients: 7 }\n")
    result = ferryctl(relay.ferryd, "reload", json_output=True).json()
    [line] = result["needs_restart"]
    assert "limits.max_recipients" in line
    assert "7" in line
    text = ferryctl(relay.ferryd, "reload").stdout
    assert "needs a restart: " in text
