//! In-process measurements, generic over the sandbox under test: warm
//! creation and first/warm execute, snapshot/restore,
//! and resident memory per idle session.
use crate::sides::{Factory, Session};
use crate::stats::{timed, Stats};

/// The probe every startup measurement executes.
pub const PROBE: &str = "print(1+1)";

/// Warm startup numbers of one sandbox kind.
pub struct Startup {
    /// Creating a sandbox once the process has created one before.
    pub create: Result<Stats, String>,
    /// The first `execute(PROBE)` on a new sandbox.
    pub first_exec: Result<Stats, String>,
    /// create + first execute, per sandbox.
    pub create_and_first: Result<Stats, String>,
    /// `execute(PROBE)` on a warm sandbox.
    pub warm_exec: Result<Stats, String>,
}

async fn check_probe<S: Session>(s: &mut S) -> Result<f64, String> {
    let (out, t) = timed(s.execute(PROBE)).await;
    match out? {
        o if o == "2\n" => Ok(t),
        o => Err(format!("{PROBE} printed {o:?}")),
    }
}

/// Create `creations` sandboxes one after another (after one untimed
/// creation), timing creation and first execute; then `warm` executes on
/// one sandbox (after 10 untimed ones).
pub async fn startup<F: Factory>(f: &F, creations: usize, warm: usize) -> Startup {
    let fail = |e: String| Startup {
        create: Err(e.clone()),
        first_exec: Err(e.clone()),
        create_and_first: Err(e.clone()),
        warm_exec: Err(e),
    };
    let mut s = match f.create().await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    if let Err(e) = check_probe(&mut s).await {
        return fail(e);
    }
    let (mut create, mut first, mut both) = (vec![], vec![], vec![]);
    for _ in 0..creations {
        let (made, tc) = timed(f.create()).await;
        let mut fresh = match made {
            Ok(x) => x,
            Err(e) => return fail(e),
        };
        let te = match check_probe(&mut fresh).await {
            Ok(t) => t,
            Err(e) => return fail(e),
        };
        create.push(tc);
        first.push(te);
        both.push(tc + te);
    }
    let mut warm_t = Vec::with_capacity(warm);
    for i in 0..warm + 10 {
        match check_probe(&mut s).await {
            Ok(t) if i >= 10 => warm_t.push(t),
            Ok(_) => {}
            Err(e) => return fail(e),
        }
    }
    Startup {
        create: Stats::require(&create),
        first_exec: Stats::require(&first),
        create_and_first: Stats::require(&both),
        warm_exec: Stats::require(&warm_t),
    }
}

/// `execute(PROBE)` on one warm sandbox, `n` times (after 10 untimed).
pub async fn warm_exec<F: Factory>(f: &F, n: usize) -> Result<Stats, String> {
    let mut s = f.create().await?;
    let mut times = Vec::with_capacity(n);
    for i in 0..n + 10 {
        let t = check_probe(&mut s).await?;
        if i >= 10 {
            times.push(t);
        }
    }
    Stats::require(&times)
}

/// Snapshot/restore numbers of one sandbox kind.
pub struct Snapshot {
    /// `snapshot-state` of the namespace holding [`SNAPSHOT_SETUP`].
    pub snapshot: Result<Stats, String>,
    /// `restore-state` of that snapshot.
    pub restore: Result<Stats, String>,
    /// Size of the snapshot.
    pub bytes: Option<usize>,
}

/// What the namespace holds when it is snapshotted.
pub const SNAPSHOT_SETUP: &str = "d = {i: i for i in range(10_000)}";

/// Time `reps` snapshots and restores of [`SNAPSHOT_SETUP`]'s namespace.
pub async fn snapshot<F: Factory>(f: &F, reps: usize) -> Snapshot {
    let run = async {
        let mut s = f.create().await?;
        s.execute(SNAPSHOT_SETUP).await?;
        let mut snap_t = vec![];
        let mut bytes = vec![];
        for _ in 0..reps {
            let (b, t) = timed(s.snapshot()).await;
            bytes = b?;
            snap_t.push(t);
        }
        let mut restore_t = vec![];
        for _ in 0..reps {
            let (r, t) = timed(s.restore(&bytes)).await;
            r?;
            restore_t.push(t);
        }
        let check = s.execute("print(len(d), d[9_999])").await?;
        if check != "10000 9999\n" {
            return Err(format!("restored namespace is wrong: {check:?}"));
        }
        Ok::<_, String>((snap_t, restore_t, bytes.len()))
    };
    match run.await {
        Ok((s, r, n)) => Snapshot {
            snapshot: Stats::require(&s),
            restore: Stats::require(&r),
            bytes: Some(n),
        },
        Err(e) => Snapshot {
            snapshot: Err(e.clone()),
            restore: Err(e),
            bytes: None,
        },
    }
}

/// Resident memory of idle sessions (created, one `pass` executed, kept
/// alive), in bytes of VmRSS: sessions are added until each count of
/// `SESSION_COUNTS` is reached, then all are dropped.
pub struct Rss {
    /// After one session was created and dropped, before the others.
    pub baseline: i64,
    /// Per count: (RSS with that many − baseline) / count.
    pub per_session: Vec<i64>,
    /// Per count, the same of RssAnon: the memory private to the process
    /// (pages of the shared, copy-on-write mapped image count in VmRSS once
    /// per session that touched them, though they exist once).
    pub private_per_session: Vec<i64>,
    /// After dropping them all − baseline.
    pub after_drop: i64,
    /// The same of RssAnon.
    pub private_after_drop: i64,
}

/// This process's resident set size (VmRSS), in bytes.
pub fn vm_rss() -> Result<i64, String> {
    status_bytes("VmRSS")
}

/// A `kB` field of `/proc/self/status` (e.g. `RssAnon`), in bytes.
fn status_bytes(field: &str) -> Result<i64, String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("/proc/self/status: {e}"))?;
    let line = status
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))
        .ok_or_else(|| format!("no {field} in /proc/self/status"))?;
    let kib: i64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("unreadable {field}"))?;
    Ok(kib * 1024)
}

/// Measure [`Rss`] of `f` at each of `counts` (ascending) live sessions.
pub async fn rss<F: Factory>(f: &F, counts: &[usize]) -> Result<Rss, String> {
    // One session first, dropped: the shared compiled code it touches (the
    // mmapped .cwasm pages) then counts in the baseline, not per session.
    let mut warm = f.create().await?;
    warm.execute("pass").await?;
    drop(warm);
    let baseline = vm_rss()?;
    let private_baseline = status_bytes("RssAnon")?;
    let mut sessions = Vec::new();
    let mut per_session = vec![];
    let mut private_per_session = vec![];
    for &count in counts {
        while sessions.len() < count {
            let mut s = f.create().await?;
            s.execute("pass").await?;
            sessions.push(s);
        }
        per_session.push((vm_rss()? - baseline) / count as i64);
        private_per_session.push((status_bytes("RssAnon")? - private_baseline) / count as i64);
    }
    drop(sessions);
    // eryx gives freed memory back to the system from its ticker thread
    // (host/src/trim.rs), within a tick of the drop.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    Ok(Rss {
        baseline,
        per_session,
        private_per_session,
        after_drop: vm_rss()? - baseline,
        private_after_drop: status_bytes("RssAnon")? - private_baseline,
    })
}
