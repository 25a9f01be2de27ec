/* bindgen input: the parts of the CPython C API the runtime uses. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
