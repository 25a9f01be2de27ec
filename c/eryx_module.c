/* The `eryx` extension module: how Python code inside the sandbox reaches the
 * host. Registered with the inittab before CPython starts (src/ffi/py.rs).
 * This file owns the module object and argument parsing; the host calls
 * themselves are implemented in Rust (src/ffi/host.rs) and declared below. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define ERYX_VERSION "0.1.0"

/* Implemented in Rust. */
extern void eryx_rt_output(uint32_t fd, const char *text, size_t len);
extern uint32_t eryx_rt_pending(void);

static PyObject *eryx_output(PyObject *self, PyObject *args) {
    (void)self;
    unsigned int fd;
    const char *text;
    Py_ssize_t len;
    if (!PyArg_ParseTuple(args, "Is#:_output", &fd, &text, &len)) {
        return NULL;
    }
    eryx_rt_output(fd, text, (size_t)len);
    Py_RETURN_NONE;
}

static PyObject *eryx_pending(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    return PyLong_FromUnsignedLong(eryx_rt_pending());
}

static PyMethodDef eryx_methods[] = {
    {"_output", eryx_output, METH_VARARGS,
     "_output(fd, text): stream text to the host's stdout (1) or stderr (2)."},
    {"_pending", eryx_pending, METH_NOARGS,
     "_pending(): number of host calls in flight."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef eryx_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "eryx",
    .m_doc = "Bridge from sandboxed Python to the eryx host.",
    .m_size = -1,
    .m_methods = eryx_methods,
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
