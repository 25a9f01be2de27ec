//! A small Markdown table renderer: sections, aligned columns, and numbered
//! footnotes for cells that could not be measured (the reason is printed
//! once below the table instead of widening the column).

enum Row {
    Section(String),
    Data(String, Vec<String>),
}

/// A table under construction.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Row>,
    footnotes: Vec<String>,
}

impl Table {
    /// A table with these column headers (the first is the label column).
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: vec![],
            footnotes: vec![],
        }
    }

    /// Start a section (a bold label row).
    pub fn section(&mut self, title: &str) {
        self.rows.push(Row::Section(title.to_string()));
    }

    /// Add a data row; missing trailing cells are left empty.
    pub fn row(&mut self, label: impl Into<String>, cells: Vec<String>) {
        self.rows.push(Row::Data(label.into(), cells));
    }

    /// Format a measured value, or `n/a [k]` with the reason as footnote k.
    pub fn cell<T>(&mut self, r: &Result<T, String>, fmt: impl FnOnce(&T) -> String) -> String {
        match r {
            Ok(v) => fmt(v),
            Err(reason) => format!("n/a [{}]", self.footnote(reason)),
        }
    }

    /// The number of the footnote holding `reason` (added if new).
    pub fn footnote(&mut self, reason: &str) -> usize {
        let reason = reason.trim().replace('\n', " ⏎ ");
        match self.footnotes.iter().position(|f| *f == reason) {
            Some(i) => i + 1,
            None => {
                self.footnotes.push(reason);
                self.footnotes.len()
            }
        }
    }

    /// The table as Markdown, footnotes after it.
    pub fn render(&self) -> String {
        let ncols = self.headers.len();
        let mut width: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            if let Row::Data(label, cells) = row {
                width[0] = width[0].max(label.chars().count());
                for (i, c) in cells.iter().enumerate().take(ncols - 1) {
                    width[i + 1] = width[i + 1].max(c.chars().count());
                }
            }
        }
        let pad = |s: &str, w: usize, right: bool| {
            let fill = " ".repeat(w.saturating_sub(s.chars().count()));
            if right {
                format!("{fill}{s}")
            } else {
                format!("{s}{fill}")
            }
        };
        let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
        let mut out = line(
            self.headers
                .iter()
                .enumerate()
                .map(|(i, h)| pad(h, width[i], i > 0))
                .collect(),
        );
        out += &line(
            (0..ncols)
                .map(|i| {
                    let dashes = "-".repeat(width[i].saturating_sub(1));
                    if i == 0 {
                        format!("{dashes}-")
                    } else {
                        format!("{dashes}:")
                    }
                })
                .collect(),
        );
        for row in &self.rows {
            let cells: Vec<String> = match row {
                Row::Section(t) => std::iter::once(pad(&format!("**{t}**"), width[0], false))
                    .chain((1..ncols).map(|i| pad("", width[i], true)))
                    .collect(),
                Row::Data(label, cells) => std::iter::once(pad(label, width[0], false))
                    .chain(
                        (1..ncols).map(|i| pad(cells.get(i - 1).map_or("", |s| s), width[i], true)),
                    )
                    .collect(),
            };
            out += &line(cells);
        }
        for (i, f) in self.footnotes.iter().enumerate() {
            out += &format!("\n[{}] {f}", i + 1);
        }
        if !self.footnotes.is_empty() {
            out.push('\n');
        }
        out
    }
}
