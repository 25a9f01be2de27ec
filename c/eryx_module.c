/* The `eryx` extension module: how Python code inside the sandbox reaches the
 * host. Registered with the inittab before CPython starts (src/ffi/py.rs).
 * This file owns the module object and argument parsing; the host calls
 * themselves are implemented in Rust (src/ffi/host.rs) and declared below. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define ERYX_VERSION "0.1.0"

/* Implemented in Rust (src/ffi/host.rs). Text handed back through
 * `out`/`out_len` is owned by Rust and released with eryx_rt_free. */
extern void eryx_rt_output(uint32_t fd, const char *text, size_t len);
extern int32_t eryx_rt_state_write(uint64_t at, const char *data, size_t len);
extern uint32_t eryx_rt_pending(void);
extern int32_t eryx_rt_invoke(const char *name, size_t name_len, const char *args,
                              size_t args_len, uint32_t *handle, char **out,
                              size_t *out_len);
extern void eryx_rt_list_callbacks(char **out, size_t *out_len);
extern void eryx_rt_trace(const char *text, size_t len);
extern void eryx_rt_free(char *ptr, size_t len);
/* Network (src/ffi/net.rs): 0 = ok, -1 = error with "KIND: message" in out. */
extern int32_t eryx_rt_net_connect(const char *host, size_t len, uint32_t port,
                                   uint32_t timeout_ms, uint32_t *conn, char **out,
                                   size_t *out_len);
extern int32_t eryx_rt_net_start_tls(uint32_t conn, const char *name, size_t len,
                                     uint32_t timeout_ms, char **out, size_t *out_len);
extern int32_t eryx_rt_net_send(uint32_t conn, const char *data, size_t len,
                                uint32_t timeout_ms, uint32_t *sent, char **out,
                                size_t *out_len);
extern int32_t eryx_rt_net_recv(uint32_t conn, uint32_t max, uint32_t timeout_ms, char **out,
                                size_t *out_len);
extern void eryx_rt_net_close(uint32_t conn);

/* Traceback walking for error formatting (c/traceback.c). */
extern PyObject *eryx_tb_runs(PyObject *self, PyObject *args);

/* Build a str from Rust-owned text and release the text. */
static PyObject *take_text(char *text, size_t len) {
    PyObject *s = PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, "replace");
    eryx_rt_free(text, len);
    return s;
}

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

/* _state_write(at, data): stream recovery-checkpoint bytes to the host
   (guest/_eryx_state.py); the host reads `data` in place, no copy here. */
static PyObject *eryx_state_write(PyObject *self, PyObject *args) {
    (void)self;
    unsigned long long at;
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "Ky*:_state_write", &at, &data)) {
        return NULL;
    }
    int32_t ok = eryx_rt_state_write((uint64_t)at, (const char *)data.buf, (size_t)data.len);
    PyBuffer_Release(&data);
    if (!ok) {
        PyErr_SetString(PyExc_MemoryError, "the host refused the checkpoint's bytes");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *eryx_pending(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    return PyLong_FromUnsignedLong(eryx_rt_pending());
}

/* _invoke(name, args) -> (True, handle) while in flight, else (False, ok, text). */
static PyObject *eryx_invoke(PyObject *self, PyObject *args) {
    (void)self;
    const char *name, *json;
    Py_ssize_t name_len, json_len;
    if (!PyArg_ParseTuple(args, "s#s#:_invoke", &name, &name_len, &json, &json_len)) {
        return NULL;
    }
    uint32_t handle = 0;
    char *out = NULL;
    size_t out_len = 0;
    int32_t rc = eryx_rt_invoke(name, (size_t)name_len, json, (size_t)json_len, &handle,
                                &out, &out_len);
    if (rc == 2) {
        return Py_BuildValue("(OI)", Py_True, (unsigned int)handle);
    }
    PyObject *text = take_text(out, out_len);
    if (text == NULL) {
        return NULL;
    }
    if (rc < 0) {
        PyErr_SetObject(PyExc_RuntimeError, text);
        Py_DECREF(text);
        return NULL;
    }
    PyObject *result = Py_BuildValue("(OON)", Py_False, rc == 0 ? Py_True : Py_False, text);
    return result;
}

static PyObject *eryx_list_callbacks(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    char *out = NULL;
    size_t out_len = 0;
    eryx_rt_list_callbacks(&out, &out_len);
    return take_text(out, out_len);
}

static PyObject *eryx_trace(PyObject *self, PyObject *args) {
    (void)self;
    const char *text;
    Py_ssize_t len;
    if (!PyArg_ParseTuple(args, "s#:_trace", &text, &len)) {
        return NULL;
    }
    eryx_rt_trace(text, (size_t)len);
    Py_RETURN_NONE;
}

/* A failed network call: OSError("KIND: message"); guest/_eryx_net.py maps
 * the kind to the matching exception class. */
static PyObject *net_error(char *out, size_t out_len) {
    PyObject *text = take_text(out, out_len);
    if (text != NULL) {
        PyErr_SetObject(PyExc_OSError, text);
        Py_DECREF(text);
    }
    return NULL;
}

static PyObject *eryx_net_connect(PyObject *self, PyObject *args) {
    (void)self;
    const char *host;
    Py_ssize_t len;
    unsigned int port, timeout_ms;
    if (!PyArg_ParseTuple(args, "s#II:_net_connect", &host, &len, &port, &timeout_ms)) {
        return NULL;
    }
    if (port > 65535) {
        PyErr_SetString(PyExc_OverflowError, "port must be 0-65535.");
        return NULL;
    }
    uint32_t conn = 0;
    char *out = NULL;
    size_t out_len = 0;
    if (eryx_rt_net_connect(host, (size_t)len, port, timeout_ms, &conn, &out, &out_len) != 0) {
        return net_error(out, out_len);
    }
    return PyLong_FromUnsignedLong(conn);
}

static PyObject *eryx_net_start_tls(PyObject *self, PyObject *args) {
    (void)self;
    unsigned int conn, timeout_ms;
    const char *name;
    Py_ssize_t len;
    if (!PyArg_ParseTuple(args, "Is#I:_net_start_tls", &conn, &name, &len, &timeout_ms)) {
        return NULL;
    }
    char *out = NULL;
    size_t out_len = 0;
    if (eryx_rt_net_start_tls(conn, name, (size_t)len, timeout_ms, &out, &out_len) != 0) {
        return net_error(out, out_len);
    }
    return take_text(out, out_len);
}

static PyObject *eryx_net_send(PyObject *self, PyObject *args) {
    (void)self;
    unsigned int conn, timeout_ms;
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "Iy*I:_net_send", &conn, &data, &timeout_ms)) {
        return NULL;
    }
    uint32_t sent = 0;
    char *out = NULL;
    size_t out_len = 0;
    int32_t rc = eryx_rt_net_send(conn, (const char *)data.buf, (size_t)data.len, timeout_ms,
                                  &sent, &out, &out_len);
    PyBuffer_Release(&data);
    if (rc != 0) {
        return net_error(out, out_len);
    }
    return PyLong_FromUnsignedLong(sent);
}

static PyObject *eryx_net_recv(PyObject *self, PyObject *args) {
    (void)self;
    unsigned int conn, max, timeout_ms;
    if (!PyArg_ParseTuple(args, "III:_net_recv", &conn, &max, &timeout_ms)) {
        return NULL;
    }
    char *out = NULL;
    size_t out_len = 0;
    if (eryx_rt_net_recv(conn, max, timeout_ms, &out, &out_len) != 0) {
        return net_error(out, out_len);
    }
    PyObject *b = PyBytes_FromStringAndSize(out, (Py_ssize_t)out_len);
    eryx_rt_free(out, out_len);
    return b;
}

static PyObject *eryx_net_close(PyObject *self, PyObject *args) {
    (void)self;
    unsigned int conn;
    if (!PyArg_ParseTuple(args, "I:_net_close", &conn)) {
        return NULL;
    }
    eryx_rt_net_close(conn);
    Py_RETURN_NONE;
}

/* wasi-libc: move descriptor `fd` to number `newfd` (closing what was there). */
extern int __wasilibc_fd_renumber(int fd, int newfd);

/* Exact sessions (guest/_eryx_exact.py): a file re-opened after the memory
 * of another instance was written into this one takes back its number. */
static PyObject *eryx_fd_renumber(PyObject *self, PyObject *args) {
    (void)self;
    int fd, newfd;
    if (!PyArg_ParseTuple(args, "ii:_fd_renumber", &fd, &newfd)) {
        return NULL;
    }
    if (__wasilibc_fd_renumber(fd, newfd) != 0) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Py_RETURN_NONE;
}

/* Exact sessions (guest/_eryx_exact.py): the open regular files, as a list of
 * (fd, st_ino, st_dev, flags, offset), probing descriptors from 3 up to
 * `max_fd` and stopping after `gap` free numbers in a row (libc hands out
 * the lowest free number). In C because a probe that fails costs a local
 * check in libc here and an OSError in Python. */
static PyObject *eryx_open_files(PyObject *self, PyObject *args) {
    (void)self;
    int max_fd, gap;
    if (!PyArg_ParseTuple(args, "ii:_open_files", &max_fd, &gap)) {
        return NULL;
    }
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        return NULL;
    }
    int misses = 0;
    for (int fd = 3; fd < max_fd; fd++) {
        struct stat st;
        if (fstat(fd, &st) != 0) {
            if (++misses > gap) {
                break;
            }
            continue;
        }
        misses = 0;
        if (!S_ISREG(st.st_mode)) {
            continue;
        }
        int flags = fcntl(fd, F_GETFL);
        off_t offset = lseek(fd, 0, SEEK_CUR);
        if (flags < 0 || offset < 0) {
            continue;
        }
        PyObject *item = Py_BuildValue("(iKKiL)", fd, (unsigned long long)st.st_ino,
                                       (unsigned long long)st.st_dev, flags,
                                       (long long)offset);
        if (item == NULL || PyList_Append(out, item) != 0) {
            Py_XDECREF(item);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(item);
    }
    return out;
}

static PyMethodDef eryx_methods[] = {
    {"_open_files", eryx_open_files, METH_VARARGS,
     "_open_files(max_fd, gap): (fd, ino, dev, flags, offset) of the open regular files."},
    {"_fd_renumber", eryx_fd_renumber, METH_VARARGS,
     "_fd_renumber(fd, newfd): move descriptor fd to number newfd."},
    {"_invoke", eryx_invoke, METH_VARARGS,
     "_invoke(name, args_json): start a host call (use eryx.invoke)."},
    {"_list_callbacks", eryx_list_callbacks, METH_NOARGS,
     "_list_callbacks(): newline-separated callback names (use eryx.list_callbacks)."},
    {"_trace", eryx_trace, METH_VARARGS, "_trace(json): report one trace event."},
    {"_output", eryx_output, METH_VARARGS,
     "_output(fd, text): stream text to the host's stdout (1) or stderr (2)."},
    {"_state_write", eryx_state_write, METH_VARARGS,
     "_state_write(at, data): write checkpoint bytes at offset at (the runtime's own)."},
    {"_pending", eryx_pending, METH_NOARGS,
     "_pending(): number of host calls in flight."},
    {"_net_connect", eryx_net_connect, METH_VARARGS,
     "_net_connect(host, port, timeout_ms): open a host connection (use socket)."},
    {"_net_start_tls", eryx_net_start_tls, METH_VARARGS,
     "_net_start_tls(conn, server_name, timeout_ms): start host-verified TLS (use ssl)."},
    {"_net_send", eryx_net_send, METH_VARARGS, "_net_send(conn, data, timeout_ms): send bytes."},
    {"_net_recv", eryx_net_recv, METH_VARARGS,
     "_net_recv(conn, max, timeout_ms): receive bytes (b'' = end of stream)."},
    {"_net_close", eryx_net_close, METH_VARARGS, "_net_close(conn): close a connection."},
    {"_tb_runs", eryx_tb_runs, METH_VARARGS,
     "_tb_runs(tb, cutoff, own_prefix): the traceback entries to show, and the repeats left out."},
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
