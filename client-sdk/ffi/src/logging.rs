//! The app's log sink: the library's log lines (its own, and those of the crates it uses
//! through the `log` facade, such as the HTTP client) handed to a callback the app installs
//! with [`set_log_sink`], so they land in Logcat or OSLog with the app's own.

use std::cell::Cell;
use std::sync::{Arc, RwLock};

use crate::error::CallbackError;

/// How important a log line is, most important first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, uniffi::Enum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl From<log::Level> for LogLevel {
    fn from(level: log::Level) -> Self {
        match level {
            log::Level::Error => LogLevel::Error,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Info => LogLevel::Info,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Trace => LogLevel::Trace,
        }
    }
}

impl From<LogLevel> for log::LevelFilter {
    fn from(level: LogLevel) -> Self {
        match level {
            LogLevel::Error => log::LevelFilter::Error,
            LogLevel::Warn => log::LevelFilter::Warn,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Trace => log::LevelFilter::Trace,
        }
    }
}

/// Implemented by the app: receives each log line at or above the level given to
/// [`set_log_sink`], on the thread that logged it (the sync thread, a worker, the caller's).
/// Hand it to the platform's logger (`android.util.Log.println`, `os_log`) and return quickly.
/// An exception it throws is dropped: there is nowhere left to report it.
#[uniffi::export(foreign)]
pub trait LogSink: Send + Sync {
    /// `target`: where the line comes from, e.g. `fieldsync::sync` or `ureq::unversioned`.
    fn log(&self, level: LogLevel, target: String, message: String) -> Result<(), CallbackError>;
}

/// Installs the app's log sink (replacing the previous one) with the most detailed level it
/// wants, or removes it (`sink` null): then the library logs nothing.
#[uniffi::export]
pub fn set_log_sink(sink: Option<Arc<dyn LogSink>>, level: LogLevel) {
    // Fails only when another `log` logger was installed first (not by this library): lines
    // then go there, as that process asked.
    let _ = log::set_logger(&FORWARDER);
    let max = if sink.is_some() {
        level.into()
    } else {
        log::LevelFilter::Off
    };
    *SINK.write().unwrap_or_else(|p| p.into_inner()) = sink;
    log::set_max_level(max);
}

static SINK: RwLock<Option<Arc<dyn LogSink>>> = RwLock::new(None);
static FORWARDER: Forwarder = Forwarder;

thread_local! {
    /// Set while this thread is inside the sink: a sink that calls back into the library
    /// must not log itself into a loop.
    static IN_SINK: Cell<bool> = const { Cell::new(false) };
}

/// The `log` logger of the library: forwards to the app's sink.
struct Forwarder;

impl log::Log for Forwarder {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) || IN_SINK.with(Cell::get) {
            return;
        }
        let Some(sink) = SINK.read().unwrap_or_else(|p| p.into_inner()).clone() else {
            return;
        };
        IN_SINK.with(|f| f.set(true));
        let _ = sink.log(
            record.level().into(),
            record.target().to_string(),
            record.args().to_string(),
        );
        IN_SINK.with(|f| f.set(false));
    }

    fn flush(&self) {}
}
