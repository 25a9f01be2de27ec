/* `_lzma` filter specifications: CPython's dicts ({"id": FILTER_LZMA2,
 * "preset": 6, "dict_size": ...}) to and from liblzma's lzma_filter chains.
 * Part of the builtin `_lzma` module (lzmamodule.c). */
#include "lzma_filters.h"

/* ---- filter specs ------------------------------------------------------- */

/* Read an optional unsigned dict entry into *out (untouched when absent). */
static int spec_u32(PyObject *spec, const char *key, uint32_t *out) {
    PyObject *v;
    if (PyDict_GetItemStringRef(spec, key, &v) < 0) {
        return -1;
    }
    if (v == NULL) {
        return 0;
    }
    /* As CPython's _lzma: ValueError when negative, OverflowError when too big. */
    int r = PyLong_AsUInt32(v, out);
    Py_DECREF(v);
    return r;
}

static const char *const lzma_keys[] = {"id",   "preset",   "dict_size", "lc", "lp",
                                        "pb",   "mode",     "nice_len",  "mf", "depth",
                                        NULL};
static const char *const delta_keys[] = {"id", "dist", NULL};
static const char *const bcj_keys[] = {"id", "start_offset", NULL};

/* ValueError naming the filter (`what`) if spec has a key not in `keys`. */
static int only_keys(PyObject *spec, const char *const keys[], const char *what) {
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(spec, &pos, &key, &value)) {
        int known = 0;
        for (int i = 0; keys[i] != NULL && !known; i++) {
            known = PyUnicode_Check(key) && PyUnicode_CompareWithASCIIString(key, keys[i]) == 0;
        }
        if (!known) {
            PyErr_Format(PyExc_ValueError, "Invalid filter specifier for %s filter", what);
            return -1;
        }
    }
    return 0;
}

/* One filter-spec dict -> lzma_filter (options allocated with PyMem). */
int parse_filter_spec(PyObject *spec, lzma_filter *f) {
    if (!PyMapping_Check(spec) || !PyDict_Check(spec)) {
        PyErr_SetString(PyExc_TypeError, "Filter specifier must be a dict or dict-like object");
        return -1;
    }
    PyObject *id_obj;
    if (PyDict_GetItemStringRef(spec, "id", &id_obj) <= 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "Filter specifier must have an \"id\" entry");
        }
        return -1;
    }
    unsigned long long id = PyLong_AsUnsignedLongLong(id_obj);
    Py_DECREF(id_obj);
    if (id == (unsigned long long)-1 && PyErr_Occurred()) {
        return -1;
    }
    f->id = id;
    if (id == LZMA_FILTER_LZMA1 || id == LZMA_FILTER_LZMA2) {
        if (only_keys(spec, lzma_keys, "LZMA") < 0) {
            return -1;
        }
        uint32_t preset = LZMA_PRESET_DEFAULT;
        if (spec_u32(spec, "preset", &preset) < 0) {
            return -1;
        }
        lzma_options_lzma *o = PyMem_Calloc(1, sizeof *o);
        if (o == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        f->options = o;
        if (lzma_lzma_preset(o, preset)) {
            PyErr_Format(eryx_lzma_error, "Invalid compression preset: %u", preset);
            return -1;
        }
        uint32_t mode = o->mode, mf = o->mf;
        if (spec_u32(spec, "dict_size", &o->dict_size) < 0 || spec_u32(spec, "lc", &o->lc) < 0 ||
            spec_u32(spec, "lp", &o->lp) < 0 || spec_u32(spec, "pb", &o->pb) < 0 ||
            spec_u32(spec, "mode", &mode) < 0 || spec_u32(spec, "nice_len", &o->nice_len) < 0 ||
            spec_u32(spec, "mf", &mf) < 0 || spec_u32(spec, "depth", &o->depth) < 0) {
            return -1;
        }
        o->mode = (lzma_mode)mode;
        o->mf = (lzma_match_finder)mf;
        return 0;
    }
    if (id == LZMA_FILTER_DELTA) {
        if (only_keys(spec, delta_keys, "delta") < 0) {
            return -1;
        }
        lzma_options_delta *o = PyMem_Calloc(1, sizeof *o);
        if (o == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        f->options = o;
        o->type = LZMA_DELTA_TYPE_BYTE;
        o->dist = 1;
        return spec_u32(spec, "dist", &o->dist);
    }
    if (id == LZMA_FILTER_X86 || id == LZMA_FILTER_POWERPC || id == LZMA_FILTER_IA64 ||
        id == LZMA_FILTER_ARM || id == LZMA_FILTER_ARMTHUMB || id == LZMA_FILTER_SPARC) {
        if (only_keys(spec, bcj_keys, "BCJ") < 0) {
            return -1;
        }
        lzma_options_bcj *o = PyMem_Calloc(1, sizeof *o);
        if (o == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        f->options = o;
        return spec_u32(spec, "start_offset", &o->start_offset);
    }
    PyErr_Format(PyExc_ValueError, "Invalid filter ID: %llu", id);
    return -1;
}

void free_filter_chain(lzma_filter filters[]) {
    for (int i = 0; filters[i].id != LZMA_VLI_UNKNOWN; i++) {
        PyMem_Free(filters[i].options);
    }
}

/* A sequence of filter-spec dicts -> a LZMA_VLI_UNKNOWN-terminated chain. */
int parse_filter_chain(PyObject *seq, lzma_filter filters[]) {
    Py_ssize_t n = PySequence_Length(seq);
    if (n < 0) {
        return -1;
    }
    if (n > LZMA_FILTERS_MAX) {
        PyErr_Format(PyExc_ValueError, "Too many filters - liblzma supports a maximum of %d",
                     LZMA_FILTERS_MAX);
        return -1;
    }
    for (Py_ssize_t i = 0; i <= n; i++) {
        filters[i].id = LZMA_VLI_UNKNOWN;
        filters[i].options = NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *spec = PySequence_GetItem(seq, i);
        int r = spec == NULL ? -1 : parse_filter_spec(spec, &filters[i]);
        Py_XDECREF(spec);
        if (r < 0) {
            if (filters[i].id != LZMA_VLI_UNKNOWN && filters[i].options == NULL) {
                filters[i].id = LZMA_VLI_UNKNOWN;
            }
            filters[i + 1].id = LZMA_VLI_UNKNOWN;
            free_filter_chain(filters);
            return -1;
        }
    }
    return 0;
}

/* Add `name: value` (a uint32) to dict d. */
static int spec_add(PyObject *d, const char *name, unsigned long long value) {
    PyObject *v = PyLong_FromUnsignedLongLong(value);
    if (v == NULL) {
        return -1;
    }
    int r = PyDict_SetItemString(d, name, v);
    Py_DECREF(v);
    return r;
}

/* lzma_filter -> filter-spec dict (for _decode_filter_properties). */
PyObject *build_filter_spec(const lzma_filter *f) {
    PyObject *d = PyDict_New();
    if (d == NULL || spec_add(d, "id", f->id) < 0) {
        Py_XDECREF(d);
        return NULL;
    }
    int r = 0;
    if (f->id == LZMA_FILTER_LZMA1 || f->id == LZMA_FILTER_LZMA2) {
        const lzma_options_lzma *o = f->options;
        if (f->id == LZMA_FILTER_LZMA1) {
            r = spec_add(d, "lc", o->lc) < 0 || spec_add(d, "lp", o->lp) < 0 ||
                spec_add(d, "pb", o->pb) < 0;
        }
        r = r || spec_add(d, "dict_size", o->dict_size) < 0;
    } else if (f->id == LZMA_FILTER_DELTA) {
        r = spec_add(d, "dist", ((const lzma_options_delta *)f->options)->dist) < 0;
    } else if (f->options != NULL) {
        r = spec_add(d, "start_offset", ((const lzma_options_bcj *)f->options)->start_offset) < 0;
    }
    if (r) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

