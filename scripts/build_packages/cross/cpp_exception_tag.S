# The WebAssembly exception tag C++ code throws and catches with (clang's
# `__cpp_exception`; payload: the _Unwind_Exception pointer). Part of the
# C++ exception runtime linked into every C++ module (cxx_eh.py), hidden:
# each module has its own tag, so it is never imported (wasmtime-wizer 48,
# which pre-initialises the sandbox, cannot take a module that imports a
# tag) and an exception never crosses from one module into another's catch.
	.globl	__cpp_exception
	.hidden	__cpp_exception
	.tagtype	__cpp_exception i32
__cpp_exception:
