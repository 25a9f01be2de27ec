//! The operator's packages by name (`--with REQ`, `with = [...]` in the
//! file): resolved once at startup by the library's pip resolver (cached
//! and locked like `eryx --with`). A session asks for any subset by
//! distribution name, never a URL: each name's closure was resolved under
//! the whole set's pins, so any union of them has one version per package.
use eryx::Resolver;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One offered distribution: what a session asking for it gets.
#[derive(Debug, Clone)]
pub struct Offer {
    /// Its version.
    pub version: String,
    /// The wheels of it and its dependencies.
    pub wheels: Vec<PathBuf>,
    /// Its top-level modules, pre-imported into the session's image.
    pub modules: Vec<String>,
}

/// A distribution name as PEP 503 compares them (`Foo_Bar` = `foo-bar`).
pub fn canonical(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Resolve the operator's `requirements` into offers by canonical name.
pub fn resolve(requirements: &[String]) -> Result<BTreeMap<String, Offer>, String> {
    if requirements.is_empty() {
        return Ok(BTreeMap::new());
    }
    let err = |e: eryx::Error| format!("--with: {e}");
    let whole = Resolver::new()
        .progress(true)
        .resolve(requirements)
        .map_err(err)?;
    let pins: Vec<String> = whole
        .iter()
        .map(|p| format!("{}=={}", p.name, p.version))
        .collect();
    let mut offers = BTreeMap::new();
    for r in requirements {
        let closure = Resolver::new()
            .constraints(pins.clone())
            .resolve(std::slice::from_ref(r))
            .map_err(err)?;
        for p in closure.iter().filter(|p| p.requested) {
            offers.insert(
                canonical(&p.name),
                Offer {
                    version: p.version.clone(),
                    wheels: closure.iter().map(|d| d.wheel.clone()).collect(),
                    modules: p.modules.clone(),
                },
            );
        }
    }
    Ok(offers)
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn names_compare_as_pep_503_says() {
        assert_eq!(canonical("Python_Dateutil"), "python-dateutil");
        assert_eq!(canonical("more.itertools"), "more-itertools");
        assert_eq!(canonical("a--b"), "a-b");
    }
}
