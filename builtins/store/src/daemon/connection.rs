//! One connection to a Nix daemon: the handshake, the log stream that
//! precedes every reply, and turning failures into [`DaemonError`]s.
//!
//! The daemon serves one operation at a time per connection, in order, so a
//! client may write several requests before reading their replies
//! (pipelining); the operations in `ops.rs` are split into a `send_*` and a
//! `recv_*` half for that. After a connection-level failure the stream is out
//! of step: the connection remembers the error and refuses further work.

use std::io::{self, BufReader, BufWriter, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::{strip_ansi, DaemonError};
use super::log::{clean_message, Field, LogEvent, LogSink};
use super::wire::{self, Op};
use super::ConnectOptions;
use crate::nar::os_reason;

/// Why a request failed, before it is worded for the caller.
pub(crate) enum Fail {
    /// The connection failed (or the daemon broke the protocol).
    Io(io::Error),
    /// The daemon refused the operation.
    Remote(DaemonError),
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Fail {
        Fail::Io(e)
    }
}

/// An open, handshaken connection.
pub(crate) struct Connection {
    pub(crate) reader: BufReader<UnixStream>,
    pub(crate) writer: BufWriter<UnixStream>,
    socket: PathBuf,
    /// The protocol minor both sides use: the lower of the daemon's and ours.
    pub(crate) minor: u8,
    daemon_nix_version: Option<String>,
    trusted: Option<bool>,
    log: LogSink,
    /// Read timeout for ordinary operations (builds wait as long as they take).
    timeout: Option<Duration>,
    /// Set by the first connection-level failure; every later request fails with it.
    broken: Option<DaemonError>,
}

const BUFFER: usize = 64 * 1024;

impl Connection {
    /// Connects to the daemon at `socket`, shakes hands and sends the client's options.
    pub(crate) fn open(socket: &Path, opts: &ConnectOptions, log: LogSink) -> Result<Connection, DaemonError> {
        let fail = |e: io::Error| {
            DaemonError::Connection(format!(
                "cannot connect to the Nix daemon at '{}': {}",
                socket.display(),
                os_reason(&e)
            ))
        };
        let stream = UnixStream::connect(socket).map_err(fail)?;
        let timeout = opts.timeout.filter(|t| !t.is_zero());
        stream.set_read_timeout(timeout).map_err(fail)?;
        stream.set_write_timeout(timeout).map_err(fail)?;
        let reader = BufReader::with_capacity(BUFFER, stream.try_clone().map_err(fail)?);
        let mut conn = Connection {
            reader,
            writer: BufWriter::with_capacity(BUFFER, stream),
            socket: socket.to_owned(),
            minor: 0,
            daemon_nix_version: None,
            trusted: None,
            log,
            timeout,
            broken: None,
        };
        let shaken = conn.handshake(opts.max_minor.clamp(wire::MIN_MINOR, wire::MAX_MINOR));
        conn.finish("connecting", shaken)?;
        conn.set_options(opts)?;
        Ok(conn)
    }

    /// The negotiated protocol minor.
    pub(crate) fn minor(&self) -> u8 {
        self.minor
    }

    /// The daemon's Nix version (sent from protocol 1.33).
    pub(crate) fn daemon_nix_version(&self) -> Option<&str> {
        self.daemon_nix_version.as_deref()
    }

    /// Whether the daemon trusts this client (sent from protocol 1.35).
    pub(crate) fn trusted(&self) -> Option<bool> {
        self.trusted
    }

    /// The error that broke this connection, if one did.
    pub(crate) fn broken(&self) -> Option<&DaemonError> {
        self.broken.as_ref()
    }

    fn handshake(&mut self, our_minor: u8) -> Result<(), Fail> {
        wire::write_u64(&mut self.writer, wire::WORKER_MAGIC_1)?;
        self.writer.flush()?;
        let magic = wire::read_u64(&mut self.reader)?;
        if magic != wire::WORKER_MAGIC_2 {
            return Err(wire::invalid(format!("the daemon answered {magic:#x} instead of the worker magic")).into());
        }
        let theirs = wire::read_u64(&mut self.reader)?;
        let (major, their_minor) = (theirs >> 8, (theirs & 0xff) as u8);
        if major != wire::PROTOCOL_MAJOR || their_minor < wire::MIN_MINOR {
            return Err(wire::invalid(format!(
                "the daemon speaks protocol {major}.{their_minor}; this client needs 1.{} to 1.{}",
                wire::MIN_MINOR,
                wire::MAX_MINOR
            ))
            .into());
        }
        self.minor = our_minor.min(their_minor);
        wire::write_u64(&mut self.writer, wire::version(self.minor))?;
        // Obsolete fields: no CPU affinity (1.14), no reserved space (1.11).
        wire::write_bool(&mut self.writer, false)?;
        wire::write_bool(&mut self.writer, false)?;
        self.writer.flush()?;
        if self.minor >= 33 {
            self.daemon_nix_version = Some(wire::read_string(&mut self.reader)?);
        }
        if self.minor >= 35 {
            self.trusted = match wire::read_u64(&mut self.reader)? {
                1 => Some(true),
                2 => Some(false),
                _ => None,
            };
        }
        self.process_stderr()
    }

    /// `SetOptions`: what CppNix's client sends by default, with our verbosity and overrides.
    fn set_options(&mut self, opts: &ConnectOptions) -> Result<(), DaemonError> {
        let result = (|| {
            let w = &mut self.writer;
            wire::write_u64(w, Op::SetOptions as u64)?;
            wire::write_bool(w, false)?; // keep failed
            wire::write_bool(w, false)?; // keep going
            wire::write_bool(w, false)?; // try fallback
            wire::write_u64(w, opts.verbosity)?;
            wire::write_u64(w, opts.max_build_jobs)?;
            wire::write_u64(w, 0)?; // max silent time: the daemon's own
            wire::write_bool(w, true)?; // obsolete: use build hook
            wire::write_u64(w, 0)?; // verbose build: the level is lvlError
            wire::write_u64(w, 0)?; // obsolete: log type
            wire::write_u64(w, 0)?; // obsolete: print build trace
            wire::write_u64(w, 0)?; // build cores: all
            wire::write_bool(w, opts.use_substitutes)?;
            wire::write_u64(w, opts.overrides.len() as u64)?;
            for (name, value) in &opts.overrides {
                wire::write_bytes(w, name.as_bytes())?;
                wire::write_bytes(w, value.as_bytes())?;
            }
            w.flush()?;
            self.process_stderr()
        })();
        self.finish("setting options", result)
    }

    /// Fails at once if the connection is broken.
    pub(crate) fn check(&self) -> Result<(), DaemonError> {
        match &self.broken {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Words a failure; a connection-level one breaks the connection for good.
    pub(crate) fn finish<T>(&mut self, doing: &str, result: Result<T, Fail>) -> Result<T, DaemonError> {
        match result {
            Ok(v) => Ok(v),
            Err(Fail::Remote(e)) => Err(e),
            Err(Fail::Io(e)) => Err(self.fail_io(doing, &e)),
        }
    }

    /// Words a connection-level failure and breaks the connection for good.
    pub(crate) fn fail_io(&mut self, doing: &str, e: &io::Error) -> DaemonError {
        let err = DaemonError::io(e, &self.socket, doing);
        self.broken.get_or_insert_with(|| err.clone());
        err
    }

    /// Breaks the connection with a local error (the request stream could not be completed).
    pub(crate) fn poison(&mut self, err: DaemonError) {
        self.broken.get_or_insert(err);
    }

    /// Runs `f` with no read timeout (for builds, which take as long as they take).
    pub(crate) fn without_timeout<T>(&mut self, f: impl FnOnce(&mut Connection) -> T) -> T {
        let stream = self.reader.get_ref();
        let _ = stream.set_read_timeout(None);
        let result = f(self);
        let _ = self.reader.get_ref().set_read_timeout(self.timeout);
        result
    }

    /// Reads log messages up to the end of an operation's preamble (`STDERR_LAST`) or
    /// its error (`STDERR_ERROR`).
    pub(crate) fn process_stderr(&mut self) -> Result<(), Fail> {
        let r = &mut self.reader;
        loop {
            let event = match wire::read_u64(r)? {
                wire::STDERR_LAST => return Ok(()),
                wire::STDERR_ERROR => return Err(Fail::Remote(read_error(r, self.minor)?)),
                wire::STDERR_NEXT => LogEvent::Message(clean_message(&wire::read_text(r)?)),
                wire::STDERR_START_ACTIVITY => LogEvent::StartActivity {
                    id: wire::read_u64(r)?,
                    level: wire::read_u64(r)?,
                    kind: wire::read_u64(r)?,
                    text: strip_ansi(&wire::read_text(r)?),
                    fields: read_fields(r)?,
                    parent: wire::read_u64(r)?,
                },
                wire::STDERR_STOP_ACTIVITY => LogEvent::StopActivity { id: wire::read_u64(r)? },
                wire::STDERR_RESULT => {
                    LogEvent::Result { id: wire::read_u64(r)?, kind: wire::read_u64(r)?, fields: read_fields(r)? }
                }
                wire::STDERR_READ | wire::STDERR_WRITE => {
                    return Err(wire::invalid(
                        "the daemon asked to exchange data outside an operation that does".into(),
                    )
                    .into())
                }
                other => return Err(wire::invalid(format!("the daemon sent an unknown message {other:#x}")).into()),
            };
            self.log.emit(event);
        }
    }
}

/// The body of `STDERR_ERROR`: structured from protocol 1.26, a message and status before.
fn read_error(r: &mut impl io::Read, minor: u8) -> io::Result<DaemonError> {
    if minor < 26 {
        let message = strip_ansi(&wire::read_text(r)?);
        let status = wire::read_u64(r)?;
        return Ok(DaemonError::Remote { message, traces: Vec::new(), status });
    }
    let kind = wire::read_text(r)?;
    if kind != "Error" {
        return Err(wire::invalid(format!("the daemon sent an error of unknown type '{kind}'")));
    }
    let _level = wire::read_u64(r)?;
    let _name = wire::read_text(r)?;
    let message = strip_ansi(&wire::read_text(r)?);
    no_position(r)?;
    let count = wire::read_u64(r)?;
    if count > wire::MAX_ITEMS {
        return Err(wire::invalid(format!("the daemon sent {count} error traces")));
    }
    let mut traces = Vec::new();
    for _ in 0..count {
        no_position(r)?;
        traces.push(strip_ansi(&wire::read_text(r)?));
    }
    Ok(DaemonError::Remote { message, traces, status: 1 })
}

/// Error positions are never sent (CppNix writes 0 and asserts 0 when reading).
fn no_position(r: &mut impl io::Read) -> io::Result<()> {
    match wire::read_u64(r)? {
        0 => Ok(()),
        _ => Err(wire::invalid("the daemon sent an error position".into())),
    }
}

/// The fields of an activity event: a count, then for each a type (0 int, 1 string) and value.
fn read_fields(r: &mut impl io::Read) -> io::Result<Vec<Field>> {
    let count = wire::read_u64(r)?;
    if count > wire::MAX_ITEMS {
        return Err(wire::invalid(format!("the daemon sent {count} activity fields")));
    }
    (0..count)
        .map(|_| match wire::read_u64(r)? {
            0 => Ok(Field::Int(wire::read_u64(r)?)),
            1 => Ok(Field::String(wire::read_text(r)?)),
            t => Err(wire::invalid(format!("the daemon sent an activity field of unknown type {t}"))),
        })
        .collect()
}
