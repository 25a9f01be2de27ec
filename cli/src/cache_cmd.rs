//! `eryx cache {info,list,prune,clear}`: the on-disk cache (compiled
//! images, package directories, wheels, locks, the stdlib), through the
//! library's `eryx::cache`. Entries a running process uses are never removed.
use eryx::cache::{self, CacheEntry};
use std::process::ExitCode;

const USAGE: &str = "\
usage: eryx cache info          size, number of entries and cap of the cache
       eryx cache list          every entry, least recently used first
       eryx cache prune [SIZE]  evict least recently used entries down to SIZE
                                (default: the cap, $ERYX_CACHE_MAX or 2G)
       eryx cache clear         remove every entry not in use by a process";

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn ago(e: &CacheEntry) -> String {
    let secs = e.used.elapsed().map_or(0, |d| d.as_secs());
    match secs {
        s if s < 120 => format!("{s} s ago"),
        s if s < 7200 => format!("{} min ago", s / 60),
        s if s < 172_800 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86400),
    }
}

fn line(e: &CacheEntry) -> String {
    let name = e.path.file_name().unwrap_or_default().to_string_lossy();
    format!("{:<9} {:>10}  {:<12} {name}", e.kind, mb(e.bytes), ago(e))
}

/// Run `eryx cache ARGS...`; exit status 2 on a usage error.
pub fn main(args: Vec<String>) -> ExitCode {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["info"] => {
            let i = cache::info();
            println!("directory: {}", i.dir.display());
            println!("size:      {} ({} bytes)", mb(i.bytes), i.bytes);
            println!("entries:   {}", i.entries);
            println!("cap:       {} (ERYX_CACHE_MAX)", mb(i.max));
        }
        ["list"] => {
            for e in cache::entries() {
                println!("{}", line(&e));
            }
        }
        ["prune", rest @ ..] if rest.len() <= 1 => {
            let max = match rest.first() {
                None => cache::info().max,
                Some(s) => match cache::parse_size(s) {
                    Some(n) => n,
                    None => {
                        eprintln!("eryx cache prune: not a size: {s:?} (e.g. 500M, 2G)");
                        return ExitCode::from(2);
                    }
                },
            };
            let removed = cache::prune(max);
            let freed: u64 = removed.iter().map(|e| e.bytes).sum();
            println!("removed {} entries ({})", removed.len(), mb(freed));
        }
        ["clear"] => {
            let (removed, kept) = cache::clear();
            let freed: u64 = removed.iter().map(|e| e.bytes).sum();
            println!("removed {} entries ({})", removed.len(), mb(freed));
            for e in kept {
                println!("kept (in use): {}", line(&e));
            }
        }
        ["-h" | "--help"] => println!("{USAGE}"),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
