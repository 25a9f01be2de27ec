/* `_bz2`: CPython's bzip2 accelerator module (BZ2Compressor, BZ2Decompressor)
 * over the bzip2 1.0.8 library, which the componentize-py CPython build lacks.
 * A builtin module: registered with the inittab before CPython starts
 * (src/ffi/py.rs), so every sandbox has it. The bzip2 sources are fetched by
 * scripts/fetch-natives.sh and compiled by build.rs. This file owns the two
 * types, their streaming buffers and the mapping of bzip2 errors to Python
 * exceptions; the API follows CPython's `_bz2` (what Lib/bz2.py imports). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <bzlib.h>

#include "natives.h"

/* Raise the Python exception for a bzip2 error code; 0 when `ret` is fine. */
static int bz2_error(int ret) {
    switch (ret) {
    case BZ_OK:
    case BZ_RUN_OK:
    case BZ_FLUSH_OK:
    case BZ_FINISH_OK:
    case BZ_STREAM_END:
        return 0;
    case BZ_PARAM_ERROR:
        PyErr_SetString(PyExc_ValueError,
                        "Internal error - invalid parameters passed to libbzip2");
        return -1;
    case BZ_MEM_ERROR:
        PyErr_NoMemory();
        return -1;
    case BZ_DATA_ERROR:
    case BZ_DATA_ERROR_MAGIC:
        PyErr_SetString(PyExc_OSError, "Invalid data stream");
        return -1;
    case BZ_IO_ERROR:
        PyErr_SetString(PyExc_OSError, "Unknown I/O error");
        return -1;
    case BZ_UNEXPECTED_EOF:
        PyErr_SetString(PyExc_EOFError,
                        "Compressed file ended before the logical end-of-stream was detected");
        return -1;
    case BZ_SEQUENCE_ERROR:
        PyErr_SetString(PyExc_RuntimeError,
                        "Internal error - Invalid sequence of commands sent to libbzip2");
        return -1;
    default:
        PyErr_Format(PyExc_OSError, "Unrecognized error from libbzip2: %d", ret);
        return -1;
    }
}

/* ---- BZ2Compressor ------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    bz_stream bzs;
    int flushed;
} Compressor;

/* Run BZ2_bzCompress with `action` over the input already set in bzs until
 * the input is consumed (BZ_RUN) or the stream ends (BZ_FINISH). */
static PyObject *compress_run(Compressor *c, int action) {
    natives_buf out;
    if (natives_buf_init(&out, 8192) < 0) {
        return NULL;
    }
    for (;;) {
        /* Checked before the call, as CPython does: BZ_RUN with no input
         * makes no progress, which bzip2 reports as BZ_PARAM_ERROR. */
        if (action == BZ_RUN && c->bzs.avail_in == 0) {
            break;
        }
        if (out.len == out.cap && natives_buf_grow(&out, -1) < 0) {
            natives_buf_free(&out);
            return NULL;
        }
        size_t room = out.cap - out.len;
        c->bzs.next_out = out.data + out.len;
        c->bzs.avail_out = room > UINT_MAX ? UINT_MAX : (unsigned int)room;
        int ret = BZ2_bzCompress(&c->bzs, action);
        out.len += room - c->bzs.avail_out;
        if (bz2_error(ret) < 0) {
            natives_buf_free(&out);
            return NULL;
        }
        if (action == BZ_FINISH && ret == BZ_STREAM_END) {
            break;
        }
    }
    return natives_buf_finish(&out);
}

static PyObject *compressor_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    int level = 9;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "BZ2Compressor() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "|i:BZ2Compressor", &level)) {
        return NULL;
    }
    if (level < 1 || level > 9) {
        PyErr_SetString(PyExc_ValueError, "compresslevel must be between 1 and 9");
        return NULL;
    }
    Compressor *c = (Compressor *)type->tp_alloc(type, 0);
    if (c == NULL) {
        return NULL;
    }
    memset(&c->bzs, 0, sizeof c->bzs);
    int ret = BZ2_bzCompressInit(&c->bzs, level, 0, 0);
    if (bz2_error(ret) < 0) {
        c->bzs.state = NULL;
        Py_DECREF(c);
        return NULL;
    }
    return (PyObject *)c;
}

static void compressor_dealloc(Compressor *c) {
    PyTypeObject *tp = Py_TYPE(c);
    if (c->bzs.state != NULL) {
        BZ2_bzCompressEnd(&c->bzs);
    }
    tp->tp_free((PyObject *)c);
    Py_DECREF(tp);
}

static PyObject *compressor_compress(Compressor *c, PyObject *arg) {
    Py_buffer data;
    if (PyObject_GetBuffer(arg, &data, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (c->flushed) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_ValueError, "Compressor has been flushed");
        return NULL;
    }
    natives_buf all;
    if (natives_buf_init(&all, 0) < 0) {
        PyBuffer_Release(&data);
        return NULL;
    }
    /* avail_in is 32 bits: feed larger inputs in slices. */
    char *next = data.buf;
    size_t left = (size_t)data.len;
    PyObject *result = NULL;
    do {
        size_t take = left > UINT_MAX ? UINT_MAX : left;
        c->bzs.next_in = next;
        c->bzs.avail_in = (unsigned int)take;
        PyObject *part = compress_run(c, BZ_RUN);
        if (part == NULL) {
            goto done;
        }
        int err = natives_buf_append(&all, PyBytes_AS_STRING(part), (size_t)PyBytes_GET_SIZE(part));
        Py_DECREF(part);
        if (err < 0) {
            goto done;
        }
        next += take;
        left -= take;
    } while (left > 0);
    result = natives_buf_finish(&all);
done:
    if (result == NULL) {
        natives_buf_free(&all);
    }
    c->bzs.next_in = NULL;
    c->bzs.avail_in = 0;
    PyBuffer_Release(&data);
    return result;
}

static PyObject *compressor_flush(Compressor *c, PyObject *Py_UNUSED(ignored)) {
    if (c->flushed) {
        PyErr_SetString(PyExc_ValueError, "Repeated call to flush()");
        return NULL;
    }
    c->flushed = 1;
    c->bzs.next_in = NULL;
    c->bzs.avail_in = 0;
    return compress_run(c, BZ_FINISH);
}

static PyMethodDef compressor_methods[] = {
    {"compress", (PyCFunction)compressor_compress, METH_O,
     "compress($self, data, /)\n--\n\nProvide data to the compressor object.\n\n"
     "Returns a chunk of compressed data if possible, or b'' otherwise.\n"
     "When you have finished providing data to the compressor, call the\n"
     "flush() method to finish the compression process."},
    {"flush", (PyCFunction)compressor_flush, METH_NOARGS,
     "flush($self, /)\n--\n\nFinish the compression process.\n\n"
     "Returns the compressed data left in internal buffers.\n"
     "The compressor object may not be used after this method is called."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot compressor_slots[] = {
    {Py_tp_new, compressor_new},
    {Py_tp_dealloc, compressor_dealloc},
    {Py_tp_methods, compressor_methods},
    {Py_tp_doc, "BZ2Compressor(compresslevel=9, /)\n--\n\n"
                "Create a compressor object for compressing data incrementally.\n\n"
                "  compresslevel\n    Compression level, as a number between 1 and 9.\n\n"
                "For one-shot compression, use the compress() function instead."},
    {0, NULL},
};

static PyType_Spec compressor_spec = {
    .name = "_bz2.BZ2Compressor",
    .basicsize = sizeof(Compressor),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = compressor_slots,
};

/* ---- BZ2Decompressor ---------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    bz_stream bzs;
    char eof;
    char needs_input;
    /* bzip2 failed on this stream: its state is not usable any more. */
    char failed;
    PyObject *unused_data; /* bytes */
    /* Input handed to decompress() that bzip2 has not consumed yet. */
    char *pending;
    size_t pending_len;
} Decompressor;

static PyObject *decompressor_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    if ((kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) || PyTuple_GET_SIZE(args) != 0) {
        PyErr_SetString(PyExc_TypeError, "BZ2Decompressor() takes no arguments");
        return NULL;
    }
    Decompressor *d = (Decompressor *)type->tp_alloc(type, 0);
    if (d == NULL) {
        return NULL;
    }
    memset(&d->bzs, 0, sizeof d->bzs);
    d->needs_input = 1;
    d->unused_data = PyBytes_FromStringAndSize(NULL, 0);
    if (d->unused_data == NULL) {
        Py_DECREF(d);
        return NULL;
    }
    int ret = BZ2_bzDecompressInit(&d->bzs, 0, 0);
    if (bz2_error(ret) < 0) {
        d->bzs.state = NULL;
        Py_DECREF(d);
        return NULL;
    }
    return (PyObject *)d;
}

static void decompressor_dealloc(Decompressor *d) {
    PyTypeObject *tp = Py_TYPE(d);
    if (d->bzs.state != NULL) {
        BZ2_bzDecompressEnd(&d->bzs);
    }
    PyMem_Free(d->pending);
    Py_XDECREF(d->unused_data);
    tp->tp_free((PyObject *)d);
    Py_DECREF(tp);
}

/* Decompress what bzs holds, at most max_length bytes (< 0: no limit). */
static PyObject *decompress_buf(Decompressor *d, Py_ssize_t max_length) {
    natives_buf out;
    size_t limit = max_length < 0 ? (size_t)-1 : (size_t)max_length;
    if (natives_buf_init(&out, limit < 8192 ? limit : 8192) < 0) {
        return NULL;
    }
    for (;;) {
        if (out.len == out.cap) {
            if (out.len >= limit) {
                break;
            }
            if (natives_buf_grow(&out, max_length) < 0) {
                natives_buf_free(&out);
                return NULL;
            }
        }
        size_t room = out.cap - out.len;
        if (room > UINT_MAX) {
            room = UINT_MAX;
        }
        d->bzs.next_out = out.data + out.len;
        d->bzs.avail_out = (unsigned int)room;
        int ret = BZ2_bzDecompress(&d->bzs);
        out.len += room - d->bzs.avail_out;
        if (bz2_error(ret) < 0) {
            natives_buf_free(&out);
            return NULL;
        }
        if (ret == BZ_STREAM_END) {
            d->eof = 1;
            break;
        }
        if (d->bzs.avail_out != 0) {
            /* Room left over: bzip2 wants more input. */
            break;
        }
    }
    return natives_buf_finish(&out);
}

static PyObject *decompressor_decompress(Decompressor *d, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"data", "max_length", NULL};
    Py_buffer data;
    Py_ssize_t max_length = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*|n:decompress", kwlist, &data,
                                     &max_length)) {
        return NULL;
    }
    if (d->eof) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_EOFError, "End of stream already reached");
        return NULL;
    }
    if (d->failed) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_ValueError,
                        "the decompressor cannot continue after a previous error");
        return NULL;
    }
    /* Input is the unconsumed rest of earlier calls followed by `data`. */
    char *in;
    size_t in_len;
    if (natives_input(&d->pending, &d->pending_len, &data, &in, &in_len) < 0) {
        PyBuffer_Release(&data);
        return NULL;
    }
    if (in_len > UINT_MAX) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_OverflowError, "input is larger than 4 GiB");
        return NULL;
    }
    d->bzs.next_in = in;
    d->bzs.avail_in = (unsigned int)in_len;
    PyObject *result = decompress_buf(d, max_length);
    size_t rest = d->bzs.avail_in;
    char *rest_at = d->bzs.next_in;
    if (result == NULL) {
        d->failed = 1;
    }
    /* With no input left but a full output buffer, bzip2 may still hold
     * output: the next call returns it without new input. */
    result = natives_settle(result, d->eof, &d->needs_input, &d->unused_data, &d->pending,
                            &d->pending_len, rest_at, rest, d->bzs.avail_out != 0);
    d->bzs.next_in = NULL;
    d->bzs.avail_in = 0;
    PyBuffer_Release(&data);
    return result;
}

NATIVES_DECOMPRESSOR_GETTERS(Decompressor)

static PyGetSetDef decompressor_getset[] = {
    {"eof", (getter)decompressor_get_eof, NULL, "True if the end-of-stream marker has been reached.",
     NULL},
    {"unused_data", (getter)decompressor_get_unused, NULL,
     "Data found after the end of the compressed stream.", NULL},
    {"needs_input", (getter)decompressor_get_needs_input, NULL,
     "True if more input is needed before more decompressed data can be produced.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef decompressor_methods[] = {
    {"decompress", (PyCFunction)(void (*)(void))decompressor_decompress,
     METH_VARARGS | METH_KEYWORDS,
     "decompress($self, /, data, max_length=-1)\n--\n\n"
     "Decompress *data*, returning uncompressed data as bytes.\n\n"
     "If *max_length* is nonnegative, returns at most *max_length* bytes of\n"
     "decompressed data. If this limit is reached and further output can be\n"
     "produced, *self.needs_input* will be set to ``False``. In this case, the next\n"
     "call to *decompress()* may provide *data* as b'' to obtain more of the output.\n\n"
     "Attempting to decompress data after the end of stream is reached raises an\n"
     "EOFError.  Any data found after the end of the stream is ignored and saved in\n"
     "the unused_data attribute."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot decompressor_slots[] = {
    {Py_tp_new, decompressor_new},
    {Py_tp_dealloc, decompressor_dealloc},
    {Py_tp_methods, decompressor_methods},
    {Py_tp_getset, decompressor_getset},
    {Py_tp_doc, "BZ2Decompressor()\n--\n\n"
                "Create a decompressor object for decompressing data incrementally.\n\n"
                "For one-shot decompression, use the decompress() function instead."},
    {0, NULL},
};

static PyType_Spec decompressor_spec = {
    .name = "_bz2.BZ2Decompressor",
    .basicsize = sizeof(Decompressor),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = decompressor_slots,
};

/* ---- module ------------------------------------------------------------- */

static int bz2_exec(PyObject *m) {
    if (natives_add_type(m, &compressor_spec, "BZ2Compressor") < 0 ||
        natives_add_type(m, &decompressor_spec, "BZ2Decompressor") < 0) {
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot bz2_slots[] = {
    {Py_mod_exec, bz2_exec},
    {0, NULL},
};

static struct PyModuleDef bz2_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_bz2",
    .m_doc = "bzip2 compression (the eryx sandbox's build over libbzip2 1.0.8).",
    .m_size = 0,
    .m_slots = bz2_slots,
};

PyObject *PyInit__bz2(void) {
    return PyModuleDef_Init(&bz2_module);
}
