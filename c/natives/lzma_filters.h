/* Shared between the `_lzma` sources (c/natives/lzmamodule.c, lzma_filters.c). */
#ifndef ERYX_LZMA_FILTERS_H
#define ERYX_LZMA_FILTERS_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <lzma.h>

/* _lzma.LZMAError (created by the module's exec). */
extern PyObject *eryx_lzma_error;

/* One filter-spec dict -> lzma_filter (options allocated with PyMem). */
int parse_filter_spec(PyObject *spec, lzma_filter *f);
/* A sequence of filter-spec dicts -> a LZMA_VLI_UNKNOWN-terminated chain. */
int parse_filter_chain(PyObject *seq, lzma_filter filters[]);
/* Free the options of a chain made by parse_filter_chain. */
void free_filter_chain(lzma_filter filters[]);
/* lzma_filter -> filter-spec dict (for _decode_filter_properties). */
PyObject *build_filter_spec(const lzma_filter *f);

#endif
