"""Writing the eryx kernelspec (``kernel.json``) with jupyter_client's
``KernelSpecManager``: argv runs ``python -m eryx.kernel -f
{connection_file}`` with this interpreter, plus the limits given here (the
others come from ``ERYX_KERNEL_*`` variables or the defaults at start)."""

import json
import os
import sys
import tempfile


def kernel_json(*, display_name=None, timeout=None, max_memory=None, max_output=None, requirements=None,
                allow_hosts=None):
    """The kernelspec's ``kernel.json`` as a dict."""
    argv = [sys.executable, "-m", "eryx.kernel", "-f", "{connection_file}"]
    for flag, value in (("--timeout", timeout), ("--max-memory", max_memory), ("--max-output", max_output)):
        if value is not None:
            argv += [flag, "%g" % value]
    for req in requirements or ():
        argv += ["--with", req]
    for host in allow_hosts or ():
        argv += ["--allow-host", host]
    return {
        "argv": argv,
        "display_name": display_name or "Python 3.14 (eryx sandbox)",
        "language": "python",
        "interrupt_mode": "signal",
        "metadata": {"debugger": False},
    }


def install(*, user=False, prefix=None, name="eryx", display_name=None, **limits):
    """Install the kernelspec ``name``; returns the directory written.
    ``limits``: ``timeout`` (s), ``max_memory``/``max_output`` (MiB),
    ``requirements`` (packages by name), ``allow_hosts`` (host patterns)."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = kernel_json(display_name=display_name, **limits)
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "kernel.json"), "w", encoding="utf-8") as f:
            json.dump(spec, f, indent=1)
        return KernelSpecManager().install_kernel_spec(tmp, name, user=user, prefix=prefix)
