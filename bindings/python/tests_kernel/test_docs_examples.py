"""The agent-framework examples in docs/jupyter.md (blocks marked
`python tested host kernel`) run here too, with scripts/docs_test.py's own
runner and output comparison, so the executors' documented code is tested
by scripts/test-kernel.sh as well as by scripts/test-docs.sh."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("docs_test", ROOT / "scripts" / "docs_test.py")
docs_test = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(docs_test)

DOC = ROOT / "docs" / "jupyter.md"
BLOCKS = docs_test.blocks(DOC)
KERNEL_BLOCKS = [
    (line, flags, code, BLOCKS[k + 1][3] if k + 1 < len(BLOCKS) and "output" in BLOCKS[k + 1][2] else None)
    for k, (line, lang, flags, code) in enumerate(BLOCKS)
    if lang == "python" and {"tested", "host", "kernel"} <= set(flags)
]


def test_the_docs_have_an_example_per_framework():
    text = "\n".join(code for _, _, code, _ in KERNEL_BLOCKS)
    for module in ("eryx.integrations.smolagents", "eryx.integrations.autogen", "eryx.integrations.langchain"):
        assert module in text


@pytest.mark.parametrize("line,flags,code,expected", KERNEL_BLOCKS, ids=["docs/jupyter.md:%d" % b[0] for b in KERNEL_BLOCKS])
def test_docs_example(line, flags, code, expected):
    status, out, err = docs_test.run("python", flags, code)
    assert status == 0, err
    assert expected is not None, "docs/jupyter.md:%d has no ```text output block after it" % line
    assert docs_test.matches(expected, out), out
