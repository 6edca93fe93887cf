//! How a client behaves: one [`Config`] for every client (async and
//! blocking QMP, async and blocking QGA), built with [`Config::builder`].
//!
//! ```
//! use std::time::Duration;
//! use qapi_types::Config;
//!
//! let config = Config::builder()
//!     .connect_timeout(Duration::from_secs(5))
//!     .call_timeout(Some(Duration::from_secs(60)))
//!     .oob(false)
//!     .build();
//! # let _ = config;
//! ```
//!
//! New settings may be added; existing code keeps compiling.

use std::time::Duration;

use crate::recording::Recorder;

/// How a client behaves: time limits, out-of-band execution, buffers.
/// Built with [`Config::builder`]; [`Config::default`] has every
/// default. A setting a client has no use for (out-of-band execution for
/// a guest agent, say) is ignored by it.
#[derive(Clone, Debug)]
pub struct Config {
    connect_timeout: Duration,
    greeting_timeout: Duration,
    call_timeout: Option<Duration>,
    close_grace: Duration,
    oob: bool,
    legacy_oob: bool,
    max_in_band: usize,
    event_buffer: usize,
    max_message: usize,
    recorder: Option<Recorder>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(30),
            greeting_timeout: Duration::from_secs(30),
            call_timeout: None,
            close_grace: Duration::from_secs(1),
            oob: true,
            legacy_oob: false,
            max_in_band: 8,
            event_buffer: 1024,
            max_message: 64 << 20,
            recorder: None,
        }
    }
}

// Without the async clients, the blocking ones read only some settings.
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
impl Config {
    /// A builder starting from the defaults.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder {
            config: Config::default(),
        }
    }

    /// A builder starting from this configuration.
    pub fn to_builder(&self) -> ConfigBuilder {
        ConfigBuilder {
            config: self.clone(),
        }
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    pub(crate) fn greeting_timeout(&self) -> Duration {
        self.greeting_timeout
    }

    pub(crate) fn call_timeout(&self) -> Option<Duration> {
        self.call_timeout
    }

    pub(crate) fn close_grace(&self) -> Duration {
        self.close_grace
    }

    pub(crate) fn oob(&self) -> bool {
        self.oob
    }

    pub(crate) fn legacy_oob(&self) -> bool {
        self.legacy_oob
    }

    pub(crate) fn max_in_band(&self) -> usize {
        self.max_in_band.max(1)
    }

    pub(crate) fn event_buffer(&self) -> usize {
        self.event_buffer.max(1)
    }

    pub(crate) fn max_message(&self) -> usize {
        self.max_message
    }

    pub(crate) fn recorder(&self) -> Option<&Recorder> {
        self.recorder.as_ref()
    }
}

/// Builds a [`Config`]: every setting starts at its default.
#[derive(Clone, Debug, Default)]
pub struct ConfigBuilder {
    config: Config,
}

impl ConfigBuilder {
    /// How long connecting may take: the socket's connection (and, for
    /// `connect_unix_retry`, waiting for the socket to appear) or, when
    /// accepting, waiting for the server to connect. Default 30 s.
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.config.connect_timeout = limit;
        self
    }

    /// How long the greeting may take to come, and then the answer to
    /// the capabilities negotiation (a guest agent: the first
    /// synchronisation). A QEMU monitor serving another client sends no
    /// greeting. Default 30 s.
    pub fn greeting_timeout(mut self, limit: Duration) -> Self {
        self.config.greeting_timeout = limit;
        self
    }

    /// The time limit of every call that is not given one of its own;
    /// `None` (the default) waits as long as the server takes.
    pub fn call_timeout(mut self, limit: Option<Duration>) -> Self {
        self.config.call_timeout = limit;
        self
    }

    /// How long closing waits for requests already queued to be written
    /// and for the socket to shut down. Default 1 s.
    pub fn close_grace(mut self, limit: Duration) -> Self {
        self.config.close_grace = limit;
        self
    }

    /// Turn on out-of-band execution when the server offers it. Default
    /// on.
    pub fn oob(mut self, enable: bool) -> Self {
        self.config.oob = enable;
        self
    }

    /// Use QEMU 2.12's syntax for out-of-band execution
    /// (`"control": {"run-oob": true}`). Default off.
    pub fn legacy_oob(mut self, enable: bool) -> Self {
        self.config.legacy_oob = enable;
        self
    }

    /// With out-of-band execution on, at most this many in-band commands
    /// are in flight, so that out-of-band ones still get through (the
    /// protocol asks for at most 8, the default). At least 1.
    pub fn max_in_band(mut self, count: usize) -> Self {
        self.config.max_in_band = count;
        self
    }

    /// Events buffered for a subscriber that falls behind (the blocking
    /// clients: events kept until asked for). Default 1024, at least 1.
    /// With [`max_message`](Self::max_message), it bounds the memory a
    /// server's events can take: this many events, each parsed from at
    /// most that many bytes (QEMU's events are well under a kilobyte; a
    /// server not trusted is better met with a lower `max_message`).
    pub fn event_buffer(mut self, count: usize) -> Self {
        self.config.event_buffer = count;
        self
    }

    /// The longest message accepted from the server, in bytes (a
    /// pretty-printed one counts all its lines). Default 64 MiB.
    pub fn max_message(mut self, bytes: usize) -> Self {
        self.config.max_message = bytes;
        self
    }

    /// Record every session of a QMP client (async or blocking) made with
    /// this configuration (requests, replies, events, with timing) to
    /// `recorder`: see [`recording`](crate::recording) for the format, and
    /// the server's `Replay` to serve it again. Default: no recording.
    pub fn record(mut self, recorder: Recorder) -> Self {
        self.config.recorder = Some(recorder);
        self
    }

    /// The configuration.
    pub fn build(self) -> Config {
        self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_sets_what_it_is_told_and_keeps_the_rest() {
        let config = Config::builder()
            .connect_timeout(Duration::from_secs(2))
            .call_timeout(Some(Duration::from_secs(3)))
            .oob(false)
            .max_in_band(0)
            .build();
        assert_eq!(config.connect_timeout(), Duration::from_secs(2));
        assert_eq!(config.call_timeout(), Some(Duration::from_secs(3)));
        assert!(!config.oob());
        assert_eq!(config.max_in_band(), 1);
        assert_eq!(config.greeting_timeout(), Duration::from_secs(30));
        assert_eq!(config.event_buffer(), 1024);
        let again = config.to_builder().legacy_oob(true).build();
        assert!(again.legacy_oob() && !again.oob());
    }
}
