//! The syscall filter of a worker process (seccomp-bpf through
//! `seccompiler`), installed on all its threads once the worker has
//! compiled and mapped the sandbox image and started its I/O threads. What
//! is left is what running compiled sandboxes needs: memory management,
//! futexes, clocks, signals (wasmtime turns faults into traps), reads and
//! writes on descriptors it already has (its stdin/stdout to the server),
//! epoll for its runtime and new threads of its own process. Everything
//! else (`open`/`openat`, `execve`, `socket`, `connect`, `ptrace`, new
//! namespaces, ...) kills the whole worker (`SECCOMP_RET_KILL_PROCESS`):
//! the server sees it die by `SIGSYS`, answers the request with an error
//! and starts a new worker. Only x86_64 and aarch64 are listed; elsewhere
//! the worker refuses to start filtered.
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};
use std::collections::BTreeMap;

/// Syscalls allowed whatever their arguments.
const ALLOWED: &[i64] = &[
    // Memory: the guest's linear memory, its guard pages, the allocator.
    libc::SYS_mmap,
    libc::SYS_munmap,
    libc::SYS_mprotect,
    libc::SYS_madvise,
    libc::SYS_mremap,
    libc::SYS_brk,
    // Exact sessions' memory past their image: an anonymous memory file
    // each (host/src/exact/region.rs), sized once. `ftruncate` needs a
    // descriptor open for writing; the worker's others are read-only.
    libc::SYS_memfd_create,
    libc::SYS_ftruncate,
    // Threads and their synchronisation.
    libc::SYS_futex,
    libc::SYS_sched_yield,
    libc::SYS_sched_getaffinity,
    libc::SYS_set_robust_list,
    libc::SYS_rseq,
    libc::SYS_gettid,
    libc::SYS_getpid,
    libc::SYS_exit,
    libc::SYS_exit_group,
    // Signals: wasmtime's trap handlers, a panic's abort.
    libc::SYS_rt_sigaction,
    libc::SYS_rt_sigprocmask,
    libc::SYS_rt_sigreturn,
    libc::SYS_sigaltstack,
    libc::SYS_tgkill,
    // Time and randomness (the guest's clocks and `random_get`).
    libc::SYS_clock_gettime,
    libc::SYS_clock_getres,
    libc::SYS_clock_nanosleep,
    libc::SYS_nanosleep,
    libc::SYS_gettimeofday,
    libc::SYS_getrandom,
    // I/O on the descriptors the worker already holds, and the runtime's
    // event loop.
    libc::SYS_read,
    libc::SYS_write,
    libc::SYS_readv,
    libc::SYS_writev,
    libc::SYS_close,
    libc::SYS_ppoll,
    libc::SYS_epoll_wait,
    libc::SYS_epoll_pwait,
    libc::SYS_epoll_ctl,
    // Resource use figures (allocator statistics, `getrusage`).
    libc::SYS_getrusage,
    libc::SYS_mincore,
    // The read-only stdlib tree the guest imports from, through the
    // directory descriptors its sandbox holds (opens: see `open_rules`;
    // what may be read at all: `landlock`).
    libc::SYS_statx,
    libc::SYS_newfstatat,
    libc::SYS_getdents64,
    libc::SYS_pread64,
    libc::SYS_lseek,
    libc::SYS_fcntl,
    libc::SYS_faccessat2,
    libc::SYS_readlinkat,
];

/// Syscalls that differ between architectures.
#[cfg(target_arch = "x86_64")]
const ALLOWED_ARCH: &[i64] = &[libc::SYS_poll, libc::SYS_fstat];
#[cfg(not(target_arch = "x86_64"))]
const ALLOWED_ARCH: &[i64] = &[];

fn cond(index: u8, op: SeccompCmpOp, value: u64) -> Result<SeccompCondition, String> {
    SeccompCondition::new(index, SeccompCmpArgLen::Dword, op, value).map_err(|e| e.to_string())
}

fn rule(conditions: Vec<SeccompCondition>) -> Result<SeccompRule, String> {
    SeccompRule::new(conditions).map_err(|e| e.to_string())
}

/// Flags of an `open` that could change a file.
const WRITE_FLAGS: u64 =
    (libc::O_WRONLY | libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC | libc::O_APPEND) as u64;

/// `openat` only to read: beneath a directory descriptor the worker holds
/// (the stdlib the guest imports from), or a directory by path (each new
/// sandbox opens its stdlib directory). So `open("/etc/passwd")` — an
/// `openat` of a file by path — kills the worker. `openat2` answers
/// `ENOSYS` (its flags are out of a filter's sight); the C library and
/// cap-std then use `openat`.
fn open_rules() -> Result<Vec<SeccompRule>, String> {
    let at_fdcwd = libc::AT_FDCWD as u32 as u64;
    let read_only = || cond(2, SeccompCmpOp::MaskedEq(WRITE_FLAGS), 0);
    let dir = libc::O_DIRECTORY as u64;
    Ok(vec![
        rule(vec![cond(0, SeccompCmpOp::Ne, at_fdcwd)?, read_only()?])?,
        rule(vec![
            cond(0, SeccompCmpOp::Eq, at_fdcwd)?,
            cond(2, SeccompCmpOp::MaskedEq(dir), dir)?,
            read_only()?,
        ])?,
    ])
}

/// This machine's architecture, as the filters name it.
fn arch() -> Result<seccompiler::TargetArch, String> {
    std::env::consts::ARCH
        .try_into()
        .map_err(|e| format!("no syscall filter for {}: {e}", std::env::consts::ARCH))
}

/// The filter as a BPF program for this machine.
pub fn program() -> Result<BpfProgram, String> {
    let arch = arch()?;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = ALLOWED
        .iter()
        .chain(ALLOWED_ARCH)
        .map(|&n| (n, Vec::new()))
        .collect();
    // New threads of this process only (no fork, no new namespaces): the
    // flags must include CLONE_THREAD.
    let thread = SeccompCondition::new(
        0,
        SeccompCmpArgLen::Qword,
        SeccompCmpOp::MaskedEq(libc::CLONE_THREAD as u64),
        libc::CLONE_THREAD as u64,
    )
    .map_err(|e| e.to_string())?;
    rules.insert(libc::SYS_clone3, Vec::new());
    rules.insert(
        libc::SYS_clone,
        vec![SeccompRule::new(vec![thread]).map_err(|e| e.to_string())?],
    );
    // Naming a new thread (std does it from the thread itself).
    rules.insert(
        libc::SYS_prctl,
        vec![rule(vec![cond(
            0,
            SeccompCmpOp::Eq,
            libc::PR_SET_NAME as u64,
        )?])?],
    );
    rules.insert(libc::SYS_openat, open_rules()?);
    rules.insert(libc::SYS_openat2, Vec::new());
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::KillProcess,
        SeccompAction::Allow,
        arch,
    )
    .map_err(|e| e.to_string())?;
    filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| e.to_string())
}

/// A filter that answers `clone3` and `openat2` with `ENOSYS`, so the C
/// library and cap-std fall back to `clone` and `openat`, whose flags a
/// filter can see (the newer calls pass them in memory). Installed before
/// [`program`]; of two filters' answers the stricter wins, so these get
/// `ENOSYS` and everything else what [`program`] says.
fn enosys() -> Result<BpfProgram, String> {
    let arch = arch()?;
    let rules = BTreeMap::from([
        (libc::SYS_clone3, Vec::new()),
        (libc::SYS_openat2, Vec::new()),
    ]);
    let errno = SeccompAction::Errno(libc::ENOSYS as u32);
    SeccompFilter::new(rules, SeccompAction::Allow, errno, arch)
        .map_err(|e| e.to_string())?
        .try_into()
        .map_err(|e: seccompiler::BackendError| e.to_string())
}

/// Install the filter on every thread of this process (irreversible).
pub fn install() -> Result<(), String> {
    for prog in [enosys()?, program()?] {
        seccompiler::apply_filter_all_threads(&prog).map_err(|e| format!("seccomp: {e}"))?;
    }
    Ok(())
}

/// Restrict what this process may open at all (Landlock, best effort on
/// older kernels): reading beneath `readable` (the eryx cache: the stdlib
/// the guest imports, compiled images) and nothing else, writing nowhere;
/// and no signals to processes outside the worker. The syscall filter
/// cannot see paths; this is the wall for the opens it lets through.
pub fn landlock(readable: &std::path::Path) -> Result<(), String> {
    use landlock::{
        path_beneath_rules, Access, AccessFs, Ruleset, RulesetAttr, RulesetCreatedAttr,
        RulesetStatus, Scope, ABI,
    };
    let abi = ABI::V6;
    let status = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .and_then(|r| r.scope(Scope::from_all(abi)))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(path_beneath_rules([readable], AccessFs::from_read(abi))))
        .and_then(|r| r.restrict_self())
        .map_err(|e| format!("landlock: {e}"))?;
    if status.ruleset != RulesetStatus::FullyEnforced {
        tracing::warn!(status = ?status.ruleset, "landlock is not fully enforced on this kernel");
    }
    Ok(())
}
