"""The eryx kernel's limits: read from the kernel's command line (the
kernelspec's argv) and from ``ERYX_KERNEL_*`` environment variables, and
turned into ``eryx.Sandbox`` arguments.

A command-line option wins over its environment variable; both win over
the default:

=================  ==========================  ========================
option             environment variable        default
=================  ==========================  ========================
``--timeout S``    ``ERYX_KERNEL_TIMEOUT``     60 (seconds per cell; 0 = none)
``--max-memory M`` ``ERYX_KERNEL_MAX_MEMORY``  256 (MiB of guest memory)
``--max-output M`` ``ERYX_KERNEL_MAX_OUTPUT``  32 (MiB written per cell)
``--with PKG``     ``ERYX_KERNEL_WITH``        none (packages by name,
                                               space- or comma-separated)
``--allow-host H`` ``ERYX_KERNEL_ALLOW_HOSTS`` none: no network (host
                                               patterns, as ``allow_hosts=``)
=================  ==========================  ========================
"""

import argparse
import os
from dataclasses import dataclass, field
from typing import List, Optional

MIB = 1 << 20
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_MEMORY_MIB = 256
DEFAULT_MAX_OUTPUT_MIB = 32


@dataclass
class Limits:
    """What one kernel's sandbox may use. ``None`` means no limit."""

    timeout: Optional[float] = DEFAULT_TIMEOUT
    max_memory_mib: Optional[int] = DEFAULT_MAX_MEMORY_MIB
    max_output_mib: Optional[int] = DEFAULT_MAX_OUTPUT_MIB
    requirements: List[str] = field(default_factory=list)
    allow_hosts: List[str] = field(default_factory=list)

    def sandbox_kwargs(self):
        """Keyword arguments for ``eryx.Sandbox`` (without ``on_output``)."""
        return {
            "timeout": self.timeout,
            "max_memory": None if self.max_memory_mib is None else self.max_memory_mib * MIB,
            "max_output": None if self.max_output_mib is None else self.max_output_mib * MIB,
            "requirements": list(self.requirements) or None,
            "allow_hosts": list(self.allow_hosts) or None,
            "progress": False,
        }

    def describe(self):
        """One line for people (the kernel's banner)."""
        parts = [
            "timeout %s per cell" % ("none" if self.timeout is None else "%g s" % self.timeout),
            "memory %s" % ("unlimited" if self.max_memory_mib is None else "%d MiB" % self.max_memory_mib),
            "output %s per cell"
            % ("unlimited" if self.max_output_mib is None else "%d MiB" % self.max_output_mib),
            "network: " + ", ".join(self.allow_hosts) if self.allow_hosts else "no network",
        ]
        if self.requirements:
            parts.append("packages: " + ", ".join(self.requirements))
        return "; ".join(parts)


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError("%r is not a number" % text) from None
        if value < 0:
            raise argparse.ArgumentTypeError("%r is negative (0 means no limit)" % text)
        return value

    return parse


def add_limit_options(parser):
    """Add ``--timeout``, ``--max-memory``, ``--max-output``, ``--with`` and
    ``--allow-host``."""
    parser.add_argument("--timeout", type=_positive(float), metavar="S",
                        help="seconds per cell, 0 = none (ERYX_KERNEL_TIMEOUT; default %g)" % DEFAULT_TIMEOUT)
    parser.add_argument("--max-memory", type=_positive(int), metavar="MIB",
                        help="guest memory in MiB, 0 = none (ERYX_KERNEL_MAX_MEMORY; default %d)"
                        % DEFAULT_MAX_MEMORY_MIB)
    parser.add_argument("--max-output", type=_positive(int), metavar="MIB",
                        help="output per cell in MiB, 0 = none (ERYX_KERNEL_MAX_OUTPUT; default %d)"
                        % DEFAULT_MAX_OUTPUT_MIB)
    parser.add_argument("--with", dest="requirements", action="append", metavar="PKG",
                        help="a package by name for the sandbox, repeatable (ERYX_KERNEL_WITH)")
    parser.add_argument("--allow-host", dest="allow_hosts", action="append", metavar="PATTERN",
                        help="let cells connect to hosts matching PATTERN[:PORT], repeatable "
                        "(ERYX_KERNEL_ALLOW_HOSTS; default: no network)")


def limits_from(args, environ=None):
    """The ``Limits`` of parsed options ``args`` over ``environ`` (default
    ``os.environ``). Raises ``ValueError`` naming a bad variable."""
    env = os.environ if environ is None else environ

    def pick(value, var, kind, default):
        if value is None and env.get(var, "").strip():
            try:
                value = kind(env[var])
            except ValueError:
                raise ValueError("%s=%r is not a number" % (var, env[var])) from None
            if value < 0:
                raise ValueError("%s=%r is negative (0 means no limit)" % (var, env[var]))
        if value is None:
            value = default
        return None if value == 0 else value

    def words(value, var):
        if value is None:
            value = env.get(var, "").replace(",", " ").split()
        return list(value)

    return Limits(
        timeout=pick(args.timeout, "ERYX_KERNEL_TIMEOUT", float, DEFAULT_TIMEOUT),
        max_memory_mib=pick(args.max_memory, "ERYX_KERNEL_MAX_MEMORY", int, DEFAULT_MAX_MEMORY_MIB),
        max_output_mib=pick(args.max_output, "ERYX_KERNEL_MAX_OUTPUT", int, DEFAULT_MAX_OUTPUT_MIB),
        requirements=words(args.requirements, "ERYX_KERNEL_WITH"),
        allow_hosts=words(args.allow_hosts, "ERYX_KERNEL_ALLOW_HOSTS"),
    )
