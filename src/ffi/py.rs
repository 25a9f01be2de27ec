//! RAII owners for CPython objects and the small safe API the runtime uses.
//! `PyObj` owns one strong reference (dropped with `Py_DecRef`); `PyErr`
//! owns a raised exception taken with `PyErr_GetRaisedException`. No other
//! module touches raw `PyObject` pointers.

use super::sys::python as sys;
use std::ffi::{c_char, CString};
use std::ptr::NonNull;

/// An owned (strong) reference to a Python object.
pub struct PyObj(NonNull<sys::PyObject>);

/// The contents of a Python `bytes` object, borrowed for as long as this
/// holds a reference to it (bytes are immutable, so they never move).
#[derive(Clone)]
pub struct HeldBytes {
    _obj: PyObj,
    ptr: *const u8,
    len: usize,
}

impl HeldBytes {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: the buffer of the bytes object `_obj` keeps alive.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl std::fmt::Debug for HeldBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HeldBytes({} bytes)", self.len)
    }
}

impl PartialEq for HeldBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

/// A Python exception taken out of the interpreter's error indicator.
pub struct PyErr(pub PyObj);

/// Result of a CPython call.
pub type PyResult<T> = Result<T, PyErr>;

impl Drop for PyObj {
    fn drop(&mut self) {
        // SAFETY: we own one strong reference.
        unsafe { sys::Py_DecRef(self.0.as_ptr()) }
    }
}

impl Clone for PyObj {
    fn clone(&self) -> Self {
        // SAFETY: the pointer is a live object; we take a new reference.
        unsafe { sys::Py_IncRef(self.0.as_ptr()) };
        PyObj(self.0)
    }
}

impl PyErr {
    /// Take the currently raised exception (or a RuntimeError if none is set).
    fn fetch() -> PyErr {
        // SAFETY: plain C API calls; the returned reference is new.
        unsafe {
            let exc = sys::PyErr_GetRaisedException();
            match NonNull::new(exc) {
                Some(p) => PyErr(PyObj(p)),
                None => {
                    sys::PyErr_SetString(
                        sys::PyExc_RuntimeError,
                        c"eryx runtime: C API call failed without an exception".as_ptr(),
                    );
                    PyErr(PyObj(
                        NonNull::new(sys::PyErr_GetRaisedException()).unwrap(),
                    ))
                }
            }
        }
    }

    /// Whether this exception is an instance of `SystemExit`.
    pub fn is_system_exit(&self) -> bool {
        // SAFETY: both are live objects.
        unsafe { sys::PyErr_GivenExceptionMatches(self.0.as_ptr(), sys::PyExc_SystemExit) != 0 }
    }
}

/// Wrap a new reference; NULL means an exception is set.
fn owned(ptr: *mut sys::PyObject) -> PyResult<PyObj> {
    NonNull::new(ptr).map(PyObj).ok_or_else(PyErr::fetch)
}

fn cstring(s: &str) -> PyResult<CString> {
    CString::new(s).map_err(|_| value_error("embedded NUL character in string"))
}

fn value_error(msg: &str) -> PyErr {
    let m = CString::new(msg).unwrap_or_default();
    // SAFETY: sets the error indicator, then takes it.
    unsafe { sys::PyErr_SetString(sys::PyExc_ValueError, m.as_ptr()) };
    PyErr::fetch()
}

impl PyObj {
    fn as_ptr(&self) -> *mut sys::PyObject {
        self.0.as_ptr()
    }

    /// A new `str`.
    pub fn str(s: &str) -> PyResult<PyObj> {
        // SAFETY: pointer/len describe valid UTF-8.
        owned(unsafe {
            sys::PyUnicode_FromStringAndSize(s.as_ptr() as *const c_char, s.len() as isize)
        })
    }

    /// A new `bytes`.
    pub fn bytes(b: &[u8]) -> PyResult<PyObj> {
        // SAFETY: pointer/len describe valid memory.
        owned(unsafe {
            sys::PyBytes_FromStringAndSize(b.as_ptr() as *const c_char, b.len() as isize)
        })
    }

    /// A new empty `dict`.
    pub fn dict() -> PyResult<PyObj> {
        // SAFETY: plain constructor.
        owned(unsafe { sys::PyDict_New() })
    }

    /// A new `list` of `str`.
    pub fn str_list(items: &[String]) -> PyResult<PyObj> {
        // SAFETY: plain constructor.
        let list = owned(unsafe { sys::PyList_New(0) })?;
        for item in items {
            let s = PyObj::str(item)?;
            // SAFETY: live objects; the list takes its own reference.
            if unsafe { sys::PyList_Append(list.as_ptr(), s.as_ptr()) } < 0 {
                return Err(PyErr::fetch());
            }
        }
        Ok(list)
    }

    /// A new `int`.
    pub fn int(v: i64) -> PyResult<PyObj> {
        // SAFETY: plain constructor.
        owned(unsafe { sys::PyLong_FromLongLong(v) })
    }

    /// `True` or `False`.
    pub fn bool(v: bool) -> PyObj {
        let which = if v {
            sys::Py_CONSTANT_TRUE
        } else {
            sys::Py_CONSTANT_FALSE
        };
        // SAFETY: Py_GetConstant returns a new (immortal) reference.
        owned(unsafe { sys::Py_GetConstant(which) }).unwrap_or_else(|_| unreachable!())
    }

    /// Truth value (`bool(self)`); errors count as false.
    pub fn is_true(&self) -> bool {
        // SAFETY: live object.
        match unsafe { sys::PyObject_IsTrue(self.as_ptr()) } {
            1 => true,
            0 => false,
            _ => {
                drop(PyErr::fetch());
                false
            }
        }
    }

    /// `import name`.
    pub fn import(name: &str) -> PyResult<PyObj> {
        let n = cstring(name)?;
        // SAFETY: valid C string.
        owned(unsafe { sys::PyImport_ImportModule(n.as_ptr()) })
    }

    /// Compile `source` (as file `filename`) and execute it as module `name`.
    pub fn module_from_source(name: &str, filename: &str, source: &str) -> PyResult<PyObj> {
        let (n, f, s) = (cstring(name)?, cstring(filename)?, cstring(source)?);
        // SAFETY: valid C strings; the code object is owned then dropped.
        unsafe {
            let code = owned(sys::Py_CompileString(
                s.as_ptr(),
                f.as_ptr(),
                sys::Py_file_input as i32,
            ))?;
            owned(sys::PyImport_ExecCodeModuleEx(
                n.as_ptr(),
                code.as_ptr(),
                f.as_ptr(),
            ))
        }
    }

    /// `self.name`.
    pub fn getattr(&self, name: &str) -> PyResult<PyObj> {
        let n = cstring(name)?;
        // SAFETY: live object, valid C string.
        owned(unsafe { sys::PyObject_GetAttrString(self.as_ptr(), n.as_ptr()) })
    }

    /// `self[key] = value` for a dict.
    pub fn set_item(&self, key: &str, value: &PyObj) -> PyResult<()> {
        let k = cstring(key)?;
        // SAFETY: live objects; the dict takes its own references.
        let rc = unsafe { sys::PyDict_SetItemString(self.as_ptr(), k.as_ptr(), value.as_ptr()) };
        if rc < 0 {
            Err(PyErr::fetch())
        } else {
            Ok(())
        }
    }

    /// `self(*args)`.
    pub fn call(&self, args: &[&PyObj]) -> PyResult<PyObj> {
        let ptrs: Vec<*mut sys::PyObject> = args.iter().map(|a| a.as_ptr()).collect();
        // SAFETY: a vector of live borrowed references.
        owned(unsafe {
            sys::PyObject_Vectorcall(
                self.as_ptr(),
                ptrs.as_ptr(),
                ptrs.len(),
                std::ptr::null_mut(),
            )
        })
    }

    /// `self[i]` for a tuple.
    pub fn tuple_item(&self, i: isize) -> PyResult<PyObj> {
        // SAFETY: PyTuple_GetItem returns a borrowed reference; take our own.
        unsafe {
            let p = sys::PyTuple_GetItem(self.as_ptr(), i);
            let o = owned(p)?;
            sys::Py_IncRef(p);
            Ok(o)
        }
    }

    /// `str(self)`.
    pub fn str_of(&self) -> PyResult<String> {
        // SAFETY: live object; PyObject_Str returns a new reference.
        owned(unsafe { sys::PyObject_Str(self.as_ptr()) })?.to_string_lossless()
    }

    /// Whether this is `None`.
    pub fn is_none(&self) -> bool {
        // SAFETY: identity check on live objects.
        unsafe { sys::Py_IsNone(self.as_ptr()) != 0 }
    }

    /// The UTF-8 contents of a `str`.
    pub fn to_string_lossless(&self) -> PyResult<String> {
        let mut len: isize = 0;
        // SAFETY: the buffer is owned by the str and valid while self lives.
        unsafe {
            let p = sys::PyUnicode_AsUTF8AndSize(self.as_ptr(), &mut len);
            if p.is_null() {
                return Err(PyErr::fetch());
            }
            let bytes = std::slice::from_raw_parts(p as *const u8, len as usize);
            Ok(String::from_utf8_lossy(bytes).into_owned())
        }
    }

    /// A `bytes` object held so its contents can be lent without a copy.
    pub fn into_held_bytes(self) -> PyResult<HeldBytes> {
        let mut p: *mut c_char = std::ptr::null_mut();
        let mut len: isize = 0;
        // SAFETY: live object; the buffer belongs to it.
        if unsafe { sys::PyBytes_AsStringAndSize(self.as_ptr(), &mut p, &mut len) } < 0 {
            return Err(PyErr::fetch());
        }
        Ok(HeldBytes {
            _obj: self,
            ptr: p as *const u8,
            len: len as usize,
        })
    }

    /// An `int` as i64.
    pub fn to_i64(&self) -> PyResult<i64> {
        // SAFETY: live object.
        let v = unsafe { sys::PyLong_AsLongLong(self.as_ptr()) };
        // SAFETY: checks the error indicator.
        if v == -1 && unsafe { !sys::PyErr_Occurred().is_null() } {
            return Err(PyErr::fetch());
        }
        Ok(v)
    }
}

extern "C" {
    fn PyInit_eryx() -> *mut sys::PyObject;
    // Builtin stdlib modules this CPython build lacks (c/natives/).
    fn PyInit__bz2() -> *mut sys::PyObject;
    fn PyInit__lzma() -> *mut sys::PyObject;
}

/// A builtin module's init function.
type InitFn = unsafe extern "C" fn() -> *mut sys::PyObject;

/// Builtin modules added to the inittab before CPython starts.
const BUILTINS: &[(&std::ffi::CStr, InitFn)] = &[
    (c"eryx", PyInit_eryx),
    (c"_bz2", PyInit__bz2),
    (c"_lzma", PyInit__lzma),
];

fn wide(s: &str) -> Vec<sys::wchar_t> {
    s.chars()
        .map(|c| c as sys::wchar_t)
        .chain(std::iter::once(0))
        .collect()
}

fn check(status: sys::PyStatus, what: &str) -> Result<(), String> {
    // SAFETY: inspects a status value returned by the C API.
    if unsafe { sys::PyStatus_Exception(status) } != 0 {
        let msg = if status.err_msg.is_null() {
            String::new()
        } else {
            // SAFETY: NUL-terminated static message.
            unsafe { std::ffi::CStr::from_ptr(status.err_msg) }
                .to_string_lossy()
                .into_owned()
        };
        return Err(format!("{what}: {msg}"));
    }
    Ok(())
}

/// Initialise CPython (isolated config, installation prefix `home`, stdlib
/// at `stdlib`, packages at `crate::PACKAGES_GUEST_PATH`, the `eryx` module
/// on the inittab). Idempotent.
pub fn initialize(home: &str, stdlib: &str) -> Result<(), String> {
    // SAFETY: standard embedding sequence on a single thread; the config is
    // cleared on every path.
    unsafe {
        if sys::Py_IsInitialized() != 0 {
            return Ok(());
        }
        super::alloc::install();
        for (name, init) in BUILTINS {
            if sys::PyImport_AppendInittab(name.as_ptr(), Some(*init)) < 0 {
                return Err(format!("PyImport_AppendInittab({name:?}) failed"));
            }
        }
        // UTF-8 mode (PEP 540): the isolated pre-config leaves the C locale
        // as is, whose codeset is ASCII here (no LANG in the guest), so
        // `open()` and file names would be ASCII; CPython under a UTF-8
        // locale (and python.wasm, which sets the locale) uses UTF-8.
        let mut pre: sys::PyPreConfig = std::mem::zeroed();
        sys::PyPreConfig_InitIsolatedConfig(&mut pre);
        pre.utf8_mode = 1;
        check(sys::Py_PreInitialize(&pre), "Py_PreInitialize")?;
        let mut config: sys::PyConfig = std::mem::zeroed();
        sys::PyConfig_InitIsolatedConfig(&mut config);
        config.install_signal_handlers = 0;
        config.write_bytecode = 0;
        config.site_import = 0;
        config.user_site_directory = 0;
        config.buffered_stdio = 0;
        let home = wide(home);
        let stdlib = wide(stdlib);
        let result = (|| {
            check(
                sys::PyConfig_SetString(&mut config, &mut config.home, home.as_ptr()),
                "PyConfig home",
            )?;
            // Given, not derived: with `home` set, getpath finds no stdlib
            // directory (sys._stdlib_dir would be None) unless told.
            check(
                sys::PyConfig_SetString(&mut config, &mut config.stdlib_dir, stdlib.as_ptr()),
                "PyConfig stdlib_dir",
            )?;
            config.module_search_paths_set = 1;
            check(
                sys::PyWideStringList_Append(&mut config.module_search_paths, stdlib.as_ptr()),
                "PyConfig module_search_paths",
            )?;
            // Packages after the stdlib, like site-packages (may be absent).
            let packages = wide(crate::PACKAGES_GUEST_PATH);
            check(
                sys::PyWideStringList_Append(&mut config.module_search_paths, packages.as_ptr()),
                "PyConfig module_search_paths (packages)",
            )?;
            check(
                sys::Py_InitializeFromConfig(&config),
                "Py_InitializeFromConfig",
            )
        })();
        sys::PyConfig_Clear(&mut config);
        if result.is_ok() {
            super::trashcan::install();
        }
        result
    }
}
