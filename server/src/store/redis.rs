//! The Redis backend (`--session-store redis://...`, shared by replicas):
//! key layout and the Lua scripts that make each step of [`Backend`]
//! atomic (leases included). Every call is bounded (short
//! connect and response timeouts, and an overall deadline), so an
//! unreachable Redis is a fast 503, never a hang; the connection manager
//! reconnects by itself when Redis is back.
//!
//! Keys, per tenant T and session id I (ids are 32 hex digits, so a key is
//! unambiguous whatever T holds):
//! - `eryx:s:T:I`, a hash: `settings` (JSON), `version`, `snap` (snapshot
//!   bytes of the last successful request; absent at version 0: the state
//!   as built), `created`, `used` (Unix ms), `executes`; expires after the
//!   session's idle TTL (renewed by every write).
//! - `eryx:l:T:I`, the lease: a random token, `PX` the lease time, renewed
//!   while its request runs; a dead replica's lease simply expires.
//! - `eryx:t:T`, a sorted set of the tenant's ids scored by expiry time (Unix
//!   ms), for listing and the per-tenant cap. Expired members are pruned on
//!   create and list, and the set itself expires with its last member, so
//!   an abandoned tenant leaves nothing behind.
use super::backend::{now_ms, Acquired, Backend, Entry, Saved, Write};
use super::Fut;
use crate::api::ApiError;
use crate::sessions::Settings;
use redis::aio::ConnectionManager;
use redis::{Client, Script};
use std::sync::LazyLock;
use std::time::Duration;

/// How long one Redis call may take in all (connect, retries, answer).
const DEADLINE: Duration = Duration::from_millis(900);

static CREATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], 'settings', ARGV[5], 'version', 0, 'executes', 0,
           'created', ARGV[1], 'used', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[1] + ARGV[2], ARGV[4])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], last[2])
return 0",
    )
});

/// Take the lease if the session exists and nobody holds it: the version
/// (or -1 held, -2 no such session, -3 unreadable version).
static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return -1 end
local v = tonumber(redis.call('HGET', KEYS[1], 'version'))
if not v or v < 0 then redis.call('DEL', KEYS[2]); return -3 end
return v",
    )
});

/// Write new state if the version is still the expected one, and release
/// our lease either way: the new version (or -1 conflict, -2 gone).
static SAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local function release()
  if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
end
if redis.call('EXISTS', KEYS[1]) == 0 then release(); return -2 end
local v = tonumber(redis.call('HGET', KEYS[1], 'version'))
if v ~= tonumber(ARGV[2]) then release(); return -1 end
redis.call('HSET', KEYS[1], 'version', v + 1, 'snap', ARGV[3], 'used', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'executes', ARGV[7])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[4] + ARGV[5], ARGV[6])
local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[3], last[2])
release()
return v + 1",
    )
});

static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0",
    )
});

static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0",
    )
});

/// The unexpired ids of a tenant, pruning the expired ones.
static IDS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)",
    )
});

static DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[1])",
    )
});

/// A connection to Redis (cheap to clone).
#[derive(Clone)]
pub struct Redis {
    conn: ConnectionManager,
}

fn keys(tenant: &str, id: &str) -> (String, String, String) {
    (
        format!("eryx:s:{tenant}:{id}"),
        format!("eryx:l:{tenant}:{id}"),
        format!("eryx:t:{tenant}"),
    )
}

fn unavailable(e: impl std::fmt::Display) -> ApiError {
    tracing::warn!(error = %e, "session store call failed");
    ApiError::store_unavailable()
}

/// A Redis call bounded by [`DEADLINE`]: an error or a timeout is a 503.
async fn bounded<T>(
    call: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, ApiError> {
    match tokio::time::timeout(DEADLINE, call).await {
        Ok(r) => r.map_err(unavailable),
        Err(_) => Err(unavailable("timed out")),
    }
}

fn number(v: &Option<Vec<u8>>) -> Option<u64> {
    std::str::from_utf8(v.as_deref()?).ok()?.parse().ok()
}

impl Redis {
    /// A lazily connecting client for `url` (`redis://host:port[/db]`).
    pub fn open(url: &str) -> Result<Redis, String> {
        let client = Client::open(url).map_err(|e| format!("--session-store: {e}"))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(300)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(100));
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| format!("--session-store: {e}"))?;
        Ok(Redis { conn })
    }

    /// Run `script` with `keys` and `args`, bounded by the deadline.
    async fn eval<T: redis::FromRedisValue>(
        &self,
        script: &Script,
        keys: &[&str],
        args: &[&[u8]],
    ) -> Result<T, ApiError> {
        let mut inv = script.prepare_invoke();
        for k in keys {
            inv.key(*k);
        }
        for a in args {
            inv.arg(*a);
        }
        let mut conn = self.conn.clone();
        bounded(inv.invoke_async(&mut conn)).await
    }

    /// Run a command, bounded by the deadline.
    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, ApiError> {
        let mut conn = self.conn.clone();
        bounded(cmd.query_async(&mut conn)).await
    }

    /// `PING`.
    async fn ping(&self) -> Result<(), ApiError> {
        self.query::<String>(&redis::cmd("PING")).await.map(drop)
    }

    /// Register a session unless its tenant has `max` (then `false`).
    async fn create(
        &self,
        tenant: &str,
        id: &str,
        settings: &Settings,
        max: usize,
    ) -> Result<bool, ApiError> {
        let (hash, _, set) = keys(tenant, id);
        let json = serde_json::to_string(settings).map_err(unavailable)?;
        let (now, ttl) = (now_ms().to_string(), (settings.ttl_s * 1000).to_string());
        let max = max.to_string();
        let args: [&[u8]; 5] = [
            now.as_bytes(),
            ttl.as_bytes(),
            max.as_bytes(),
            id.as_bytes(),
            json.as_bytes(),
        ];
        Ok(self.eval::<i64>(&CREATE, &[&hash, &set], &args).await? == 0)
    }

    /// Take the lease of a session for `lease`.
    async fn acquire(
        &self,
        tenant: &str,
        id: &str,
        token: &str,
        lease: Duration,
    ) -> Result<Acquired, ApiError> {
        let (hash, lk, _) = keys(tenant, id);
        let px = lease.as_millis().to_string();
        let r: i64 = self
            .eval(&ACQUIRE, &[&hash, &lk], &[token.as_bytes(), px.as_bytes()])
            .await?;
        Ok(match r {
            -1 => Acquired::Held,
            -2 => Acquired::Gone,
            v if v < 0 => Acquired::Unreadable,
            v => Acquired::Version(v as u64),
        })
    }

    /// The settings and snapshot of a session (`None`: gone).
    async fn load(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<(Option<Settings>, Option<Vec<u8>>)>, ApiError> {
        let (hash, _, _) = keys(tenant, id);
        let v: Vec<Option<Vec<u8>>> = self
            .query(redis::cmd("HMGET").arg(&hash).arg("settings").arg("snap"))
            .await?;
        let settings = match v.first() {
            Some(Some(s)) => serde_json::from_slice(s).ok(),
            _ => return Ok(None),
        };
        Ok(Some((settings, v.get(1).cloned().flatten())))
    }

    /// Write `w.snap` compare-and-set on the version, releasing the lease.
    async fn save(&self, w: Write<'_>) -> Result<Saved, ApiError> {
        let (hash, lk, set) = keys(w.tenant, w.id);
        let (exp, now) = (w.expected.to_string(), now_ms().to_string());
        let ttl = w.ttl.as_millis().to_string();
        let inc = if w.executed { "1" } else { "0" };
        let args: [&[u8]; 7] = [
            w.token.as_bytes(),
            exp.as_bytes(),
            w.snap,
            now.as_bytes(),
            ttl.as_bytes(),
            w.id.as_bytes(),
            inc.as_bytes(),
        ];
        let r: i64 = self.eval(&SAVE, &[&hash, &lk, &set], &args).await?;
        Ok(match r {
            -1 => Saved::Conflict,
            v if v < 0 => Saved::Gone,
            v => Saved::Version(v as u64),
        })
    }

    /// Delete a session; whether it existed.
    async fn delete(&self, tenant: &str, id: &str) -> Result<bool, ApiError> {
        let (hash, _, set) = keys(tenant, id);
        let n: i64 = self.eval(&DELETE, &[&hash, &set], &[id.as_bytes()]).await?;
        Ok(n > 0)
    }

    /// One session's entry (`Ok(None)`: gone; `Err` unreadable entries
    /// come back as [`ApiError::state_unreadable`]).
    async fn entry(&self, tenant: &str, id: &str) -> Result<Option<Entry>, ApiError> {
        let (hash, lk, _) = keys(tenant, id);
        let mut pipe = redis::pipe();
        pipe.cmd("HMGET")
            .arg(&hash)
            .arg(&["settings", "created", "used", "executes"])
            .cmd("EXISTS")
            .arg(&lk);
        let mut conn = self.conn.clone();
        let (v, busy): (Vec<Option<Vec<u8>>>, bool) = bounded(pipe.query_async(&mut conn)).await?;
        let Some(Some(settings)) = v.first() else {
            return Ok(None);
        };
        let settings =
            serde_json::from_slice(settings).map_err(|_| ApiError::state_unreadable())?;
        Ok(Some(Entry {
            id: id.to_string(),
            settings,
            created_ms: number(&v[1]).unwrap_or(0),
            used_ms: number(&v[2]).unwrap_or(0),
            executes: number(&v[3]).unwrap_or(0),
            busy,
        }))
    }

    /// The ids of the tenant's sessions that have not expired.
    /// (Expired ones are pruned from the set.)
    async fn ids(&self, tenant: &str) -> Result<Vec<String>, ApiError> {
        let (_, _, set) = keys(tenant, "");
        let now = now_ms().to_string();
        self.eval(&IDS, &[&set], &[now.as_bytes()]).await
    }

    /// Give the lease back if it is still `token`'s.
    async fn release(&self, tenant: &str, id: &str, token: &str) -> Result<(), ApiError> {
        let (_, lk, _) = keys(tenant, id);
        self.eval::<i64>(&RELEASE, &[&lk], &[token.as_bytes()])
            .await
            .map(drop)
    }

    /// Extend the lease if it is still `token`'s; whether it was.
    async fn renew(
        &self,
        tenant: &str,
        id: &str,
        token: &str,
        lease: Duration,
    ) -> Result<bool, ApiError> {
        let (_, lk, _) = keys(tenant, id);
        let px = lease.as_millis().to_string();
        let n: i64 = self
            .eval(&RENEW, &[&lk], &[token.as_bytes(), px.as_bytes()])
            .await?;
        Ok(n > 0)
    }
}

/// The trait, by the methods above.
impl Backend for Redis {
    fn ping(&self) -> Fut<'_, ()> {
        Box::pin(Redis::ping(self))
    }

    fn create<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
        settings: &'a Settings,
        max: usize,
    ) -> Fut<'a, bool> {
        Box::pin(Redis::create(self, tenant, id, settings, max))
    }

    fn acquire<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
        token: &'a str,
        lease: Duration,
    ) -> Fut<'a, Acquired> {
        Box::pin(Redis::acquire(self, tenant, id, token, lease))
    }

    fn renew<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
        token: &'a str,
        lease: Duration,
    ) -> Fut<'a, bool> {
        Box::pin(Redis::renew(self, tenant, id, token, lease))
    }

    fn release<'a>(&'a self, tenant: &'a str, id: &'a str, token: &'a str) -> Fut<'a, ()> {
        Box::pin(Redis::release(self, tenant, id, token))
    }

    fn load<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
    ) -> Fut<'a, Option<(Option<Settings>, Option<Vec<u8>>)>> {
        Box::pin(Redis::load(self, tenant, id))
    }

    fn save<'a>(&'a self, w: Write<'a>) -> Fut<'a, Saved> {
        Box::pin(Redis::save(self, w))
    }

    fn delete<'a>(&'a self, tenant: &'a str, id: &'a str) -> Fut<'a, bool> {
        Box::pin(Redis::delete(self, tenant, id))
    }

    fn entry<'a>(&'a self, tenant: &'a str, id: &'a str) -> Fut<'a, Option<Entry>> {
        Box::pin(Redis::entry(self, tenant, id))
    }

    fn ids<'a>(&'a self, tenant: &'a str) -> Fut<'a, Vec<String>> {
        Box::pin(Redis::ids(self, tenant))
    }
}
