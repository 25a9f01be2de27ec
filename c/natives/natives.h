/* Shared helpers of the builtin stdlib modules eryx adds (c/natives/): a
 * growable output buffer and the pending-input
 * bookkeeping of the streaming (de)compressors. */
#ifndef ERYX_NATIVES_H
#define ERYX_NATIVES_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

/* A PyMem-allocated byte buffer: `len` bytes used of `cap`. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} natives_buf;

/* Start a buffer with room for `cap` bytes (0 is fine). -1 + MemoryError on failure. */
static inline int natives_buf_init(natives_buf *b, size_t cap) {
    b->len = 0;
    b->cap = cap;
    b->data = PyMem_Malloc(cap > 0 ? cap : 1);
    if (b->data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* Double the room (at least 8 KiB more), never past `limit` bytes when
 * limit >= 0. -1 + MemoryError on failure. */
static inline int natives_buf_grow(natives_buf *b, Py_ssize_t limit) {
    size_t cap = b->cap < 8192 ? b->cap + 8192 : b->cap * 2;
    if (cap < b->cap || cap > (size_t)PY_SSIZE_T_MAX) {
        PyErr_NoMemory();
        return -1;
    }
    if (limit >= 0 && cap > (size_t)limit) {
        cap = (size_t)limit;
    }
    char *data = PyMem_Realloc(b->data, cap > 0 ? cap : 1);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

/* Append `n` bytes. -1 + MemoryError on failure. */
static inline int natives_buf_append(natives_buf *b, const char *src, size_t n) {
    while (b->cap - b->len < n) {
        if (natives_buf_grow(b, -1) < 0) {
            return -1;
        }
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
    return 0;
}

static inline void natives_buf_free(natives_buf *b) {
    PyMem_Free(b->data);
    b->data = NULL;
}

/* The contents as bytes; the buffer is released either way. */
static inline PyObject *natives_buf_finish(natives_buf *b) {
    PyObject *r = PyBytes_FromStringAndSize(b->data, (Py_ssize_t)b->len);
    natives_buf_free(b);
    return r;
}

/* Join `data` to the `*pending` input a decompressor kept from earlier
 * calls; sets *in / *in_len to what to feed it this call. -1 + MemoryError. */
static inline int natives_input(char **pending, size_t *pending_len, const Py_buffer *data,
                                char **in, size_t *in_len) {
    if (*pending_len > 0 && data->len > 0) {
        char *joined = PyMem_Realloc(*pending, *pending_len + (size_t)data->len);
        if (joined == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        memcpy(joined + *pending_len, data->buf, (size_t)data->len);
        *pending = joined;
        *pending_len += (size_t)data->len;
    }
    *in = *pending_len > 0 ? *pending : data->buf;
    *in_len = *pending_len > 0 ? *pending_len : (size_t)data->len;
    return 0;
}

/* Keep the `rest` unconsumed bytes at `rest_at` as the pending input of the
 * next call (none when rest is 0). -1 + MemoryError. */
static inline int natives_keep(char **pending, size_t *pending_len, const char *rest_at,
                               size_t rest) {
    if (rest == 0) {
        PyMem_Free(*pending);
        *pending = NULL;
        *pending_len = 0;
        return 0;
    }
    if (rest_at == *pending && rest == *pending_len) {
        return 0;
    }
    char *keep = PyMem_Malloc(rest);
    if (keep == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(keep, rest_at, rest);
    PyMem_Free(*pending);
    *pending = keep;
    *pending_len = rest;
    return 0;
}

/* The end of a decompress call, the same for _bz2 and _lzma. `result` is
 * the call's output (NULL: failed, exception set); `rest` bytes at
 * `rest_at` are the input the library left. At the end of the stream they
 * become unused_data; otherwise they are kept for the next call, and
 * `needs_input` says whether more input is wanted (`room`: the library had
 * output space left, so it holds no output back). After a failure
 * needs_input is 0. Returns `result`, or NULL with an exception set. */
static inline PyObject *natives_settle(PyObject *result, char eof, char *needs_input,
                                       PyObject **unused_data, char **pending,
                                       size_t *pending_len, const char *rest_at, size_t rest,
                                       int room) {
    int fail = result == NULL;
    if (fail) {
        *needs_input = 0;
    } else if (eof) {
        *needs_input = 0;
        if (rest > 0) {
            PyObject *unused = PyBytes_FromStringAndSize(rest_at, (Py_ssize_t)rest);
            if (unused == NULL) {
                fail = 1;
            } else {
                Py_SETREF(*unused_data, unused);
            }
        }
        rest = 0;
    } else {
        *needs_input = rest == 0 && room;
    }
    /* The unconsumed tail waits for the next call (also after an error). */
    if (natives_keep(pending, pending_len, rest_at, rest) < 0) {
        fail = 1;
    }
    if (fail) {
        Py_XDECREF(result);
        return NULL;
    }
    return result;
}

/* Create the type of `spec` for module m and add it to m as `name`. */
static inline int natives_add_type(PyObject *m, PyType_Spec *spec, const char *name) {
    PyObject *t = PyType_FromModuleAndSpec(m, spec, NULL);
    if (t == NULL || PyModule_AddObjectRef(m, name, t) < 0) {
        Py_XDECREF(t);
        return -1;
    }
    Py_DECREF(t);
    return 0;
}

/* The `eof`, `unused_data` and `needs_input` getters of decompressor type
 * T (a struct with fields of those names). */
#define NATIVES_DECOMPRESSOR_GETTERS(T)                                                   \
    static PyObject *decompressor_get_eof(T *d, void *Py_UNUSED(closure)) {               \
        return PyBool_FromLong(d->eof);                                                   \
    }                                                                                     \
    static PyObject *decompressor_get_unused(T *d, void *Py_UNUSED(closure)) {            \
        return Py_NewRef(d->unused_data);                                                 \
    }                                                                                     \
    static PyObject *decompressor_get_needs_input(T *d, void *Py_UNUSED(closure)) {       \
        return PyBool_FromLong(d->needs_input);                                           \
    }

#endif
