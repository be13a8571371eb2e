//! The daemon's log stream: messages and activities interleaved with replies.
//!
//! While an operation runs, the daemon sends log lines (`STDERR_NEXT`) and
//! structured activity events (a build starting, its output lines, its end)
//! before the reply. They are shown on stderr the way CppNix's plain logger
//! shows them, collected for the caller to inspect, or dropped.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};

use super::error::strip_ansi;

/// What to do with the daemon's log messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogMode {
    /// Print them on stderr (messages, activities such as `building '…'...`, build output).
    #[default]
    Stderr,
    /// Keep them for [`super::DaemonStore::take_logs`] (the newest 100,000).
    Collect,
    /// Drop them.
    Quiet,
}

/// Most events kept in [`LogMode::Collect`]; older ones are dropped first.
pub const MAX_COLLECTED: usize = 100_000;

/// An activity's result type for one line of build output (`resBuildLogLine`).
pub const RESULT_BUILD_LOG_LINE: u64 = 101;
/// An activity's result type for one line of post-build-hook output (`resPostBuildLogLine`).
pub const RESULT_POST_BUILD_LOG_LINE: u64 = 107;

/// A field of an activity event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    /// An integer field.
    Int(u64),
    /// A string field.
    String(String),
}

/// One thing the daemon logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogEvent {
    /// A plain message (`STDERR_NEXT`), colour codes removed, without its final newline.
    Message(String),
    /// An activity started (`STDERR_START_ACTIVITY`).
    StartActivity {
        /// The daemon's id of the activity.
        id: u64,
        /// Its verbosity level (0 error … 7 vomit).
        level: u64,
        /// Its type (`actBuild` = 105, `actCopyPath` = 100, …).
        kind: u64,
        /// Its description, e.g. `building '/nix/store/…drv'`, colour codes removed.
        text: String,
        /// Its fields.
        fields: Vec<Field>,
        /// The enclosing activity, 0 for none.
        parent: u64,
    },
    /// An activity ended (`STDERR_STOP_ACTIVITY`).
    StopActivity {
        /// The daemon's id of the activity.
        id: u64,
    },
    /// An activity reported a result (`STDERR_RESULT`), e.g. a line of build output.
    Result {
        /// The daemon's id of the activity.
        id: u64,
        /// The result type ([`RESULT_BUILD_LOG_LINE`], progress, …).
        kind: u64,
        /// Its fields.
        fields: Vec<Field>,
    },
}

impl LogEvent {
    /// The line of build output this event carries, if it is one.
    pub fn build_log_line(&self) -> Option<&str> {
        match self {
            LogEvent::Result { kind: RESULT_BUILD_LOG_LINE | RESULT_POST_BUILD_LOG_LINE, fields, .. } => {
                match fields.first() {
                    Some(Field::String(s)) => Some(s),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// Where a connection's log events go; cheap to clone, shared with the upload thread.
#[derive(Clone, Debug)]
pub(crate) struct LogSink {
    mode: LogMode,
    /// Activities up to this level are shown on stderr.
    verbosity: u64,
    collected: Arc<Mutex<VecDeque<LogEvent>>>,
}

impl LogSink {
    pub(crate) fn new(mode: LogMode, verbosity: u64) -> LogSink {
        LogSink { mode, verbosity, collected: Arc::default() }
    }

    pub(crate) fn emit(&self, event: LogEvent) {
        match self.mode {
            LogMode::Quiet => {}
            LogMode::Collect => {
                let mut c = self.collected.lock().unwrap_or_else(|e| e.into_inner());
                if c.len() == MAX_COLLECTED {
                    c.pop_front();
                }
                c.push_back(event);
            }
            LogMode::Stderr => {
                let line = match &event {
                    LogEvent::Message(m) => Some(m.clone()),
                    LogEvent::StartActivity { level, text, .. } if *level <= self.verbosity && !text.is_empty() => {
                        Some(format!("{text}..."))
                    }
                    e => e.build_log_line().map(str::to_owned),
                };
                if let Some(line) = line {
                    let _ = writeln!(std::io::stderr().lock(), "{line}");
                }
            }
        }
    }

    /// The collected events, oldest first, emptying the collection.
    pub(crate) fn take(&self) -> Vec<LogEvent> {
        self.collected.lock().unwrap_or_else(|e| e.into_inner()).drain(..).collect()
    }
}

/// A message as sent by the daemon: colour codes removed, one trailing newline dropped.
pub(crate) fn clean_message(raw: &str) -> String {
    let s = strip_ansi(raw);
    s.strip_suffix('\n').map(str::to_owned).unwrap_or(s)
}
