//! The importable top-level modules of a wheel (what `--with X`
//! pre-imports): its `top_level.txt` when it has one, else the packages
//! (directories with `__init__.py`) and modules at the root of the archive.
//! Private (`_x`) names and stray test or docs packages are left out.
use std::collections::BTreeSet;

const NOT_PREIMPORTED: &[&str] = &["tests", "test", "testing", "docs", "examples", "benchmarks"];

fn keep(name: &str) -> bool {
    !name.starts_with('_')
        && !NOT_PREIMPORTED.contains(&name)
        && crate::preinit::valid_module_name(name)
        && !name.contains('.')
}

/// Top-level module names from the wheel's file names and, if present,
/// the contents of its `*.dist-info/top_level.txt`.
pub fn modules(names: &[&str], top_level_txt: Option<&str>) -> Vec<String> {
    let mut found = BTreeSet::new();
    for n in names {
        let mut parts = n.split('/');
        let (Some(first), second) = (parts.next(), parts.next()) else {
            continue;
        };
        if first.ends_with(".dist-info") || first.ends_with(".data") {
            continue;
        }
        match second {
            Some("__init__.py") => {
                found.insert(first.to_string());
            }
            None => {
                if let Some(m) = first.strip_suffix(".py") {
                    found.insert(m.to_string());
                }
            }
            _ => {}
        }
    }
    if let Some(txt) = top_level_txt {
        let listed: BTreeSet<String> = txt.lines().map(|l| l.trim().replace('/', ".")).collect();
        // Trust the listing where the archive agrees (or has extensions).
        let so_roots: BTreeSet<String> = names
            .iter()
            .filter(|n| n.ends_with(".so") && !n.contains('/'))
            .filter_map(|n| n.split('.').next().map(str::to_string))
            .collect();
        found = listed
            .into_iter()
            .filter(|m| {
                found.contains(m)
                    || so_roots.contains(m)
                    || names.iter().any(|n| n.starts_with(&format!("{m}/")))
            })
            .collect();
    }
    found.into_iter().filter(|m| keep(m)).collect()
}

/// The top-level modules of the wheel file at `path`.
pub fn of_wheel(path: &std::path::Path) -> Result<Vec<String>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let entries = crate::wheel::read(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let txt = entries
        .iter()
        .find(|e| e.name.ends_with(".dist-info/top_level.txt") && e.name.matches('/').count() == 1)
        .map(|e| String::from_utf8_lossy(&e.data).into_owned());
    Ok(modules(&names, txt.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::modules;

    #[test]
    fn packages_and_modules_at_the_root() {
        let names = [
            "attr/__init__.py",
            "attrs/__init__.py",
            "attrs-25.0.dist-info/METADATA",
            "six.py",
            "_private.py",
            "tests/__init__.py",
            "pkg/sub/__init__.py",
        ];
        assert_eq!(modules(&names, None), ["attr", "attrs", "six"]);
    }

    #[test]
    fn top_level_txt_wins_where_the_archive_agrees() {
        let names = ["yaml/__init__.py", "_yaml/__init__.py", "extra.py"];
        assert_eq!(modules(&names, Some("_yaml\nyaml\nmissing\n")), ["yaml"]);
    }
}
