# The WebAssembly exception tag C longjmp throws with (clang's
# `__c_longjmp`; payload: a pointer to the {env, val} pair the catching
# function reads, see zig's wasi-libc setjmp/wasm32/rt.c, which cxx_eh.py
# compiles). Hidden, for the reason cpp_exception_tag.S gives: each module
# has its own tag, never imported, and a longjmp never leaves its module.
	.globl	__c_longjmp
	.hidden	__c_longjmp
	.tagtype	__c_longjmp i32
__c_longjmp:
