//! The bounded cache: more images than fit under `ERYX_CACHE_MAX` leave
//! the cache under its cap (least recently used evicted), `eryx cache info`
//! shows size and entries, and `clear` keeps what a running process uses.
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn eryx(cache: &Path, max: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_eryx"));
    c.env("ERYX_CACHE_DIR", cache)
        .env("ERYX_CACHE_MAX", max)
        .stdin(Stdio::null());
    c
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn size(p: &Path) -> u64 {
    let m = std::fs::symlink_metadata(p).unwrap();
    if !m.is_dir() {
        return m.len();
    }
    std::fs::read_dir(p)
        .unwrap()
        .map(|e| size(&e.unwrap().path()))
        .sum()
}

fn images(cache: &Path) -> usize {
    std::fs::read_dir(cache.join("components")).map_or(0, |d| d.count())
}

#[test]
fn cap_holds_over_more_images_than_fit_and_in_use_entries_stay() {
    let cache: PathBuf =
        std::env::temp_dir().join(format!("eryx-cache-cap-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    // The first image alone, to learn what one costs.
    let o = eryx(&cache, "100G").args(["-c", "pass"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let one = size(&cache);
    // Room for the stdlib and about two images: three more cannot all stay.
    let cap = one * 2;
    for m in ["json", "fractions", "decimal"] {
        let o = eryx(&cache, &cap.to_string())
            .args(["--preimport", m, "-c", "pass"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(size(&cache) <= cap, "cache {} > cap {cap}", size(&cache));
    }
    assert!(images(&cache) < 4, "nothing was evicted");
    let info = eryx(&cache, &cap.to_string())
        .args(["cache", "info"])
        .output()
        .unwrap();
    assert!(
        text(&info).contains("entries:") && text(&info).contains("size:"),
        "{}",
        text(&info)
    );

    // An image a running process has mapped survives `clear`.
    let mut running = eryx(&cache, &cap.to_string())
        .args(["-c", "import time; print('up', flush=True); time.sleep(30)"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(running.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line, "up\n");
    let cleared = eryx(&cache, &cap.to_string())
        .args(["cache", "clear"])
        .output()
        .unwrap();
    assert!(
        text(&cleared).contains("kept (in use): image"),
        "{}",
        text(&cleared)
    );
    assert_eq!(images(&cache), 1);
    running.kill().unwrap();
    running.wait().unwrap();
    let cleared = eryx(&cache, &cap.to_string())
        .args(["cache", "clear"])
        .output()
        .unwrap();
    assert!(!text(&cleared).contains("kept"), "{}", text(&cleared));
    assert_eq!(images(&cache), 0);
    let _ = std::fs::remove_dir_all(&cache);
}
