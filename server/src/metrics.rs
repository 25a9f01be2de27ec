//! Prometheus metrics (`/metrics`, text exposition via prometheus-client):
//! executes by outcome, execute latency, queue depth, running executes,
//! live sessions, rejected requests, restores from the session store and
//! process memory.
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

/// Every metric the server exports.
pub struct Metrics {
    registry: Registry,
    executes: Family<Labels, Counter>,
    rejected: Family<Labels, Counter>,
    workers_lost: Family<Labels, Counter>,
    latency: Histogram,
    restores: Histogram,
    /// Executes waiting for a worker.
    pub queue_depth: Gauge,
    /// Executes running now.
    pub running: Gauge,
    /// Live sessions.
    pub sessions: Gauge,
    rss: Gauge,
}

impl Metrics {
    /// A fresh registry with all metrics registered.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("eryx");
        let executes = Family::<Labels, Counter>::default();
        let rejected = Family::<Labels, Counter>::default();
        let workers_lost = Family::<Labels, Counter>::default();
        // 50 µs .. ~100 s.
        let latency = Histogram::new(exponential_buckets(0.00005, 2.0, 22));
        let restores = Histogram::new(exponential_buckets(0.00005, 2.0, 22));
        let (queue_depth, running, sessions, rss) = (
            Gauge::default(),
            Gauge::default(),
            Gauge::default(),
            Gauge::default(),
        );
        registry.register(
            "executes",
            "Executes by outcome (ok or the error kind)",
            executes.clone(),
        );
        registry.register(
            "rejected",
            "Requests refused by a cap (reason: queue_full, tenant_concurrency, tenant_sessions, session_busy)",
            rejected.clone(),
        );
        registry.register(
            "workers_lost",
            "Worker processes lost and replaced (reason: filter = killed by the syscall filter, killed = at a deadline or by a signal, crashed, exited)",
            workers_lost.clone(),
        );
        registry.register(
            "execute_duration_seconds",
            "Execute latency inside the sandbox",
            latency.clone(),
        );
        registry.register(
            "session_restore_seconds",
            "Loading a session from the session store into a fresh sandbox (a miss or a stale copy)",
            restores.clone(),
        );
        registry.register(
            "queue_depth",
            "Executes waiting for a worker",
            queue_depth.clone(),
        );
        registry.register("running_executes", "Executes running", running.clone());
        registry.register("live_sessions", "Live sessions", sessions.clone());
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory of the server process",
            rss.clone(),
        );
        Metrics {
            registry,
            executes,
            rejected,
            workers_lost,
            latency,
            restores,
            queue_depth,
            running,
            sessions,
            rss,
        }
    }

    /// Count one finished execute.
    pub fn execute(&self, outcome: &str, seconds: f64) {
        self.executes
            .get_or_create(&vec![("outcome".to_string(), outcome.to_string())])
            .inc();
        self.latency.observe(seconds);
    }

    /// Count one session restored from the shared store.
    pub fn restore(&self, seconds: f64) {
        self.restores.observe(seconds);
    }

    /// Count one worker process lost (see `worker::Pool::lost`).
    pub fn worker_lost(&self, reason: &str) {
        self.workers_lost
            .get_or_create(&vec![("reason".to_string(), reason.to_string())])
            .inc();
    }

    /// Count one request refused by a cap.
    pub fn reject(&self, reason: &str) {
        self.rejected
            .get_or_create(&vec![("reason".to_string(), reason.to_string())])
            .inc();
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        self.rss.set(resident_bytes());
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// Resident set size of this process (Linux `/proc`; 0 elsewhere).
fn resident_bytes() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}
