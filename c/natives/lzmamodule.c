/* `_lzma`: CPython's xz/lzma accelerator module (LZMACompressor,
 * LZMADecompressor, filter specs) over liblzma from xz 5.2, which the
 * componentize-py CPython build lacks. A builtin module registered with the
 * inittab (src/ffi/py.rs); liblzma's sources are fetched by
 * scripts/fetch-natives.sh and compiled single-threaded by build.rs. This
 * file owns the two types, the module functions and the error mapping; the
 * filter specs are in lzma_filters.c; the streaming logic matches `_bz2`
 * (bz2module.c). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <lzma.h>

#include "lzma_filters.h"
#include "natives.h"

#define FORMAT_AUTO 0
#define FORMAT_XZ 1
#define FORMAT_ALONE 2
#define FORMAT_RAW 3
#define LZMA_CHECK_UNKNOWN (LZMA_CHECK_ID_MAX + 1)

PyObject *eryx_lzma_error; /* set by the module's exec */
#define LZMAError eryx_lzma_error

static int lzma_error(lzma_ret ret) {
    switch (ret) {
    case LZMA_OK:
    case LZMA_GET_CHECK:
    case LZMA_NO_CHECK:
    case LZMA_STREAM_END:
        return 0;
    case LZMA_UNSUPPORTED_CHECK:
        PyErr_SetString(LZMAError, "Unsupported integrity check");
        return -1;
    case LZMA_MEM_ERROR:
        PyErr_NoMemory();
        return -1;
    case LZMA_MEMLIMIT_ERROR:
        PyErr_SetString(LZMAError, "Memory usage limit exceeded");
        return -1;
    case LZMA_FORMAT_ERROR:
        PyErr_SetString(LZMAError, "Input format not supported by decoder");
        return -1;
    case LZMA_OPTIONS_ERROR:
        PyErr_SetString(LZMAError, "Invalid or unsupported options");
        return -1;
    case LZMA_DATA_ERROR:
        PyErr_SetString(LZMAError, "Corrupt input data");
        return -1;
    case LZMA_BUF_ERROR:
        PyErr_SetString(LZMAError, "Insufficient buffer space");
        return -1;
    case LZMA_PROG_ERROR:
        PyErr_SetString(LZMAError, "Internal error");
        return -1;
    default:
        PyErr_Format(LZMAError, "Unrecognized error from liblzma: %d", (int)ret);
        return -1;
    }
}

/* ---- shared streaming --------------------------------------------------- */

/* Run lzma_code(action) over the input in `s` until it is consumed (RUN) or
 * the stream ends (FINISH); for compression. */
static PyObject *encode_run(lzma_stream *s, lzma_action action) {
    natives_buf out;
    if (natives_buf_init(&out, 8192) < 0) {
        return NULL;
    }
    for (;;) {
        if (out.len == out.cap && natives_buf_grow(&out, -1) < 0) {
            natives_buf_free(&out);
            return NULL;
        }
        size_t room = out.cap - out.len;
        s->next_out = (uint8_t *)out.data + out.len;
        s->avail_out = room;
        lzma_ret ret = lzma_code(s, action);
        out.len += room - s->avail_out;
        if (ret == LZMA_BUF_ERROR && s->avail_in == 0 && s->avail_out > 0) {
            ret = LZMA_OK; /* nothing more to do */
        }
        if (lzma_error(ret) < 0) {
            natives_buf_free(&out);
            return NULL;
        }
        if ((action == LZMA_RUN && s->avail_in == 0) ||
            (action == LZMA_FINISH && ret == LZMA_STREAM_END)) {
            break;
        }
    }
    return natives_buf_finish(&out);
}

/* ---- LZMACompressor ----------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    lzma_stream lzs;
    int flushed;
} Compressor;

static int init_encoder(lzma_stream *s, int format, int check, uint32_t preset,
                        PyObject *filterspecs) {
    lzma_filter filters[LZMA_FILTERS_MAX + 1];
    lzma_ret ret;
    if (filterspecs != Py_None && parse_filter_chain(filterspecs, filters) < 0) {
        return -1;
    }
    switch (format) {
    case FORMAT_XZ:
        if (check == -1) {
            check = LZMA_CHECK_CRC64;
        }
        ret = filterspecs == Py_None ? lzma_easy_encoder(s, preset, (lzma_check)check)
                                     : lzma_stream_encoder(s, filters, (lzma_check)check);
        break;
    case FORMAT_ALONE:
        if (filterspecs == Py_None) {
            lzma_options_lzma options;
            if (lzma_lzma_preset(&options, preset)) {
                PyErr_Format(LZMAError, "Invalid compression preset: %u", preset);
                return -1;
            }
            ret = lzma_alone_encoder(s, &options);
        } else if (filters[0].id != LZMA_FILTER_LZMA1 || filters[1].id != LZMA_VLI_UNKNOWN) {
            free_filter_chain(filters);
            PyErr_SetString(PyExc_ValueError,
                            "Invalid filter chain for FORMAT_ALONE - must be a single LZMA1 filter");
            return -1;
        } else {
            ret = lzma_alone_encoder(s, filters[0].options);
        }
        break;
    default: /* FORMAT_RAW */
        ret = lzma_raw_encoder(s, filters);
        break;
    }
    if (filterspecs != Py_None) {
        free_filter_chain(filters);
    }
    return lzma_error(ret);
}

static PyObject *compressor_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"format", "check", "preset", "filters", NULL};
    int format = FORMAT_XZ, check = -1;
    PyObject *preset_obj = Py_None, *filters = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|iiOO:LZMACompressor", kwlist, &format,
                                     &check, &preset_obj, &filters)) {
        return NULL;
    }
    if (format != FORMAT_XZ && format != FORMAT_ALONE && format != FORMAT_RAW) {
        PyErr_Format(PyExc_ValueError, "Invalid container format: %d", format);
        return NULL;
    }
    if (format != FORMAT_XZ && check != -1 && check != LZMA_CHECK_NONE) {
        PyErr_SetString(PyExc_ValueError, "Integrity checks are only supported by FORMAT_XZ");
        return NULL;
    }
    if (preset_obj != Py_None && filters != Py_None) {
        PyErr_SetString(PyExc_ValueError, "Cannot specify both preset and filter chain");
        return NULL;
    }
    if (format == FORMAT_RAW && filters == Py_None) {
        PyErr_SetString(PyExc_ValueError, "Must specify filters for FORMAT_RAW");
        return NULL;
    }
    uint32_t preset = LZMA_PRESET_DEFAULT;
    if (preset_obj != Py_None) {
        /* ValueError when negative, OverflowError when too big (CPython's). */
        if (PyLong_AsUInt32(preset_obj, &preset) < 0) {
            return NULL;
        }
    }
    Compressor *c = (Compressor *)type->tp_alloc(type, 0);
    if (c == NULL) {
        return NULL;
    }
    c->lzs = (lzma_stream)LZMA_STREAM_INIT;
    if (init_encoder(&c->lzs, format, check, preset, filters) < 0) {
        Py_DECREF(c);
        return NULL;
    }
    return (PyObject *)c;
}

static void compressor_dealloc(Compressor *c) {
    PyTypeObject *tp = Py_TYPE(c);
    lzma_end(&c->lzs);
    tp->tp_free((PyObject *)c);
    Py_DECREF(tp);
}

static PyObject *compressor_compress(Compressor *c, PyObject *arg) {
    Py_buffer data;
    if (PyObject_GetBuffer(arg, &data, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    PyObject *result = NULL;
    if (c->flushed) {
        PyErr_SetString(PyExc_ValueError, "Compressor has been flushed");
    } else {
        c->lzs.next_in = data.buf;
        c->lzs.avail_in = (size_t)data.len;
        result = encode_run(&c->lzs, LZMA_RUN);
        c->lzs.next_in = NULL;
        c->lzs.avail_in = 0;
    }
    PyBuffer_Release(&data);
    return result;
}

static PyObject *compressor_flush(Compressor *c, PyObject *Py_UNUSED(ignored)) {
    if (c->flushed) {
        PyErr_SetString(PyExc_ValueError, "Repeated call to flush()");
        return NULL;
    }
    c->flushed = 1;
    c->lzs.next_in = NULL;
    c->lzs.avail_in = 0;
    return encode_run(&c->lzs, LZMA_FINISH);
}

static PyMethodDef compressor_methods[] = {
    {"compress", (PyCFunction)compressor_compress, METH_O,
     "compress($self, data, /)\n--\n\nProvide data to the compressor object.\n\n"
     "Returns a chunk of compressed data if possible, or b'' otherwise."},
    {"flush", (PyCFunction)compressor_flush, METH_NOARGS,
     "flush($self, /)\n--\n\nFinish the compression process.\n\n"
     "Returns the compressed data left in internal buffers."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot compressor_slots[] = {
    {Py_tp_new, compressor_new},
    {Py_tp_dealloc, compressor_dealloc},
    {Py_tp_methods, compressor_methods},
    {Py_tp_doc, "LZMACompressor(format=FORMAT_XZ, check=-1, preset=None, filters=None)\n\n"
                "Create a compressor object for compressing data incrementally."},
    {0, NULL},
};

static PyType_Spec compressor_spec = {
    .name = "_lzma.LZMACompressor",
    .basicsize = sizeof(Compressor),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = compressor_slots,
};

/* ---- LZMADecompressor --------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    lzma_stream lzs;
    int check;
    char eof;
    char needs_input;
    PyObject *unused_data;
    char *pending;
    size_t pending_len;
} Decompressor;

static PyObject *decompressor_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"format", "memlimit", "filters", NULL};
    int format = FORMAT_AUTO;
    PyObject *memlimit_obj = Py_None, *filters = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|iOO:LZMADecompressor", kwlist, &format,
                                     &memlimit_obj, &filters)) {
        return NULL;
    }
    if (memlimit_obj != Py_None && format == FORMAT_RAW) {
        PyErr_SetString(PyExc_ValueError, "Cannot specify memory limit with FORMAT_RAW");
        return NULL;
    }
    if (format == FORMAT_RAW && filters == Py_None) {
        PyErr_SetString(PyExc_ValueError, "Must specify filters for FORMAT_RAW");
        return NULL;
    }
    if (format != FORMAT_RAW && filters != Py_None) {
        PyErr_SetString(PyExc_ValueError, "Cannot specify filters except with FORMAT_RAW");
        return NULL;
    }
    uint64_t memlimit = UINT64_MAX;
    if (memlimit_obj != Py_None) {
        memlimit = PyLong_AsUnsignedLongLong(memlimit_obj);
        if (memlimit == (uint64_t)-1 && PyErr_Occurred()) {
            return NULL;
        }
    }
    Decompressor *d = (Decompressor *)type->tp_alloc(type, 0);
    if (d == NULL) {
        return NULL;
    }
    d->lzs = (lzma_stream)LZMA_STREAM_INIT;
    d->needs_input = 1;
    d->check = LZMA_CHECK_UNKNOWN;
    d->unused_data = PyBytes_FromStringAndSize(NULL, 0);
    if (d->unused_data == NULL) {
        Py_DECREF(d);
        return NULL;
    }
    const uint32_t flags = LZMA_TELL_ANY_CHECK | LZMA_TELL_NO_CHECK;
    lzma_ret ret;
    lzma_filter chain[LZMA_FILTERS_MAX + 1];
    switch (format) {
    case FORMAT_AUTO:
        ret = lzma_auto_decoder(&d->lzs, memlimit, flags);
        break;
    case FORMAT_XZ:
        ret = lzma_stream_decoder(&d->lzs, memlimit, flags);
        break;
    case FORMAT_ALONE:
        d->check = LZMA_CHECK_NONE;
        ret = lzma_alone_decoder(&d->lzs, memlimit);
        break;
    case FORMAT_RAW:
        d->check = LZMA_CHECK_NONE;
        if (parse_filter_chain(filters, chain) < 0) {
            Py_DECREF(d);
            return NULL;
        }
        ret = lzma_raw_decoder(&d->lzs, chain);
        free_filter_chain(chain);
        break;
    default:
        PyErr_Format(PyExc_ValueError, "Invalid container format: %d", format);
        Py_DECREF(d);
        return NULL;
    }
    if (lzma_error(ret) < 0) {
        Py_DECREF(d);
        return NULL;
    }
    return (PyObject *)d;
}

static void decompressor_dealloc(Decompressor *d) {
    PyTypeObject *tp = Py_TYPE(d);
    lzma_end(&d->lzs);
    PyMem_Free(d->pending);
    Py_XDECREF(d->unused_data);
    tp->tp_free((PyObject *)d);
    Py_DECREF(tp);
}

static PyObject *decode_buf(Decompressor *d, Py_ssize_t max_length) {
    natives_buf out;
    size_t limit = max_length < 0 ? (size_t)-1 : (size_t)max_length;
    if (natives_buf_init(&out, limit < 8192 ? limit : 8192) < 0) {
        return NULL;
    }
    lzma_stream *s = &d->lzs;
    s->avail_out = 0;
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
        s->next_out = (uint8_t *)out.data + out.len;
        s->avail_out = room;
        lzma_ret ret = lzma_code(s, LZMA_RUN);
        out.len += room - s->avail_out;
        if (ret == LZMA_BUF_ERROR && s->avail_in == 0 && s->avail_out > 0) {
            ret = LZMA_OK; /* no progress possible without more input */
        }
        if (lzma_error(ret) < 0) {
            natives_buf_free(&out);
            return NULL;
        }
        if (ret == LZMA_GET_CHECK || ret == LZMA_NO_CHECK) {
            d->check = lzma_get_check(s);
        }
        if (ret == LZMA_STREAM_END) {
            d->eof = 1;
            break;
        }
        if (s->avail_out != 0 && s->avail_in == 0) {
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
        PyErr_SetString(PyExc_EOFError, "Already at end of stream");
        return NULL;
    }
    char *in;
    size_t in_len;
    if (natives_input(&d->pending, &d->pending_len, &data, &in, &in_len) < 0) {
        PyBuffer_Release(&data);
        return NULL;
    }
    d->lzs.next_in = (const uint8_t *)in;
    d->lzs.avail_in = in_len;
    PyObject *result = decode_buf(d, max_length);
    size_t rest = d->lzs.avail_in;
    const char *rest_at = (const char *)d->lzs.next_in;
    result = natives_settle(result, d->eof, &d->needs_input, &d->unused_data, &d->pending,
                            &d->pending_len, rest_at, rest, d->lzs.avail_out != 0);
    d->lzs.next_in = NULL;
    d->lzs.avail_in = 0;
    PyBuffer_Release(&data);
    return result;
}

static PyObject *decompressor_get_check(Decompressor *d, void *Py_UNUSED(closure)) {
    return PyLong_FromLong(d->check);
}

NATIVES_DECOMPRESSOR_GETTERS(Decompressor)

static PyGetSetDef decompressor_getset[] = {
    {"check", (getter)decompressor_get_check, NULL,
     "ID of the integrity check used by the input stream.", NULL},
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
     "Decompress *data*, returning uncompressed data as bytes (at most *max_length*\n"
     "bytes when it is nonnegative)."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot decompressor_slots[] = {
    {Py_tp_new, decompressor_new},
    {Py_tp_dealloc, decompressor_dealloc},
    {Py_tp_methods, decompressor_methods},
    {Py_tp_getset, decompressor_getset},
    {Py_tp_doc, "LZMADecompressor(format=FORMAT_AUTO, memlimit=None, filters=None)\n\n"
                "Create a decompressor object for decompressing data incrementally."},
    {0, NULL},
};

static PyType_Spec decompressor_spec = {
    .name = "_lzma.LZMADecompressor",
    .basicsize = sizeof(Decompressor),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = decompressor_slots,
};

/* ---- module functions --------------------------------------------------- */

static PyObject *is_check_supported(PyObject *Py_UNUSED(m), PyObject *arg) {
    int id = PyLong_AsInt(arg);
    if (id == -1 && PyErr_Occurred()) {
        return NULL;
    }
    return PyBool_FromLong(lzma_check_is_supported((lzma_check)id));
}

static PyObject *encode_filter_properties(PyObject *Py_UNUSED(m), PyObject *spec) {
    lzma_filter f = {LZMA_VLI_UNKNOWN, NULL};
    if (parse_filter_spec(spec, &f) < 0) {
        PyMem_Free(f.options);
        return NULL;
    }
    uint32_t size;
    PyObject *result = NULL;
    if (lzma_error(lzma_properties_size(&size, &f)) == 0) {
        result = PyBytes_FromStringAndSize(NULL, size);
        if (result != NULL &&
            lzma_error(lzma_properties_encode(&f, (uint8_t *)PyBytes_AS_STRING(result))) < 0) {
            Py_CLEAR(result);
        }
    }
    PyMem_Free(f.options);
    return result;
}

static PyObject *decode_filter_properties(PyObject *Py_UNUSED(m), PyObject *args) {
    unsigned long long id;
    Py_buffer props;
    if (!PyArg_ParseTuple(args, "Ky*:_decode_filter_properties", &id, &props)) {
        return NULL;
    }
    lzma_filter f = {id, NULL};
    lzma_ret ret = lzma_properties_decode(&f, NULL, props.buf, (size_t)props.len);
    PyBuffer_Release(&props);
    if (lzma_error(ret) < 0) {
        return NULL;
    }
    PyObject *spec = build_filter_spec(&f);
    free(f.options); /* liblzma allocated it with malloc (no allocator given) */
    return spec;
}

static PyMethodDef lzma_methods[] = {
    {"is_check_supported", is_check_supported, METH_O,
     "is_check_supported($module, check_id, /)\n--\n\n"
     "Test whether the given integrity check is supported."},
    {"_encode_filter_properties", encode_filter_properties, METH_O,
     "Return a bytes object encoding the options (properties) of the filter."},
    {"_decode_filter_properties", decode_filter_properties, METH_VARARGS,
     "Return a bytes object encoding the options (properties) of the filter."},
    {NULL, NULL, 0, NULL},
};

static int add_int(PyObject *m, const char *name, long long value) {
    PyObject *v = PyLong_FromLongLong(value);
    int r = v == NULL ? -1 : PyModule_AddObjectRef(m, name, v);
    Py_XDECREF(v);
    return r;
}

static int lzma_exec(PyObject *m) {
    static const struct {
        const char *name;
        long long value;
    } ints[] = {
        {"FORMAT_AUTO", FORMAT_AUTO},
        {"FORMAT_XZ", FORMAT_XZ},
        {"FORMAT_ALONE", FORMAT_ALONE},
        {"FORMAT_RAW", FORMAT_RAW},
        {"CHECK_NONE", LZMA_CHECK_NONE},
        {"CHECK_CRC32", LZMA_CHECK_CRC32},
        {"CHECK_CRC64", LZMA_CHECK_CRC64},
        {"CHECK_SHA256", LZMA_CHECK_SHA256},
        {"CHECK_ID_MAX", LZMA_CHECK_ID_MAX},
        {"CHECK_UNKNOWN", LZMA_CHECK_UNKNOWN},
        {"FILTER_LZMA1", (long long)LZMA_FILTER_LZMA1},
        {"FILTER_LZMA2", LZMA_FILTER_LZMA2},
        {"FILTER_DELTA", LZMA_FILTER_DELTA},
        {"FILTER_X86", LZMA_FILTER_X86},
        {"FILTER_POWERPC", LZMA_FILTER_POWERPC},
        {"FILTER_IA64", LZMA_FILTER_IA64},
        {"FILTER_ARM", LZMA_FILTER_ARM},
        {"FILTER_ARMTHUMB", LZMA_FILTER_ARMTHUMB},
        {"FILTER_SPARC", LZMA_FILTER_SPARC},
        {"MF_HC3", LZMA_MF_HC3},
        {"MF_HC4", LZMA_MF_HC4},
        {"MF_BT2", LZMA_MF_BT2},
        {"MF_BT3", LZMA_MF_BT3},
        {"MF_BT4", LZMA_MF_BT4},
        {"MODE_FAST", LZMA_MODE_FAST},
        {"MODE_NORMAL", LZMA_MODE_NORMAL},
        {"PRESET_DEFAULT", LZMA_PRESET_DEFAULT},
        {"PRESET_EXTREME", (long long)LZMA_PRESET_EXTREME},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if (add_int(m, ints[i].name, ints[i].value) < 0) {
            return -1;
        }
    }
    LZMAError = PyErr_NewExceptionWithDoc("_lzma.LZMAError", "Call to liblzma failed.", NULL, NULL);
    if (LZMAError == NULL || PyModule_AddObjectRef(m, "LZMAError", LZMAError) < 0) {
        return -1;
    }
    if (natives_add_type(m, &compressor_spec, "LZMACompressor") < 0 ||
        natives_add_type(m, &decompressor_spec, "LZMADecompressor") < 0) {
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot lzma_slots[] = {
    {Py_mod_exec, lzma_exec},
    {0, NULL},
};

static struct PyModuleDef lzma_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_lzma",
    .m_doc = "xz/lzma compression (the eryx sandbox's build over liblzma 5.2).",
    .m_size = 0,
    .m_methods = lzma_methods,
    .m_slots = lzma_slots,
};

PyObject *PyInit__lzma(void) {
    return PyModuleDef_Init(&lzma_module);
}
