//! `eryx --display-dir DIR`: display items of a script become numbered
//! files with the right extension and one stderr line each; stdout stays
//! python's (no last value is printed for a script).
mod common;
#[path = "../../host/tests/common/png.rs"]
mod png;
use common::eryx_cli;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../host/tests/fixtures/display"
);

#[test]
fn display_items_are_written_as_numbered_files() {
    let dir = std::env::temp_dir().join(format!("eryx-display-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mount = format!("{FIXTURES}:/fixtures:ro");
    let code = "import sys\nsys.path.insert(0, '/fixtures')\nfrom pngmaker import png\n\
                from IPython.display import display, Image, HTML\n\
                print('before')\ndisplay(Image(png(40, 30)))\ndisplay(HTML('<b>x</b>'))\n\
                import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\n1 + 1";
    let args = [
        "--mount",
        mount.as_str(),
        "--display-dir",
        dir.to_str().unwrap(),
        "-c",
        code,
    ];
    let o = eryx_cli(&args, b"");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "before\n");
    let png1 = std::fs::read(dir.join("display-001.png")).unwrap();
    assert_eq!(png::png_size(&png1), Ok((40, 30)));
    assert_eq!(
        std::fs::read_to_string(dir.join("display-002.html")).unwrap(),
        "<b>x</b>"
    );
    // The figure left open at the end of the program.
    let png3 = std::fs::read(dir.join("display-003.png")).unwrap();
    assert_eq!(png::png_size(&png3), Ok((30, 20)));
    let notes: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("eryx: display:"))
        .collect();
    assert_eq!(notes.len(), 3, "{stderr}");
    assert!(
        notes[0].starts_with("eryx: display: image/png, ") && notes[0].ends_with("display-001.png")
    );
    std::fs::remove_dir_all(&dir).unwrap();

    // Without the flag nothing is written and the output is python's.
    let o = eryx_cli(&["-c", "from eryx import display\ndisplay(1)\n1 + 1"], b"");
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout), "");
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
}
