/* pyconfig.h for CPython 3.14 built for wasm32-wasi (as shipped in
 * componentize-py 0.25.1). Written for this project: Debian's pyconfig.h is a
 * multiarch wrapper that does not know wasm32. Only what the public headers
 * consult is defined; values match the wasm32 ILP32 ABI of the real libpython. */
#ifndef Py_PYCONFIG_H
#define Py_PYCONFIG_H

#define SIZEOF_SHORT 2
#define SIZEOF_INT 4
#define SIZEOF_LONG 4
#define SIZEOF_LONG_LONG 8
#define SIZEOF_VOID_P 4
#define SIZEOF_SIZE_T 4
#define SIZEOF_UINTPTR_T 4
#define SIZEOF_WCHAR_T 4
#define SIZEOF_TIME_T 8
#define SIZEOF_OFF_T 8
#define SIZEOF_PID_T 4
#define SIZEOF_FLOAT 4
#define SIZEOF_DOUBLE 8
#define SIZEOF_LONG_DOUBLE 16
#define SIZEOF__BOOL 1
#define SIZEOF_FPOS_T 8

#define ALIGNOF_LONG 4
#define ALIGNOF_SIZE_T 4
#define ALIGNOF_MAX_ALIGN_T 16

#define DOUBLE_IS_LITTLE_ENDIAN_IEEE754 1

#define HAVE_WCHAR_H 1
#define HAVE_SSIZE_T 1
#define HAVE_STDINT_H 1
#define HAVE_INTTYPES_H 1
#define HAVE_UNISTD_H 1
#define HAVE_SYS_TYPES_H 1
#define HAVE_SYS_STAT_H 1
#define HAVE_SYS_TIME_H 1
#define HAVE_STD_ATOMIC 1
#define HAVE_BUILTIN_ATOMIC 1
#define HAVE_LONG_DOUBLE 1
#define HAVE_CLOCK_GETTIME 1
#define HAVE_PTHREAD_STUBS 1

#define WITH_PYMALLOC 1
#define WITH_MIMALLOC 1
#define Py_ENABLE_SHARED 1

/* Deliberately undefined: Py_DEBUG, Py_GIL_DISABLED, Py_STATS, Py_TRACE_REFS. */

#endif /* Py_PYCONFIG_H */
