"""sb.files: files into and out of a real sandbox without a host mount,
the path rules and caps (hostile input), and files in snapshots."""

import os
import tempfile
from pathlib import Path

import pytest

import eryx

# The shared fixtures (tests/files): the upload, the program that reads it
# and writes /tmp/out.csv, and what it writes.
FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "files"
CSV = (FIXTURES / "in.csv").read_bytes()
DOUBLED = (FIXTURES / "out.csv").read_bytes()
DOUBLE = (FIXTURES / "double.py").read_text()


def test_a_csv_goes_in_and_the_result_comes_out(sb):
    sb.files.write("/tmp/in.csv", CSV)
    assert sb.execute(DOUBLE).stdout == "2\n"
    assert sb.files.read("/tmp/out.csv") == DOUBLED
    sb.files.write("notes/a.txt", "héllo")
    assert sb.execute("print(open('notes/a.txt').read())").stdout == "héllo\n"
    names = [(f.name, f.kind, f.size) for f in sb.files.list("/tmp")]
    assert names == [("in.csv", "file", len(CSV)), ("out.csv", "file", len(DOUBLED))]
    assert [f.path for f in sb.files.list("/", recursive=True)] == [
        "/home/user/notes/a.txt",
        "/tmp/in.csv",
        "/tmp/out.csv",
    ]
    sb.files.remove("/tmp/in.csv")
    with pytest.raises(eryx.FileError) as e:
        sb.files.read("/tmp/in.csv")
    assert e.value.kind == "not_found"
    assert e.value.path == "/tmp/in.csv"


# Host files for the hostile test live outside /tmp (a host path under /tmp
# would name the sandbox's own /tmp).
TARGET = Path(__file__).resolve().parents[3] / "target"


def test_hostile_paths_are_refused_and_touch_nothing():
    TARGET.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=TARGET) as host:
        with open(os.path.join(host, "keep.txt"), "w") as f:
            f.write("host")
        with eryx.Sandbox(mounts=[(host, "/mnt/ro")]) as sb:
            cases = [
                ("../../etc/passwd", "invalid_path"),
                ("/tmp/../etc/passwd", "invalid_path"),
                ("/etc/passwd", "not_found"),
                (os.path.join(host, "keep.txt"), "not_found"),
                ("/mnt/ro/keep.txt", "read_only"),
                ("/mnt/ro/new.txt", "read_only"),
            ]
            for path, kind in cases:
                with pytest.raises(eryx.FileError) as e:
                    sb.files.write(path, b"x")
                assert e.value.kind == kind, (path, str(e.value))
                assert isinstance(e.value, eryx.SandboxError)
            with pytest.raises(eryx.FileError) as e:
                sb.files.read("/mnt/ro/keep.txt")
            assert e.value.kind == "read_only"
            assert "host mount" in str(e.value)
            # 65 MiB: past the default 64 MiB file cap.
            with pytest.raises(eryx.FileError) as e:
                sb.files.write("/tmp/big", bytes(65 << 20))
            assert e.value.kind == "no_space"
            assert sb.files.list("/", recursive=True) == []
            with pytest.raises(TypeError):
                sb.files.write("/tmp/x", 42)
        assert os.listdir(host) == ["keep.txt"]
        assert open(os.path.join(host, "keep.txt")).read() == "host"


def test_files_are_in_snapshots(sb):
    sb.files.write("/tmp/in.csv", CSV)
    sb.execute(DOUBLE)
    state = sb.snapshot()
    with eryx.Sandbox() as other:
        other.restore(state)
        assert other.files.read("/tmp/in.csv") == CSV
        assert other.files.read("/tmp/out.csv") == DOUBLED


def test_a_closed_sandbox_refuses(sb):
    sb.close()
    with pytest.raises(eryx.SandboxError):
        sb.files.read("/tmp/x")
