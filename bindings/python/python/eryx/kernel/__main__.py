"""``python -m eryx.kernel``: run the kernel (``-f CONNECTION_FILE``, as a
kernelspec's argv does) or ``install`` its kernelspec.

    python -m eryx.kernel install [--user | --sys-prefix | --prefix P] [--name N]
        [--display-name D] [--timeout S] [--max-memory MIB] [--max-output MIB] [--with PKG ...]
        [--allow-host PATTERN ...]
    python -m eryx.kernel -f CONNECTION_FILE [--timeout S] [--max-memory MIB] ...
"""

import argparse
import sys

from ._config import add_limit_options, limits_from


def _run(argv):
    parser = argparse.ArgumentParser(prog="python -m eryx.kernel", add_help=False)
    add_limit_options(parser)
    args, rest = parser.parse_known_args(argv)
    try:
        limits = limits_from(args)
    except ValueError as e:
        parser.error(str(e))
    from ipykernel.kernelapp import IPKernelApp

    from ._kernel import EryxKernel

    import eryx

    EryxKernel.limits = limits
    try:
        IPKernelApp.launch_instance(argv=rest, kernel_class=EryxKernel)
    except eryx.SetupError as e:  # a bad --with or --allow-host
        print("eryx kernel: cannot make the sandbox: %s" % e.message, file=sys.__stderr__)
        return 1
    return 0


def _install(argv):
    parser = argparse.ArgumentParser(
        prog="python -m eryx.kernel install",
        description="Write the eryx kernelspec (jupyter kernelspec list shows it).",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="for this user (~/.local/share/jupyter)")
    where.add_argument("--sys-prefix", action="store_true", help="in this Python's prefix (a venv)")
    where.add_argument("--prefix", metavar="P", help="under prefix P")
    parser.add_argument("--name", default="eryx", help="kernel name (default: eryx)")
    parser.add_argument("--display-name", metavar="D", help="name shown in Jupyter")
    add_limit_options(parser)
    args = parser.parse_args(argv)
    from ._install import install

    path = install(
        user=args.user,
        prefix=sys.prefix if args.sys_prefix else args.prefix,
        name=args.name,
        display_name=args.display_name,
        timeout=args.timeout,
        max_memory=args.max_memory,
        max_output=args.max_output,
        requirements=args.requirements,
        allow_hosts=args.allow_hosts,
    )
    print("Installed kernelspec %s in %s" % (args.name, path))
    return 0


def main(argv=None):
    """Dispatch ``install`` or run the kernel."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["install"]:
        return _install(argv[1:])
    return _run(argv)


if __name__ == "__main__":
    sys.exit(main())
