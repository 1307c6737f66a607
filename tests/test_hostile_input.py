"""Hostile input (issue #13): each case an audit found, as a user meets it. Whatever the input,
meshlint exits 0, 1 or 2 (2 for an internal error too), or 130 on Ctrl-C, never with a
traceback, and in time and memory that grow linearly with the input. (The `run` fixture fails
a test on any traceback.) The properties behind these cases are fuzzed in test_robustness.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

from meshlint import cli, rules


def test_a_bug_is_one_line_and_exit_code_2(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("the index is inconsistent\nsecond line")

    monkeypatch.setattr("meshlint.engine.check", broken)
    monkeypatch.delenv("MESHLINT_DEBUG", raising=False)
    assert cli.main(["check", os.devnull]) == 2
    assert capsys.readouterr().err == ("meshlint: internal error: RuntimeError: the index is inconsistent; "
                                       "please report it\n")
    monkeypatch.setenv("MESHLINT_DEBUG", "1")  # tests and bug reports see where
    assert cli.main(["check", os.devnull]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "in broken" in err


def test_a_bug_in_a_rule_is_one_line_per_rule_and_exit_code_2(monkeypatch, capsys, tmp_path, manifests):
    def broken(index, options):
        raise KeyError("spec")

    path = tmp_path / "w.yaml"
    path.write_text(manifests["warning"])
    monkeypatch.setattr("meshlint.rules.ALL", tuple(replace(r, check=broken) if r.code == "ML101" else r
                                                     for r in rules.ALL))
    monkeypatch.delenv("MESHLINT_DEBUG", raising=False)
    assert cli.main(["check", str(path), "--format", "json"]) == 2
    assert capsys.readouterr().err == ("meshlint: internal error in rule ML101 (port-protocol-unset): KeyError: "
                                       "'spec'; please report it\n")


def test_ctrl_c_anywhere_ends_quietly_with_130(monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("meshlint.engine.graph", interrupted)
    assert cli.main(["graph", os.devnull]) == 130
    assert capsys.readouterr() == ("", "")


def test_ctrl_c_while_reading_ends_quietly_with_130(tmp_path):
    fifo = tmp_path / "manifests.yaml"
    os.mkfifo(fifo)
    proc = subprocess.Popen([sys.executable, "-m", "meshlint", "check", str(fifo)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while True:  # the writer's end opens once meshlint has opened the FIFO to read it
        try:
            writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
    try:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        os.close(writer)
    assert proc.returncode == 130 and out == b"" and err == b""
