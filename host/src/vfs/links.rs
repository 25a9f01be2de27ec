//! Symlinks in host mounts: which targets a guest may write there. A link
//! in a host directory is read by whatever on the host looks at that
//! directory next (a shell, a CI job collecting outputs), which follows it
//! without the guest's confinement. So a link the guest creates (or renames
//! into place) in a host mount must point down into the directory that
//! holds it: relative, without `..`. Checking where a `..` target lands at
//! creation time is not enough, since renaming a directory later changes how
//! far up its links' `..` reach; a downward-only target stays inside
//! wherever its directory is moved.
use std::path::{Component, Path};

/// May the guest create a symlink with `target` in a host mount?
pub(crate) fn target_stays_inside(target: &str) -> bool {
    !target.is_empty()
        && Path::new(target)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

#[cfg(test)]
mod tests {
    use super::target_stays_inside;

    #[test]
    fn only_downward_relative_targets() {
        for ok in ["f", "./f", "a/b/c", "a/./b", "dir/"] {
            assert!(target_stays_inside(ok), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "..",
            "../x",
            "a/../../x",
            "a/..",
            "../../../../etc/passwd",
        ] {
            assert!(!target_stays_inside(bad), "{bad}");
        }
    }
}
