"""Rich results through the Python package: Execution.displays (a PNG made
by pure Python, decoded back here), Execution.result (the last
expression), HTML from _repr_html_, the cut of a 20 MiB display."""

import sys
from pathlib import Path

import pytest

import eryx

FIXTURES = Path(__file__).resolve().parents[3] / "host" / "tests" / "fixtures" / "display"
SETUP = "import sys\nsys.path.insert(0, '/fixtures')\nfrom pngmaker import png"
sys.path.insert(0, str(FIXTURES))
from pngread import png_size  # noqa: E402


@pytest.fixture
def sb():
    with eryx.Sandbox(mounts=[(str(FIXTURES), "/fixtures")]) as sandbox:
        assert sandbox.execute(SETUP).ok
        yield sandbox


def test_png_display_arrives_as_bytes(sb):
    run = sb.execute("from IPython.display import display, Image\ndisplay(Image(png(40, 30)))")
    assert run.ok, run.error
    assert len(run.displays) == 1
    assert png_size(run.displays[0]["image/png"]) == (40, 30)
    assert run.result is None
    assert run.to_dict()["outputs"][0]["type"] == "display"


def test_last_expression_is_the_result(sb):
    run = sb.execute("1 + 1")
    assert run.result == {"text/plain": "2"}
    assert run.stdout == ""
    assert sb.execute("x = 1").result is None
    assert sb.execute("print(x)").result is None


def test_repr_html_gives_text_html(sb):
    run = sb.execute("class T:\n    def _repr_html_(self):\n        return '<table></table>'\nT()")
    assert run.result["text/html"] == "<table></table>"
    assert "text/plain" in run.result


def test_a_20_mib_display_is_cut_with_a_marker(sb):
    run = sb.execute("from eryx import display\ndisplay({'image/png': bytes(20 << 20)}, raw=True)")
    assert run.ok, run.error
    (item,) = run.displays
    assert "image/png" not in item
    assert item["text/plain"].startswith("[eryx: display cut: image/png (20971520 bytes)")
    assert run.to_dict()["outputs"][0]["truncated_bytes"] == 20 << 20


def test_on_display_is_live_and_in_order_with_output():
    events = []
    with eryx.Sandbox(
        on_output=lambda stream, text: events.append((stream, text)),
        on_display=lambda kind, bundle: events.append((kind, bundle)),
    ) as sb:
        run = sb.execute(
            "from eryx import display\nprint('a')\ndisplay({'image/png': b'\\x89PNG'}, raw=True)\nprint('b')\n7"
        )
    assert events == [
        ("stdout", "a\n"),
        ("display", {"image/png": b"\x89PNG"}),
        ("stdout", "b\n"),
        ("result", {"text/plain": "7"}),
    ]
    assert run.displays == [{"image/png": b"\x89PNG"}]  # also in the Execution


def test_on_display_must_be_callable_and_its_errors_are_unraisable(monkeypatch):
    with pytest.raises(TypeError, match="on_display must be a callable"):
        eryx.Sandbox(on_display=3)
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_value))

    def broken(kind, bundle):
        raise RuntimeError("boom")

    with eryx.Sandbox(on_display=broken) as sb:
        run = sb.execute("from eryx import display\ndisplay({'text/plain': 'x'}, raw=True)\nprint('ok')")
    assert run.stdout == "ok\n"
    assert [str(e) for e in seen] == ["boom"]
