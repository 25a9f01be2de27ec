//! The worker process (`eryx-server --worker`): started by the server with
//! its stdin and stdout as the wire (`proto`). It compiles and maps the
//! sandbox image (read-only from the cache: Landlock is in force from its
//! first step) and runs one warm-up call, starts its two I/O threads,
//! installs the syscall filter (`filter`) and says `Ready`; from then on it
//! runs one job at a time — a one-shot in a fresh sandbox, or an operation
//! on a session it holds (`held`) —, streaming output, display items and
//! callback invocations back to the server. Its logs go to stderr
//! (inherited from the server).
use super::filter;
use super::held::Held;
use super::proto::{self, FromWorker, Given, Job, SessionJob, SessionOp, Setup, ToWorker};
use crate::files::FileJob;
use eryx::{DisplayItem, Execution, InterruptHandle, Sandbox, SandboxBuilder, Stream};
use serde_json::Value;
use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc as tmpsc, oneshot};

/// How the worker was started (flags the server passes).
pub struct Options {
    /// Run sandboxes without epoch checks; the server enforces the deadline
    /// by killing this process.
    pub uninterruptible: bool,
    /// Honour [`Job::hook`] (tests of the filter only).
    pub test_hooks: bool,
}

/// Callback invocations waiting for the server's answer, by id.
type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Value, String>>>>>;

/// What the job loop shares with the reader.
#[derive(Clone)]
pub struct Shared {
    out: mpsc::Sender<FromWorker>,
    pending: Pending,
    running: Arc<Mutex<Option<InterruptHandle>>>,
    next_id: Arc<AtomicU64>,
}

/// The worker's `main`.
pub fn main(opts: Options) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("eryx-server worker: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(serve(opts)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eryx-server worker: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A job's work, in the order it came.
enum Work {
    OneShot(Box<Job>),
    Session(Box<SessionJob>),
    Forget(Vec<String>),
}

/// A builder for `setup`: its limits, and its callbacks asked of the
/// server through `shared`.
pub fn builder(setup: &Setup, uninterruptible: bool, shared: &Shared) -> SandboxBuilder {
    let mut b = Sandbox::builder()
        .interruptible(!uninterruptible)
        .max_memory(usize::try_from(setup.max_memory).unwrap_or(usize::MAX))
        .max_output(setup.max_output)
        .capture_limit(setup.capture)
        .max_callback_invocations(setup.max_callback_invocations);
    if !uninterruptible {
        b = b.timeout(Duration::from_millis(setup.timeout_ms));
    }
    for (name, description) in &setup.callbacks {
        let (s, n) = (shared.clone(), name.clone());
        b = b.callback(name, description, move |args| {
            let rx = s.callback(n.clone(), args);
            async move { rx.await.unwrap_or_else(|_| Err("callback lost".into())) }
        });
    }
    b
}

async fn serve(opts: Options) -> Result<(), String> {
    // Landlock first, on the only thread there is, so every thread started
    // later (the engine's epoch ticker, the I/O threads) is under it too.
    filter::landlock(&eryx::cache::dir())?;
    let (out, out_rx) = mpsc::channel::<FromWorker>();
    let (in_tx, mut in_rx) = tmpsc::unbounded_channel::<ToWorker>();
    // The writer says when a `Started` is out: a job begins only once the
    // server knows it was taken.
    let (taken_tx, taken) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("eryx-worker-out".into())
        .spawn(move || {
            let mut stdout = std::io::stdout().lock();
            while let Ok(msg) = out_rx.recv() {
                if proto::write(&mut stdout, &msg).is_err() {
                    std::process::exit(0);
                }
                if matches!(msg, FromWorker::Started) {
                    let _ = taken_tx.send(());
                }
            }
        })
        .map_err(|e| format!("cannot start the writer: {e}"))?;
    std::thread::Builder::new()
        .name("eryx-worker-in".into())
        .spawn(move || {
            let mut stdin = std::io::stdin().lock();
            // The server closing the pipe (or garbling it) ends the worker.
            while let Ok(Some(msg)) = proto::read::<ToWorker>(&mut stdin) {
                if in_tx.send(msg).is_err() {
                    break;
                }
            }
            std::process::exit(0);
        })
        .map_err(|e| format!("cannot start the reader: {e}"))?;
    let shared = Shared {
        out,
        pending: Arc::default(),
        running: Arc::default(),
        next_id: Arc::default(),
    };
    // Everything that opens files or maps the image happens before the
    // syscall filter: the engine, the compiled image, and one job through
    // every path a job takes (files in, a glob out, a display item), so
    // whatever those initialise lazily is initialised now.
    let (sink, _) = mpsc::channel();
    let quiet = Shared {
        out: sink,
        ..shared.clone()
    };
    match run(&quiet, warm_up(), opts.uninterruptible).await {
        FromWorker::Done { outcome, .. } if outcome == "ok" => {}
        other => return Err(format!("the warm-up job failed: {other:?}")),
    }
    let mut held = Held::default();
    for job in warm_up_session(!opts.uninterruptible) {
        match held.run(&quiet, job, opts.uninterruptible).await {
            FromWorker::SessionDone { value: Ok(_), .. } => {}
            other => return Err(format!("the warm-up session failed: {other:?}")),
        }
    }
    held.forget(&["warm".to_string(), "warm-exact".to_string()]);
    filter::install()?;
    let (jobs_tx, mut jobs) = tmpsc::unbounded_channel::<Work>();
    let s = shared.clone();
    tokio::spawn(async move {
        while let Some(msg) = in_rx.recv().await {
            match msg {
                ToWorker::Run(job) => {
                    let _ = jobs_tx.send(Work::OneShot(job));
                }
                ToWorker::Session(job) => {
                    let _ = jobs_tx.send(Work::Session(job));
                }
                ToWorker::Forget(ids) => {
                    let _ = jobs_tx.send(Work::Forget(ids));
                }
                ToWorker::Callback { id, result } => {
                    let waiter = s
                        .pending
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&id);
                    if let Some(w) = waiter {
                        let _ = w.send(result);
                    }
                }
                ToWorker::Interrupt => {
                    if let Some(h) = &*s.running.lock().unwrap_or_else(|p| p.into_inner()) {
                        h.interrupt();
                    }
                }
            }
        }
    });
    shared.send(FromWorker::Ready);
    while let Some(work) = jobs.recv().await {
        if !matches!(work, Work::Forget(_)) {
            shared.send(FromWorker::Started);
            if taken.recv().is_err() {
                break;
            }
        }
        let job = match work {
            Work::OneShot(job) => job,
            Work::Session(job) => {
                let msg = held.run(&shared, *job, opts.uninterruptible).await;
                shared.send(msg);
                continue;
            }
            Work::Forget(ids) => {
                held.forget(&ids);
                continue;
            }
        };
        if let Some(h) = job.hook.as_deref().filter(|_| opts.test_hooks) {
            hook(h);
            shared.send(FromWorker::Failed {
                status: 500,
                code: "internal".into(),
                message: format!("test hook {h:?} was not stopped by the filter"),
            });
            continue;
        }
        let msg = run(&shared, *job, opts.uninterruptible).await;
        shared.send(msg);
    }
    Ok(())
}

/// The warm-up job (run with its output going nowhere, so the server sees
/// `Ready` first).
fn warm_up() -> Job {
    Job {
        setup: warm_setup(),
        files: vec![crate::files::InputFile {
            path: "warm/in.txt".into(),
            content_base64: "d2FybQ==".into(),
        }],
        output_files: vec!["warm/*.txt".into()],
        files_cap: 1 << 20,
        code: "from eryx import display\nprint(open('warm/in.txt').read())\n\
               display({'text/html': '<b>warm</b>'}, raw=True)\n1"
            .into(),
        hook: None,
    }
}

fn warm_setup() -> Setup {
    Setup {
        timeout_ms: 60_000,
        max_memory: 256 << 20,
        max_output: 1 << 20,
        capture: 1 << 20,
        max_callback_invocations: 0,
        callbacks: Vec::new(),
    }
}

/// The warm-up session operations: every kind, on a session and (`exact`:
/// the engine has exact sandboxes, i.e. it is interruptible) on an exact
/// one, so what they initialise lazily is initialised before the filter
/// (among it the process's page map, which exact snapshots and forks read
/// and which cannot be opened once the filter is on).
fn warm_up_session(exact: bool) -> Vec<SessionJob> {
    let mut jobs = Vec::new();
    let kinds = [("warm", false), ("warm-exact", true)];
    for (id, exact) in kinds.into_iter().filter(|&(_, e)| exact || !e) {
        let ops = [
            SessionOp::Run {
                code: "x = 1\nprint(x)".into(),
            },
            SessionOp::Write("/tmp/w.txt".into(), "d2FybQ==".into()),
            SessionOp::Read("/tmp/w.txt".into()),
            SessionOp::List("/tmp".into(), true),
            SessionOp::Remove("/tmp/w.txt".into()),
            SessionOp::Snapshot { exact: false },
            SessionOp::Snapshot { exact },
        ];
        let mut gen = 0;
        for (i, op) in ops.into_iter().enumerate() {
            // The first op builds the session; the others start from the
            // copy held, at the generation the changes so far left it.
            let state = if i == 0 { Given::Fresh } else { Given::Held };
            let next = gen + u64::from(op.changes());
            jobs.push(SessionJob {
                id: id.into(),
                gen,
                setup: warm_setup(),
                exact,
                state,
                op,
            });
            gen = next;
        }
    }
    jobs
}

impl Shared {
    fn send(&self, msg: FromWorker) {
        // The writer only stops when the server is gone (then it exits).
        let _ = self.out.send(msg);
    }

    /// The guest's invocation of callback `name`: asked of the server.
    fn callback(&self, name: String, args: Value) -> oneshot::Receiver<Result<Value, String>> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, tx);
        self.send(FromWorker::Callback { id, name, args });
        rx
    }
}

/// One job in a fresh sandbox.
async fn run(shared: &Shared, job: Job, uninterruptible: bool) -> FromWorker {
    let failed = |status: u16, code: &str, message: String| FromWorker::Failed {
        status,
        code: code.into(),
        message,
    };
    let files = match FileJob::new(job.files, job.output_files, job.files_cap) {
        Ok(f) => f,
        Err(e) => return failed(e.status.as_u16(), e.code, e.message),
    };
    let mut sb = match builder(&job.setup, uninterruptible, shared).build().await {
        Ok(sb) => sb,
        Err(e) => return failed(500, "internal", format!("creating the sandbox failed: {e}")),
    };
    if let Some(f) = &files {
        if let Err(e) = f.put_inputs(&mut sb) {
            return failed(e.status.as_u16(), e.code, e.message);
        }
    }
    let exec = run_in(&mut sb, shared, &job.code).await;
    let files = files.map(|f| f.outputs(&mut sb));
    FromWorker::Done {
        result: exec.to_json(),
        outcome: outcome(&exec).to_string(),
        duration_s: exec.duration.as_secs_f64(),
        files,
    }
}

/// Run `code` in `sb`, its output and display items streamed to the
/// server, interruptible by it.
pub async fn run_in(sb: &mut Sandbox, shared: &Shared, code: &str) -> Execution {
    let out = shared.out.clone();
    sb.set_output_handler(Some(Arc::new(move |s, text: &str| {
        let stdout = matches!(s, Stream::Stdout);
        let _ = out.send(FromWorker::Output {
            stdout,
            text: text.to_string(),
        });
    })));
    let out = shared.out.clone();
    sb.set_display_handler(Some(Arc::new(move |item: &DisplayItem| {
        let _ = out.send(FromWorker::Display(item.to_json()));
    })));
    *shared.running.lock().unwrap_or_else(|p| p.into_inner()) = Some(sb.interrupt_handle());
    let exec = sb.run(code).await;
    *shared.running.lock().unwrap_or_else(|p| p.into_inner()) = None;
    sb.set_output_handler(None);
    sb.set_display_handler(None);
    exec
}

/// The outcome of a call for the metrics: `ok` or the error's kind.
pub fn outcome(exec: &Execution) -> &'static str {
    match &exec.error {
        _ if exec.is_ok() => "ok",
        Some(e) => e.kind(),
        None => "ok",
    }
}

/// A test-only misbehaviour: what a compromised worker might try. Under
/// the filter each of these kills the process before it returns.
fn hook(name: &str) {
    match name {
        "open" => {
            let _ = std::fs::File::open("/etc/passwd");
        }
        "execve" => {
            let _ = std::process::Command::new("/bin/true").exec();
        }
        "socket" => {
            let _ = std::net::UdpSocket::bind("127.0.0.1:0");
        }
        _ => {}
    }
}
