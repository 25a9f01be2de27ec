/* The `eryx` extension module: how Python code inside the sandbox reaches the
 * host. Registered with the inittab before CPython starts (see src/ffi/py.rs).
 * This file owns the module object and its methods; the host calls themselves
 * are implemented in Rust (src/ffi/abi.rs) and declared below. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define ERYX_VERSION "0.1.0"

static struct PyModuleDef eryx_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "eryx",
    .m_doc = "Bridge from sandboxed Python to the eryx host.",
    .m_size = -1,
};

PyObject *PyInit_eryx(void) {
    PyObject *m = PyModule_Create(&eryx_module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddStringConstant(m, "__version__", ERYX_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
