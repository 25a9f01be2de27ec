//! The `Sandbox(...)` constructor arguments, checked and mapped onto an
//! `eryx::SandboxBuilder`. Bad values raise `TypeError` / `ValueError`
//! naming the argument.
use crate::callbacks::{self, PyCallback};
use crate::ops::LoopSlot;
use eryx::SandboxBuilder;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyMapping, PyString};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

/// Default wall-clock limit per call, in seconds.
pub const DEFAULT_TIMEOUT: f64 = 5.0;
/// Default cap on guest memory, in bytes.
pub const DEFAULT_MAX_MEMORY: usize = 256 << 20;

/// The limits a `Sandbox()` gets by default (also used by the benchmark
/// hook, so both sides measure the same configuration).
pub fn defaults(b: SandboxBuilder) -> SandboxBuilder {
    b.timeout(Duration::from_secs_f64(DEFAULT_TIMEOUT))
        .max_memory(DEFAULT_MAX_MEMORY)
}

/// The constructor's arguments as given.
pub struct Options<'py> {
    pub timeout: Option<f64>,
    pub max_memory: Option<i64>,
    pub mounts: Option<Bound<'py, PyAny>>,
    pub packages: Option<Bound<'py, PyAny>>,
    pub preimport: Option<Bound<'py, PyAny>>,
    pub requirements: Option<Bound<'py, PyAny>>,
    pub allow_hosts: Option<Bound<'py, PyAny>>,
    pub callbacks: Option<Bound<'py, PyAny>>,
    pub on_output: Option<Bound<'py, PyAny>>,
    pub on_display: Option<Bound<'py, PyAny>>,
    pub fuel: Option<i64>,
    pub max_output: Option<i64>,
    pub capture_limit: Option<i64>,
    pub callback_timeout: Option<f64>,
    pub max_callback_invocations: Option<i64>,
    pub keep_state_on_fault: bool,
    /// Bytes; `None`: the library's default (see `checkpoint_budget`).
    pub checkpoint_budget: Option<i64>,
    pub progress: bool,
    pub interruptible: bool,
    pub exact: bool,
}

fn seconds(name: &str, v: f64) -> PyResult<Duration> {
    if !(v.is_finite() && v > 0.0) {
        return Err(PyValueError::new_err(format!(
            "{name} must be a positive number of seconds or None, got {v}"
        )));
    }
    Ok(Duration::from_secs_f64(v))
}

fn positive(name: &str, v: i64) -> PyResult<u64> {
    if v <= 0 {
        return Err(PyValueError::new_err(format!(
            "{name} must be a positive integer or None, got {v}"
        )));
    }
    Ok(v as u64)
}

/// A list of strings (`what` names one, for the error).
fn strings(name: &str, what: &str, v: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    items(name, v)?
        .iter()
        .enumerate()
        .map(|(i, m)| {
            m.extract::<String>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "{name}[{i}] must be {what} (str), not {}",
                    type_name(m)
                ))
            })
        })
        .collect()
}

/// Iterate a sequence argument, refusing a lone string (a common slip:
/// `packages="x"` would otherwise mean `["x"]` one letter at a time).
fn items<'py>(name: &str, v: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if v.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "{name} must be a list, not a single string"
        )));
    }
    let iter = v.try_iter().map_err(|_| {
        PyTypeError::new_err(format!("{name} must be a list, not {}", type_name(v)))
    })?;
    iter.collect()
}

pub fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

fn path(name: &str, v: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    v.extract::<PathBuf>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{name} must be a str or os.PathLike path, not {}",
            type_name(v)
        ))
    })
}

/// `(host_path, guest_path)` or `(host_path, guest_path, writable)`.
fn mount(i: usize, m: &Bound<'_, PyAny>) -> PyResult<(PathBuf, String, bool)> {
    let bad = || {
        PyTypeError::new_err(format!(
            "mounts[{i}] must be (host_path, guest_path) or (host_path, guest_path, writable), not {}",
            type_name(m)
        ))
    };
    if m.is_instance_of::<PyString>() {
        return Err(bad());
    }
    let parts: Vec<Bound<'_, PyAny>> = m.try_iter().map_err(|_| bad())?.collect::<PyResult<_>>()?;
    if !(2..=3).contains(&parts.len()) {
        return Err(bad());
    }
    let host = path(&format!("mounts[{i}][0]"), &parts[0])?;
    let guest: String = parts[1].extract().map_err(|_| bad())?;
    if !guest.starts_with('/') {
        return Err(PyValueError::new_err(format!(
            "mounts[{i}]: the guest path must be absolute, got {guest:?}"
        )));
    }
    let writable = match parts.get(2) {
        Some(w) => w.extract::<bool>().map_err(|_| bad())?,
        None => false,
    };
    Ok((host, guest, writable))
}

/// The callbacks argument: a mapping `{name: callable}` or a list of
/// callables (named by `@eryx.callback` or their `__name__`).
fn callback_list(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<Vec<PyCallback>> {
    let pairs: Vec<(String, Bound<'_, PyAny>)> = if let Ok(map) = v.cast::<PyMapping>() {
        let mut out = Vec::new();
        for item in map.items()?.iter() {
            let (k, f): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
            let name: String = k.extract().map_err(|_| {
                PyTypeError::new_err(format!("callback names must be str, not {}", type_name(&k)))
            })?;
            out.push((name, f));
        }
        out
    } else {
        let mut out = Vec::new();
        for f in items("callbacks", v)? {
            let name = match f.getattr_opt("__eryx_callback__")? {
                Some(n) => n.extract::<String>()?,
                None => match f.getattr_opt("__name__")? {
                    Some(n) => n.extract::<String>()?,
                    None => {
                        return Err(PyTypeError::new_err(format!(
                            "callbacks: {} has no name; pass {{name: callable}} instead",
                            f.repr()?
                        )))
                    }
                },
            };
            out.push((name, f));
        }
        out
    };
    let inspect = py.import("inspect")?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (name, f) in pairs {
        let valid = !name.is_empty()
            && name.split('.').all(|p| {
                PyString::new(py, p)
                    .call_method0("isidentifier")
                    .and_then(|r| r.extract())
                    .unwrap_or(false)
            });
        if !valid {
            return Err(PyValueError::new_err(format!(
                "callback name {name:?} is not a Python identifier (dots allowed: 'http.get')"
            )));
        }
        if !f.is_callable() {
            return Err(PyTypeError::new_err(format!(
                "callback {name:?} is not callable ({})",
                type_name(&f)
            )));
        }
        if !seen.insert(name.clone()) {
            return Err(PyValueError::new_err(format!(
                "callback {name:?} is given twice"
            )));
        }
        let is_async: bool = inspect
            .call_method1("iscoroutinefunction", (&f,))?
            .extract()?;
        let doc = f
            .getattr_opt("__doc__")?
            .and_then(|d| d.extract::<String>().ok())
            .unwrap_or_default();
        out.push(PyCallback {
            description: doc.trim().lines().next().unwrap_or("").to_string(),
            name,
            func: f.unbind(),
            is_async,
        });
    }
    Ok(out)
}

/// Check `o` and build the sandbox's configuration. `slot` and `key` are
/// the sandbox's (see [`callbacks::register`]).
pub fn builder(
    py: Python<'_>,
    o: Options<'_>,
    slot: LoopSlot,
    key: u64,
) -> PyResult<SandboxBuilder> {
    let mut b = eryx::Sandbox::builder()
        .progress(o.progress)
        .keep_state_on_fault(o.keep_state_on_fault)
        .interruptible(o.interruptible)
        .exact(o.exact);
    if let Some(t) = o.timeout {
        if !o.interruptible {
            return Err(PyValueError::new_err(
                "interruptible=False cannot enforce a timeout: pass timeout=None with it",
            ));
        }
        b = b.timeout(seconds("timeout", t)?);
    }
    if let Some(m) = o.max_memory {
        b = b.max_memory(usize::try_from(positive("max_memory", m)?).unwrap_or(usize::MAX));
    }
    if let Some(c) = o.checkpoint_budget {
        let c = positive("checkpoint_budget", c)?;
        b = b.checkpoint_budget(usize::try_from(c).unwrap_or(usize::MAX));
    }
    if let Some(f) = o.fuel {
        b = b.fuel(positive("fuel", f)?);
    }
    if let Some(m) = o.max_output {
        b = b.max_output(positive("max_output", m)? as usize);
    }
    if let Some(m) = o.capture_limit {
        b = b.capture_limit(positive("capture_limit", m)? as usize);
    }
    if let Some(t) = o.callback_timeout {
        b = b.callback_timeout(seconds("callback_timeout", t)?);
    }
    if let Some(n) = o.max_callback_invocations {
        b = b.max_callback_invocations(
            u32::try_from(positive("max_callback_invocations", n)?).unwrap_or(u32::MAX),
        );
    }
    if let Some(ms) = &o.mounts {
        for (i, m) in items("mounts", ms)?.iter().enumerate() {
            let (host, guest, writable) = mount(i, m)?;
            b = b.mount(host, &guest, writable);
        }
    }
    if let Some(ps) = &o.packages {
        for (i, p) in items("packages", ps)?.iter().enumerate() {
            b = b.package(path(&format!("packages[{i}]"), p)?);
        }
    }
    if let Some(ms) = &o.preimport {
        let names = strings("preimport", "a module name", ms)?;
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        b = b.preimport(&names);
    }
    if let Some(rs) = &o.requirements {
        b = b.requirements(strings("requirements", "a requirement", rs)?);
    }
    if let Some(hs) = &o.allow_hosts {
        for h in strings("allow_hosts", "a host pattern", hs)? {
            b = b.allow_host(&h);
        }
    }
    if let Some(cbs) = &o.callbacks {
        for cb in callback_list(py, cbs)? {
            b = callbacks::register(b, cb, slot.clone(), key);
        }
    }
    if let Some(f) = &o.on_output {
        if !f.is_none() {
            if !f.is_callable() {
                return Err(PyTypeError::new_err(format!(
                    "on_output must be a callable (stream, text) or None, not {}",
                    type_name(f)
                )));
            }
            b = b.on_output(callbacks::output_handler(f.clone().unbind()));
        }
    }
    if let Some(f) = &o.on_display {
        if !f.is_none() {
            if !f.is_callable() {
                return Err(PyTypeError::new_err(format!(
                    "on_display must be a callable (kind, bundle) or None, not {}",
                    type_name(f)
                )));
            }
            b = b.on_display(callbacks::display_handler(f.clone().unbind()));
        }
    }
    Ok(b)
}
