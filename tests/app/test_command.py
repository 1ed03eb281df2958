"""`vhdiff app`: its options, one-line errors (no gradio, a file as --out, a bad or busy port),
and a real start: the page is served, the command prints where, Ctrl-C stops it (130)."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from vhdiff.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as info:
        main(["app", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert all(
        flag in text for flag in ("--host", "--port", "--out", "--size", "127.0.0.1", "7860")
    )


def test_a_missing_gradio_is_one_line(tmp_path):
    code = (
        "import sys; sys.modules['gradio'] = None; from vhdiff.cli import main; "
        f"sys.exit(main(['app', '--port', '0', '--out', {str(tmp_path / 'out')!r}]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert out.returncode == 2
    assert (
        out.stderr.strip()
        == "vhdiff app: error: gradio is not installed (vhdiff app): pip install 'vhdiff[app]'"
    )
    assert not (tmp_path / "out").exists()  # nothing made for an app that cannot run


def test_bad_places_are_one_line_errors(tmp_path, capsys):
    pytest.importorskip("gradio")
    taken = tmp_path / "file.txt"
    taken.write_text("mine")
    assert main(["app", "--out", str(taken), "--port", "0"]) == 2
    assert "is a file; name a folder" in capsys.readouterr().err
    assert main(["app", "--port", "70000", "--out", str(tmp_path / "a")]) == 2
    assert "--port must be between 0 and 65535" in capsys.readouterr().err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["app", "--port", str(port), "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert (
        f"cannot serve on 127.0.0.1:{port}" in err
        and "choose another --port" in err
        and "Traceback" not in err
    )
    assert taken.read_text() == "mine"


def test_the_command_serves_the_page_and_stops_on_ctrl_c(tmp_path):
    pytest.importorskip("gradio")
    from vhdiff.app.server import free_port, wait_for_page

    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    flags = ["--port", str(port), "--out", str(tmp_path / "out")]
    command = [sys.executable, "-m", "vhdiff.cli", "app", *flags]
    # as from a terminal: a test run started in the background (`cmd &`, CI) ignores SIGINT,
    # and a child inherits an ignored signal (never the parent's handler) and would never see
    # the Ctrl-C sent below; with a handler here the child starts with the default
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        wait_for_page(f"http://127.0.0.1:{port}/", alive=lambda: process.poll() is None)
        line = process.stdout.readline()  # printed once launched (the page may answer just before)
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert line.startswith(
        f"vhdiff app: serving http://127.0.0.1:{port}/ (results in {tmp_path / 'out'})"
    )
    assert "vhdiff app: interrupted" in err and "Traceback" not in err
