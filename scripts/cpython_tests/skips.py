"""Tests scripts/cpython-tests.sh skips, each with its class and reason.

Keys are fnmatch patterns over test ids without the leading ``test.``
(``test_os.FileTests.test_write``). Classes:

- ``wasi``: a limit of the WASI platform (no threads, subprocesses,
  signals, sockets, users/groups, ...), skipped as CPython's own WASI
  buildbots do;
- ``build``: a limit of the CPython-for-WASI build the sandbox embeds
  (componentize-py's 3.14.0, run against the 3.14.x test suite);
- ``sandbox``: a deliberate limit of the eryx sandbox.

Every entry is listed in README.md ("CPython's regression suite").
"""

# The embedded interpreter is componentize-py 0.25.1's CPython 3.14.0;
# Debian sid carries the 3.14.x test suite, whose regression tests expect
# fixes made after 3.14.0.
CRASH = "build", "crashes CPython 3.14.0 (a use-after-free fixed in a later 3.14.x)"
NO_GUARD = "build", (
    "CPython 3.14.0 has no recursion guard here (added in a later 3.14.x): its C "
    "recursion runs past the shadow stack and the sandbox traps"
)
HANGS = "build", "loops forever on CPython 3.14.0 (cycle detection added in a later 3.14.x)"
VERSION = "build", "expects a fix or change made after 3.14.0"
NO_LOCALE = "wasi", "WASI has no locales"

SKIPS = {
    # Break the interpreter (found with the sandbox: trap, then recovery).
    "test_itertools.TestBasicOps.test_*_reentrant_eq_does_not_crash": CRASH,
    "test_json.test_speedups.TestEncode.test_mutate_dict_items_during_encode": CRASH,
    "test_typing.GenericTests.test_parameter_added_after_parameters_cached": CRASH,
    "test_typing.GenericTests.test_parameters_deep_recursion": NO_GUARD,
    "test_typing.GetTypeHintsTests.test_get_type_hints_wrapped_cycle_*": HANGS,
    # Fail on 3.14.0 (classified from the test and its failure message).
}
