"""``eryx.kernel``: a Jupyter kernel whose cells run in an eryx sandbox.

Install a kernelspec and use it from Jupyter, nbconvert, papermill, ...::

    pip install 'eryx[jupyter]'
    python -m eryx.kernel install --user --timeout 30 --max-memory 512
    jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=eryx demo.ipynb

The kernel itself is ``eryx.kernel._kernel.EryxKernel`` (ipykernel's
wrapper-kernel base); its limits are in ``eryx.kernel._config``. Importing
this package imports neither ipykernel nor jupyter_client.
"""

__all__ = ["install", "main"]


def install(**kwargs):
    """Write the kernelspec; see ``eryx.kernel._install.install``."""
    from ._install import install as _install

    return _install(**kwargs)


def main(argv=None):
    """The ``python -m eryx.kernel`` command line."""
    from .__main__ import main as _main

    return _main(argv)
