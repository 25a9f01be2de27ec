//! Scratch files through the `eryx` command: --save-state/--load-state
//! carry them, and the --vfs-max-* caps apply.
mod common;
use common::eryx_cli;

#[test]
fn cli_state_files_and_caps() {
    let p = std::env::temp_dir().join(format!("eryx-vfs-state-{}.bin", std::process::id()));
    let ps = p.to_str().unwrap();
    let save = "open('notes.txt', 'w').write('saved'); n = 3";
    let o = eryx_cli(&["--save-state", ps, "-c", save], b"");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let load = "print(open('notes.txt').read(), n)";
    let o = eryx_cli(&["--load-state", ps, "-c", load], b"");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "saved 3\n");
    let caps = ["--vfs-max-mb", "1", "--vfs-max-entries", "100", "-c"];
    let code = "import os, errno\nfd = os.open('/tmp/x', os.O_WRONLY | os.O_CREAT)\n\
         try: os.pwrite(fd, b'x', 2 << 20)\nexcept OSError as e: print(e.errno == errno.ENOSPC)";
    let o = eryx_cli(&[&caps[..], &[code]].concat(), b"");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "True\n");
    std::fs::remove_file(&p).unwrap();
}
