"""Skips for the stdlib modules eryx adds to CPython-for-WASI (docs/stdlib-natives.md):
the emulated `_ctypes` and `mmap` (guest/stdlib/). Same classes as skips.py, which
merges this table into its SKIPS.

`sandbox`: ctypes in the sandbox runs no native code by design: no libraries,
no foreign calls or callbacks, no reading the interpreter's own C data.
`ours`: a gap of the pure-Python emulations, to fix (or a limit of being pure
Python, which each reason names).
"""

NO_NATIVE = "sandbox", (
    "calls or reads native code (foreign functions, callbacks, the interpreter's C "
    "symbols); the sandbox's ctypes refuses that by design"
)
TYPE_FLAGS = "ours", (
    "the emulated _ctypes is pure Python: its classes cannot carry "
    "Py_TPFLAGS_IMMUTABLETYPE / DISALLOW_INSTANTIATION nor fail like C slots do"
)
KEEPALIVE = "ours", (
    "the emulated _ctypes keeps referenced objects in _objects under other keys "
    "than CPython's C implementation (the memory is Python-owned, so nothing is freed early)"
)
CT_GAP = "ours", "a behaviour of CPython's _ctypes the emulation (guest/stdlib/_ctypes.py) lacks"
NO_DUP = "ours", (
    "the emulated mmap keeps the caller's file descriptor (WASI has no dup()), so it "
    "cannot use the file after the caller closed it"
)
MM_GAP = "ours", "a behaviour of CPython's mmap the emulation (guest/stdlib/mmap.py) lacks"

NATIVES = {
    # ctypes: native code, by design.
    "test_ctypes.test_python_api.PythonAPITestCase.test_PyBytes_FromStringAndSize": NO_NATIVE,
    "test_ctypes.test_python_api.PythonAPITestCase.test_PyLong_Long": NO_NATIVE,
    "test_ctypes.test_python_api.PythonAPITestCase.test_PyOS_snprintf": NO_NATIVE,
    "test_ctypes.test_python_api.PythonAPITestCase.test_PyObj_FromPtr": NO_NATIVE,
    "test_ctypes.test_python_api.PythonAPITestCase.test_PyString_FromString": NO_NATIVE,
    "test_ctypes.test_random_things.CallbackTracbackTestCase.*": NO_NATIVE,
    "test_ctypes.test_values.PythonValuesTestCase.test_frozentable": NO_NATIVE,
    "test_ctypes.test_values.PythonValuesTestCase.test_optimizeflag": NO_NATIVE,
    "test_ctypes.test_simplesubclasses.Test.test_ignore_retval": NO_NATIVE,
    "test_ctypes.test_simplesubclasses.Test.test_int_callback": NO_NATIVE,
    "test_ctypes.test_numbers.NumberTestCase.test_*_from_address": (
        "sandbox", "reads memory at the address of a Python object; the sandbox's ctypes "
        "only maps memory it allocated itself"
    ),
    "test_ctypes.test_memfunctions.MemFunctionsTest.test_memoryview_at": (
        "sandbox", "reads memory at arbitrary (foreign) addresses"
    ),
    "unittest.loader._FailedTest.test.test_ctypes.test_win*": (
        "wasi", "Windows-only (wintypes, COM); the module does not import off Windows"
    ),
    # ctypes: the emulation's limits and gaps.
    "test_ctypes.*.test_type_flags": TYPE_FLAGS,
    "test_ctypes.*.test_metaclass_details": TYPE_FLAGS,
    "test_ctypes.test_struct_fields.StructFieldsTestCase.test_cfield_type_flags": TYPE_FLAGS,
    "test_ctypes.test_struct_fields.*.test_gh99275": TYPE_FLAGS,
    "test_ctypes.test_structunion.*.test_abstract_class": TYPE_FLAGS,
    "test_ctypes.test_frombuffer.Test.test_abstract": TYPE_FLAGS,
    "test_ctypes.test_arrays.ArrayTestCase.test_bad_subclass": TYPE_FLAGS,
    "test_ctypes.test_byteswap.Test.test_slots": TYPE_FLAGS,
    "test_ctypes.test_internals.ObjectsTestCase.test_c_char_p": KEEPALIVE,
    "test_ctypes.test_internals.ObjectsTestCase.test_embedded_structs": KEEPALIVE,
    "test_ctypes.test_internals.ObjectsTestCase.test_xxx": KEEPALIVE,
    "test_ctypes.test_keeprefs.ArrayTestCase.test_cint_array": KEEPALIVE,
    "test_ctypes.test_keeprefs.PointerTestCase.test_p_cint": KEEPALIVE,
    "test_ctypes.test_keeprefs.SimpleTestCase.test_ccharp": KEEPALIVE,
    "test_ctypes.test_keeprefs.StructureTestCase.test_ccharp_struct": KEEPALIVE,
    "test_ctypes.test_keeprefs.StructureTestCase.test_struct_struct": KEEPALIVE,
    "test_ctypes.test_objects": KEEPALIVE,
    "test_ctypes.test_cast.Test.test_p2a_objects": KEEPALIVE,
    "test_ctypes.test_init.InitTest.test_get": KEEPALIVE,
    "test_ctypes.test_pep3118.Test.test_*_types": (
        "ours", "the emulated _ctypes exports its memory as plain bytes ('B'), not "
        "CPython's PEP 3118 formats"
    ),
    "test_ctypes.test_anon.AnonTest.test_nested": CT_GAP,
    "test_ctypes.test_arrays.ArrayTestCase.test_bad_length": CT_GAP,
    "test_ctypes.test_arrays.ArrayTestCase.test_bpo36504_signed_int_overflow": CT_GAP,
    "test_ctypes.test_arrays.ArrayTestCase.test_simple": CT_GAP,
    "test_ctypes.test_byteswap.Test.test_*_struct": CT_GAP,
    "test_ctypes.test_c_simple_type_meta.PyCSimpleTypeAsMetaclassTest.test_bad_type_message": CT_GAP,
    "test_ctypes.test_c_simple_type_meta.PyCSimpleTypeAsMetaclassTest.test_creating_pointer_in_dunder_init_3": CT_GAP,
    "test_ctypes.test_c_simple_type_meta.PyCSimpleTypeAsMetaclassTest.test_creating_pointer_in_dunder_init_4": CT_GAP,
    "test_ctypes.test_c_simple_type_meta.PyCSimpleTypeAsMetaclassTest.test_creating_pointer_in_dunder_new_2": CT_GAP,
    "test_ctypes.test_c_simple_type_meta.PyCSimpleTypeAsMetaclassTest.test_custom_pointer_cache_for_ctypes_type1": CT_GAP,
    "test_ctypes.test_c_simple_type_meta.PyCSimpleTypeAsMetaclassTest.test_custom_pointer_cache_for_ctypes_type2": CT_GAP,
    "test_ctypes.test_cast.Test.test_bad_type_arg": CT_GAP,
    "test_ctypes.test_cast.Test.test_other": CT_GAP,
    "test_ctypes.test_delattr.TestCase.test_chararray": CT_GAP,
    "test_ctypes.test_delattr.TestCase.test_pointer_contents": CT_GAP,
    "test_ctypes.test_delattr.TestCase.test_simple": CT_GAP,
    "test_ctypes.test_delattr.TestCase.test_struct": CT_GAP,
    "test_ctypes.test_frombuffer.Test.test_from_buffer": CT_GAP,
    "test_ctypes.test_incomplete.TestSetPointerType.test_deprecation": CT_GAP,
    "test_ctypes.test_incomplete.TestSetPointerType.test_incomplete_example": CT_GAP,
    "test_ctypes.test_memfunctions.MemFunctionsTest.test_cast": CT_GAP,
    "test_ctypes.test_memfunctions.MemFunctionsTest.test_overflow": CT_GAP,
    "test_ctypes.test_numbers.NumberTestCase.test_from_param": CT_GAP,
    "test_ctypes.test_numbers.NumberTestCase.test_typeerror": CT_GAP,
    "test_ctypes.test_simplesubclasses.Test.test_swapped_type_creation": CT_GAP,
    "test_ctypes.test_struct_fields.*.test_max_field_size_gh126937": CT_GAP,
    "test_ctypes.test_structunion.*.test_fields": CT_GAP,
    "test_ctypes.test_structunion.TestRecursive*.test_contains_itself": CT_GAP,
    # mmap.
    "test_mmap.MmapTests.test_basic": NO_DUP,
    "test_mmap.MmapTests.test_io_methods": NO_DUP,
    "test_mmap.MmapTests.test_offset": NO_DUP,
    "test_mmap.MmapTests.test_trackfd_*": NO_DUP,
    "test_mmap.LargeMmapTests.test_large_filesize": (
        "ours", "the emulated mmap copies the mapped range into memory; a 4 GiB map "
        "exceeds the sandbox's memory"
    ),
    "test_mmap.MmapTests.test_madvise": MM_GAP,
    "test_mmap.MmapTests.test_mmap_closed_by_int_scenarios": MM_GAP,
    "test_mmap.MmapTests.test_repr": MM_GAP,
    "test_mmap.MmapTests.test_resize_up_private_anonymous_mapping": MM_GAP,
    "test_mmap.MmapTests.test_setitem_*resize_reentrancy": MM_GAP,
    "test_mmap.MmapTests.test_subclass": MM_GAP,
}
