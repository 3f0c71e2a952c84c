"""``netcfg serve`` on the command line: options, the extra, and a real server process that
drains on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from serving_helpers import free_port

from netcfg.cli import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_without_the_extra_the_command_names_it(capsys, monkeypatch, trained):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn fails
    code, _, err = run(capsys, "serve", trained["user"])
    assert code == 2
    assert "pip install 'netcfg[serve]'" in err and "Traceback" not in err


def test_serve_is_a_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "serve" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "nameonly"], "--model nameonly: give NAME=MODEL"),
        (["--model", "bad name=runs/x"], "the name 'bad name' must be letters"),
        (["RUN", "--model", "default=RUN"], "the name 'default' is given twice"),
        (["RUN", "--token-file", "missing.txt"], "--token-file missing.txt: cannot read"),
        (["RUN", "--token-file", "EMPTY"], "the file is empty"),
        (["NOWHERE"], "not a run directory (no run.json)"),
        (["RUN", "--model", "b=zoo:no-such-model"], "no trained model 'no-such-model'"),
    ],
)
def test_bad_options_exit_2(capsys, tmp_path, trained, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NETCFG_ZOO", str(tmp_path / "zoo"))
    (tmp_path / "EMPTY").write_text("\n")
    swap = {"RUN": str(trained["user"]), "NOWHERE": str(tmp_path / "nowhere")}
    argv = [swap.get(a, a.replace("RUN", str(trained["user"]))) for a in argv]
    code, _, err = run(capsys, "serve", *argv, "--port", free_port())
    assert code == 2, err
    assert message in err and "internal error" not in err


def test_no_model_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["serve"])
    assert stop.value.code == 2
    assert "give the MODEL to serve" in capsys.readouterr().err


def test_a_taken_port_exits_2(capsys, trained):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run(capsys, "serve", trained["user"], "--port", port)
    assert code == 2 and f"--port {port}: cannot listen there" in err


def _start(argv: list, tmp_path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "NETCFG_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "netcfg", "serve", *map(str, argv), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    return process, port


def _wait_until_up(process, port, headers) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", headers=headers).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the server did not start")


def test_the_server_process_serves_then_drains_on_sigterm(tmp_path, trained):
    (tmp_path / "token").write_text("s3cret-token\n")
    argv = [trained["user"], "--model", f"items={trained['item']}", "--token-file", "token"]
    process, port = _start(argv, tmp_path)
    auth = {"Authorization": "Bearer s3cret-token"}
    try:
        _wait_until_up(process, port, auth)
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/health").status_code == 401
        models = httpx.get(f"{url}/models", headers=auth).json()
        assert [m["name"] for m in models["models"]] == ["default", "items"]
        # a request in flight: its body half sent when SIGTERM arrives
        body = b'{"user": 1, "k": 3, "exclude_seen": true}'
        with socket.create_connection(("127.0.0.1", port)) as sock:
            head = (
                "POST /recommend HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                f"Authorization: Bearer s3cret-token\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            sock.sendall(head.encode() + body[:10])
            time.sleep(0.5)
            process.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            assert process.poll() is None  # waiting for the request in flight
            with pytest.raises(httpx.TransportError):  # no new connections
                httpx.get(f"{url}/health", headers=auth, timeout=2)
            sock.sendall(body[10:])
            answer = sock.makefile("rb").read()
        assert answer.startswith(b"HTTP/1.1 200"), answer
        assert b'"items":[' in answer and b'"user":1' in answer
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "netcfg: model 'default'" in err and "netcfg: model 'items'" in err
    assert "a bearer token is required" in err and "Traceback" not in err


@pytest.mark.slow
def test_several_workers_serve_the_same_answers(tmp_path, trained):
    process, port = _start([trained["user"], "--workers", "2"], tmp_path)
    try:
        _wait_until_up(process, port, {})
        url = f"http://127.0.0.1:{port}"
        answers = [
            httpx.post(f"{url}/recommend", json={"user": 2, "k": 4}).json() for _ in range(6)
        ]
        assert all(a == answers[0] for a in answers) and len(answers[0]["items"]) == 4
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "2 worker(s)" in err and "Traceback" not in err
