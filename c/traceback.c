/* `eryx._tb_runs`: the one pass over a traceback chain that error
 * formatting needs (guest/_eryx_runtime.py format_exception). A 10^6-deep
 * recursion leaves a 10^6-node chain; walking it from Python costs about a
 * second, here it is a pointer chase. Nothing is formatted: the caller
 * formats only the frames kept. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Line of a traceback entry (tb_lineno is computed lazily, -1 until then). */
static int tb_line(PyTracebackObject *tb, PyCodeObject *code) {
    if (tb->tb_lineno >= 0) {
        return tb->tb_lineno;
    }
    return tb->tb_lasti < 0 ? -1 : PyCode_Addr2Line(code, tb->tb_lasti);
}

/* _tb_runs(tb, cutoff, own_prefix) -> (kept, repeats)
 *
 * kept: the entries of the chain a user sees, in order: frames whose file
 * name does not start with own_prefix, and of each run of one repeated
 * line (same code, same line) only the first `cutoff` entries.
 * repeats: {index in kept of a run's last kept entry: entries left out}. */
PyObject *eryx_tb_runs(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *tb;
    int cutoff;
    PyObject *prefix;
    if (!PyArg_ParseTuple(args, "OiU:_tb_runs", &tb, &cutoff, &prefix)) {
        return NULL;
    }
    PyObject *kept = PyList_New(0);
    PyObject *repeats = PyDict_New();
    if (kept == NULL || repeats == NULL) {
        goto fail;
    }
    PyCodeObject *seen_code = NULL; /* cache of the own-prefix test */
    int seen_own = 0;
    PyCodeObject *last_code = NULL;
    int last_line = -2;
    Py_ssize_t run = 0;
    while (tb != NULL && PyTraceBack_Check(tb)) {
        PyTracebackObject *entry = (PyTracebackObject *)tb;
        /* The frame keeps its code alive: pointers stay valid below. */
        PyCodeObject *code = PyFrame_GetCode(entry->tb_frame);
        Py_DECREF(code);
        if (code != seen_code) {
            Py_ssize_t m = PyUnicode_Tailmatch(code->co_filename, prefix, 0,
                                               PY_SSIZE_T_MAX, -1);
            if (m < 0) {
                goto fail;
            }
            seen_code = code;
            seen_own = (int)m;
        }
        if (!seen_own) {
            int line = tb_line(entry, code);
            if (code == last_code && line == last_line) {
                run++;
            } else {
                last_code = code;
                last_line = line;
                run = 1;
            }
            if (run <= cutoff) {
                if (PyList_Append(kept, tb) < 0) {
                    goto fail;
                }
            } else {
                PyObject *key = PyLong_FromSsize_t(PyList_GET_SIZE(kept) - 1);
                PyObject *value = PyLong_FromSsize_t(run - cutoff);
                int rc = (key && value) ? PyDict_SetItem(repeats, key, value) : -1;
                Py_XDECREF(key);
                Py_XDECREF(value);
                if (rc < 0) {
                    goto fail;
                }
            }
        }
        tb = (PyObject *)entry->tb_next;
    }
    return Py_BuildValue("(NN)", kept, repeats);
fail:
    Py_XDECREF(kept);
    Py_XDECREF(repeats);
    return NULL;
}
