//! Printing: text for people, pretty JSON with `--json`, and the small formatting pieces
//! several commands share.

use std::io::Write;

use fieldsync_client::{Device, Money, StoreId, Verdict};
use serde::Serialize;
use serde_json::json;

/// Output in the chosen format.
pub struct Out {
    pub json: bool,
}

impl Out {
    pub fn value<T: Serialize>(&self, value: &T, text: impl FnOnce() -> String) {
        if self.json {
            self.print_json(value);
        } else {
            say(&text());
        }
    }

    pub fn print_json<T: Serialize>(&self, value: &T) {
        match serde_json::to_string_pretty(value) {
            Ok(s) => say(&s),
            Err(e) => eprintln!("could not render JSON: {e}"),
        }
    }

    /// A successful edit with its (non-blocking) findings.
    pub fn verdict(&self, verdict: &Verdict, done: &str) {
        if self.json {
            self.print_json(&json!({"ok": true, "findings": verdict.findings}));
            return;
        }
        let mut text = done.to_string();
        for f in &verdict.findings {
            text.push_str(&format!(
                "\n  {:?} {}/{}: {}",
                f.severity,
                f.rule.as_str(),
                f.code,
                f.message
            ));
        }
        say(&text);
    }
}

/// Prints a line to stdout; a closed pipe (`fieldsync visits | head`) is not an error.
pub fn say(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// A store's code and name, or its id when it is not in the local master data.
pub fn describe_store(device: &Device, store: StoreId) -> String {
    device
        .store(store)
        .map(|s| format!("{} {}", s.code, s.name))
        .unwrap_or_else(|_| store.to_string())
}

/// An amount, or `?` when it could not be computed (an overflowing total).
pub fn amount(total: Option<Money>) -> String {
    total.map(|t| t.to_string()).unwrap_or_else(|| "?".into())
}
