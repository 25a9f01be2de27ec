//! The two MCP tools: their definitions (descriptions written for the model
//! that calls them, JSON schemas), checking a call's arguments, and turning
//! an [`Execution`] into a tool result (a readable text block plus the
//! canonical `Execution::to_json` as structured content).
use super::options::Options;
use eryx::{Error, Execution};
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// Name of the tool that runs code.
pub const RUN_PYTHON: &str = "run_python";
/// Name of the tool that starts over.
pub const RESET_SESSION: &str = "reset_session";

/// What the sandbox offers, learnt once at start-up (see `probe.py`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Environment {
    /// `sys.version`'s first word, e.g. `3.14.0`.
    pub python: String,
    /// Top-level names importable from `--package`s.
    pub packages: Vec<String>,
}

/// A checked `run_python` call.
#[derive(Debug, PartialEq)]
pub struct RunArgs {
    /// The Python source.
    pub code: String,
    /// The call's wall-clock limit (`timeout_seconds`, capped by `--timeout`).
    pub timeout: Duration,
    /// Set when the requested timeout was above the cap.
    pub capped_from: Option<f64>,
}

fn schema(v: Value) -> Arc<JsonObject> {
    match v {
        Value::Object(map) => Arc::new(map),
        _ => Arc::new(JsonObject::new()),
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

/// How the guest's files look, in words.
fn files_text(o: &Options) -> String {
    let writable: Vec<&str> = o
        .mounts
        .iter()
        .filter(|m| m.1)
        .map(|m| m.0.as_str())
        .collect();
    let readonly: Vec<&str> = o
        .mounts
        .iter()
        .filter(|m| !m.1)
        .map(|m| m.0.as_str())
        .collect();
    let (mb, entries) = o.scratch;
    let mut s = format!(
        "Files: a private scratch filesystem in memory: write anywhere outside the mounts, e.g. \
         /tmp and the working directory /home/user ($HOME); at most {mb} MiB and {entries} files \
         (then OSError ENOSPC). It is part of the session and never reaches the user's machine."
    );
    if !writable.is_empty() {
        s.push_str(&format!(
            " Host directories shared with the user (real files): {}.",
            writable.join(", ")
        ));
    }
    if !readonly.is_empty() {
        s.push_str(&format!(" Read-only data: {}.", readonly.join(", ")));
    }
    s
}

/// The `run_python` description.
fn run_description(o: &Options, env: &Environment) -> String {
    let state = if o.stateless {
        "Every call runs in a fresh interpreter: nothing (variables, imports) is kept between calls, so each call must be self-contained."
            .to_string()
    } else {
        format!(
            "State persists between calls, like a notebook: variables, functions, classes and imports from one call are there in the next. \
             Call {RESET_SESSION} to start over with a fresh interpreter. If a call hits a limit (timeout, memory), \
             the session goes back to its state after the last call that completed."
        )
    };
    let packages = if env.packages.is_empty() {
        "Importable: the Python standard library only; nothing can be installed (no pip)."
            .to_string()
    } else {
        format!(
            "Importable: the Python standard library and {}; nothing else can be installed (no pip).",
            env.packages.join(", ")
        )
    };
    let callbacks = if o.callbacks.is_empty() {
        String::new()
    } else {
        format!(
            "\nHost functions (call with keyword arguments, they are coroutines): {}.",
            o.callbacks
                .iter()
                .map(|c| format!("await {c}(...)"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    format!(
        "Run Python code in a sandboxed CPython {python} interpreter (WebAssembly) and get back what it printed \
         (stdout, stderr), the value of the last expression (like a notebook cell) and, if it failed, \
         the exception type, message and traceback.\n\
         Rich output: display(obj) (from IPython.display import display, HTML, Image, Markdown, JSON) and \
         matplotlib's plt.show() return images as PNG and HTML/SVG/JSON as embedded resources; each display \
         item keeps at most {item_mib} MiB. Top-level `await` works (asyncio).\n\
         {state}\n\
         {packages}\n\
         {network}\n\
         {files}\n\
         Limits per call: {timeout} s wall-clock (timeout_seconds may set less), {memory} MiB memory; \
         each of stdout and stderr is cut after {output} bytes (the result says how much was cut).{callbacks}",
        python = env.python,
        network = o.network.text(),
        files = files_text(o),
        timeout = secs(o.timeout),
        memory = o.max_memory_mb,
        output = o.max_output,
        item_mib = eryx::DEFAULT_ITEM_LIMIT >> 20,
    )
}

/// The tool definitions served by `tools/list`.
pub fn definitions(o: &Options, env: &Environment) -> Vec<Tool> {
    let run = Tool::new(
        RUN_PYTHON,
        run_description(o, env),
        schema(json!({
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Python source to run: any number of statements."
                },
                "timeout_seconds": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "description": format!(
                        "Wall-clock limit for this call in seconds (default and maximum {}).",
                        secs(o.timeout)
                    )
                }
            },
            "required": ["code"],
            "additionalProperties": false
        })),
    )
    .with_title("Run Python")
    .with_raw_output_schema(schema(execution_schema()))
    .with_annotations(
        ToolAnnotations::new()
            .read_only(false)
            .destructive(false)
            .idempotent(false)
            .open_world(false),
    );
    let reset_text = if o.stateless {
        "Does nothing here: this server already gives every run_python call a fresh interpreter."
            .to_string()
    } else {
        "Discard the Python session (all variables, functions, classes and imports) and start a fresh \
         interpreter for the next run_python call. Use it to start over or after the session got into a bad state."
            .to_string()
    };
    let reset = Tool::new(
        RESET_SESSION,
        reset_text,
        schema(json!({"type": "object", "properties": {}, "additionalProperties": false})),
    )
    .with_title("Reset the Python session")
    .with_annotations(
        ToolAnnotations::new()
            .read_only(false)
            .destructive(true)
            .idempotent(true)
            .open_world(false),
    );
    vec![run, reset]
}

/// JSON Schema of `Execution::to_json`, the structured content of a
/// `run_python` result.
fn execution_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "stdout": {"type": "string"},
            "stderr": {"type": "string"},
            "error": {
                "description": "null when the code ran to its end",
                "anyOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "properties": {
                            "type": {"type": "string", "description": "exception type, e.g. ValueError, TimeoutError"},
                            "kind": {"type": "string", "description": "python, exit, timeout, memory_limit, interrupted, ..."},
                            "message": {"type": "string"},
                            "traceback": {"type": "string"}
                        },
                        "required": ["type", "kind", "message", "traceback"]
                    }
                ]
            },
            "exit_code": {"type": "integer"},
            "duration_ms": {"type": "number"},
            "peak_memory_bytes": {"type": "integer"},
            "callback_invocations": {"type": "integer"},
            "truncated": {"type": "boolean"},
            "truncated_bytes": {"type": "integer"},
            "outputs": super::outputs::schema()
        },
        "required": ["stdout", "stderr", "error", "exit_code", "duration_ms", "peak_memory_bytes",
                     "callback_invocations", "truncated", "truncated_bytes", "outputs"]
    })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Check `run_python`'s arguments; the error is meant for the model.
pub fn run_args(args: Option<&JsonObject>, max: Duration) -> Result<RunArgs, String> {
    let empty = JsonObject::new();
    let args = args.unwrap_or(&empty);
    if let Some(k) = args
        .keys()
        .find(|k| *k != "code" && *k != "timeout_seconds")
    {
        return Err(format!(
            "{RUN_PYTHON}: unknown argument {k:?} (arguments: code, timeout_seconds)"
        ));
    }
    let code = match args.get("code") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => {
            return Err(format!(
                "{RUN_PYTHON}: argument \"code\" must be a string of Python source, got {}",
                kind_of(v)
            ))
        }
        None => {
            return Err(format!(
                "{RUN_PYTHON}: missing required argument \"code\" (a string of Python source)"
            ))
        }
    };
    let (timeout, capped_from) = match args.get("timeout_seconds") {
        None | Some(Value::Null) => (max, None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(t) if t > 0.0 && t.is_finite() => {
                if t > max.as_secs_f64() {
                    (max, Some(t))
                } else {
                    (Duration::from_secs_f64(t), None)
                }
            }
            _ => {
                return Err(format!(
                    "{RUN_PYTHON}: argument \"timeout_seconds\" must be a positive number, got {n}"
                ))
            }
        },
        Some(v) => {
            return Err(format!(
                "{RUN_PYTHON}: argument \"timeout_seconds\" must be a number of seconds, got {}",
                kind_of(v)
            ))
        }
    };
    Ok(RunArgs {
        code,
        timeout,
        capped_from,
    })
}

/// The marker that replaces what was cut.
fn cut_marker(cut: usize, cap: usize) -> String {
    format!(
        "[... output truncated: {cut} bytes cut; each of stdout and stderr keeps at most {cap} bytes per call ...]\n"
    )
}

fn push_block(text: &mut String, block: &str) {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(block);
}

/// Why a call that is not a Python exception failed, for the model.
fn error_text(e: &Error, args: &RunArgs, stateless: bool) -> String {
    let kept = if stateless {
        ""
    } else {
        " The session is back to its state after the last call that completed."
    };
    match e {
        Error::Python { traceback, .. } => traceback.clone(),
        Error::Exit(code) => format!("SystemExit: {code}\n"),
        Error::Timeout | Error::FuelExhausted => format!(
            "TimeoutError: the code did not finish within this call's limit of {} s and was stopped.{kept}\n",
            secs(args.timeout)
        ),
        Error::Interrupted => {
            format!("KeyboardInterrupt: the call was cancelled and the code stopped.{kept}\n")
        }
        Error::MemoryLimit(_) => {
            format!("MemoryError: the code used more memory than the sandbox allows.{kept}\n")
        }
        e => format!("{}: {}{kept}\n", e.type_name(), e.message()),
    }
}

/// The readable text block of a `run_python` result.
pub fn text(run: &Execution, args: &RunArgs, cap: usize, stateless: bool) -> String {
    let mut text = String::new();
    // A stream that reached the cap (less up to 3 bytes for a character
    // boundary) is the one that was cut.
    let cut_out = run.truncated() && run.stdout.len() + 4 > cap;
    let cut_err = run.truncated() && run.stderr.len() + 4 > cap;
    text.push_str(&run.stdout);
    if cut_out || (run.truncated() && !cut_err) {
        push_block(&mut text, &cut_marker(run.truncated_bytes, cap));
    }
    if !run.stderr.is_empty() {
        push_block(&mut text, "[stderr]\n");
        text.push_str(&run.stderr);
        if cut_err {
            push_block(&mut text, &cut_marker(run.truncated_bytes, cap));
        }
    }
    let outputs = super::outputs::text(run);
    if !outputs.is_empty() {
        push_block(&mut text, &outputs);
    }
    if let Some(e) = run.error.as_ref().filter(|_| !run.is_ok()) {
        push_block(&mut text, &error_text(e, args, stateless));
    }
    if let Some(t) = args.capped_from {
        push_block(
            &mut text,
            &format!(
                "[note: timeout_seconds={t} is above this server's limit; {} s applied]\n",
                secs(args.timeout)
            ),
        );
    }
    if text.is_empty() {
        text.push_str("(no output; use print() to show values)");
    }
    text
}

/// The whole `run_python` result.
pub fn result(run: &Execution, args: &RunArgs, cap: usize, stateless: bool) -> CallToolResult {
    let mut content = vec![ContentBlock::text(text(run, args, cap, stateless))];
    content.extend(super::outputs::blocks(run));
    let mut r = if run.is_ok() {
        CallToolResult::success(content)
    } else {
        CallToolResult::error(content)
    };
    r.structured_content = Some(run.to_json());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> JsonObject {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn run_args_checks_types() {
        let max = Duration::from_secs(30);
        let a = run_args(Some(&obj(json!({"code": "print(1)"}))), max).unwrap();
        assert_eq!((a.code.as_str(), a.timeout), ("print(1)", max));
        let a = run_args(Some(&obj(json!({"code": "", "timeout_seconds": 1.5}))), max).unwrap();
        assert_eq!(a.timeout, Duration::from_millis(1500));
        let a = run_args(Some(&obj(json!({"code": "", "timeout_seconds": 99}))), max).unwrap();
        assert_eq!((a.timeout, a.capped_from), (max, Some(99.0)));
        for bad in [
            json!({}),
            json!({"code": 5}),
            json!({"code": "1", "timeout_seconds": "5"}),
            json!({"code": "1", "timeout_seconds": -1}),
            json!({"code": "1", "extra": true}),
        ] {
            assert!(run_args(Some(&obj(bad.clone())), max).is_err(), "{bad}");
        }
        assert!(run_args(None, max).unwrap_err().contains("missing"));
    }

    #[test]
    fn text_marks_what_was_cut() {
        let args = RunArgs {
            code: String::new(),
            timeout: Duration::from_secs(1),
            capped_from: None,
        };
        let run = Execution {
            stdout: "x".repeat(10),
            stderr: String::new(),
            error: Some(Error::Timeout),
            duration: Duration::ZERO,
            peak_memory: 0,
            callback_invocations: 0,
            truncated_bytes: 90,
            outputs: Vec::new(),
        };
        let t = text(&run, &args, 10, false);
        assert!(
            t.starts_with("xxxxxxxxxx\n[... output truncated: 90 bytes cut"),
            "{t}"
        );
        assert!(t.contains("TimeoutError: the code did not finish within this call's limit of 1 s"));
        let r = result(&run, &args, 10, false);
        assert_eq!(r.is_error, Some(true));
        assert_eq!(r.structured_content.unwrap()["truncated_bytes"], 90);
    }
}
