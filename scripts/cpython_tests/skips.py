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

_FIXED_AFTER_3140 = "build", "crashes CPython 3.14.0 (use-after-free fixed in a later 3.14.x); the embedded interpreter is 3.14.0"

SKIPS = {
    "test_itertools.TestBasicOps.test_*_reentrant_eq_does_not_crash": _FIXED_AFTER_3140,
    "test_json.test_speedups.TestEncode.test_mutate_dict_items_during_encode": _FIXED_AFTER_3140,
    "test_typing.GenericTests.test_parameter_added_after_parameters_cached": _FIXED_AFTER_3140,
    "test_typing.GenericTests.test_parameters_deep_recursion": _FIXED_AFTER_3140,
    "test_typing.GetTypeHintsTests.test_get_type_hints_wrapped_cycle_mutual": _FIXED_AFTER_3140,
}
