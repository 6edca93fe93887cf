//! How a server behaves: one [`ServerConfig`], built with
//! [`ServerConfig::builder`].
//!
//! ```
//! use qapi_types::qmp::{VersionInfo, VersionTriple};
//! use qapi_types::server::{QueuePolicy, ServerConfig};
//!
//! let config = ServerConfig::builder()
//!     .version(VersionInfo::new(VersionTriple::new(9, 2, 0), "mock"))
//!     .queue_policy(QueuePolicy::DropWhenFull)
//!     .build();
//! # let _ = config;
//! ```
//!
//! New settings may be added; existing code keeps compiling.

use super::conditions::Conditions;
use crate::qmp::{VersionInfo, VersionTriple};

/// What happens to an in-band command that arrives while the in-band
/// queue is full (eight commands waiting, with out-of-band execution on).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueuePolicy {
    /// The server stops reading from the client until a command leaves the
    /// queue (QEMU since 3.0).
    #[default]
    Backpressure,
    /// The server drops the command and sends the client a
    /// `COMMAND_DROPPED` event with its id and reason `queue-full` (QEMU
    /// 2.12).
    DropWhenFull,
}

/// How a server behaves: what its greeting says, what it offers, how it
/// queues, how much it reads. Built with [`ServerConfig::builder`];
/// [`ServerConfig::default`] has every default.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    version: VersionInfo,
    oob: bool,
    queue_policy: QueuePolicy,
    legacy_oob: bool,
    max_message: usize,
    conditions: Conditions,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            version: VersionInfo::new(VersionTriple::new(10, 0, 2), "qapi-types"),
            oob: true,
            queue_policy: QueuePolicy::Backpressure,
            legacy_oob: false,
            max_message: 64 << 20,
            conditions: Conditions::default(),
        }
    }
}

impl ServerConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> ServerConfigBuilder {
        ServerConfigBuilder {
            config: ServerConfig::default(),
        }
    }

    /// A builder starting from this configuration.
    pub fn to_builder(&self) -> ServerConfigBuilder {
        ServerConfigBuilder {
            config: self.clone(),
        }
    }

    /// The version the greeting and `query-version` report.
    pub fn version(&self) -> &VersionInfo {
        &self.version
    }

    /// Whether the greeting offers out-of-band execution.
    pub fn oob(&self) -> bool {
        self.oob
    }

    /// What happens to an in-band command when the queue is full.
    pub fn queue_policy(&self) -> QueuePolicy {
        self.queue_policy
    }

    /// Whether QEMU 2.12's `"control": {"run-oob": true}` is accepted.
    pub fn legacy_oob(&self) -> bool {
        self.legacy_oob
    }

    /// The longest message read from a client, in bytes.
    pub fn max_message(&self) -> usize {
        self.max_message
    }

    /// The build conditions `query-qmp-schema`, the commands served and
    /// the arguments taken follow.
    pub fn conditions(&self) -> &Conditions {
        &self.conditions
    }
}

/// Builds a [`ServerConfig`]: every setting starts at its default.
#[derive(Clone, Debug, Default)]
pub struct ServerConfigBuilder {
    config: ServerConfig,
}

impl ServerConfigBuilder {
    /// The version the greeting and `query-version` report. Default
    /// QEMU 10.0.2 (whose protocol the server speaks), package
    /// `qapi-types`.
    pub fn version(mut self, version: VersionInfo) -> Self {
        self.config.version = version;
        self
    }

    /// Offer out-of-band execution (the `oob` capability). Default on.
    pub fn oob(mut self, offer: bool) -> Self {
        self.config.oob = offer;
        self
    }

    /// What happens to an in-band command when eight wait. Default
    /// [`QueuePolicy::Backpressure`], as QEMU does today.
    pub fn queue_policy(mut self, policy: QueuePolicy) -> Self {
        self.config.queue_policy = policy;
        self
    }

    /// Accept QEMU 2.12's syntax for out-of-band execution,
    /// `{"execute": ..., "control": {"run-oob": true}}`. Default off (as
    /// QEMU since 3.0, which refuses the `control` member).
    pub fn legacy_oob(mut self, accept: bool) -> Self {
        self.config.legacy_oob = accept;
        self
    }

    /// The longest message read from a client, in bytes: a longer one is
    /// refused as QEMU refuses one over its limit ("JSON token size limit
    /// exceeded"), and no more than this is held of it. Default 64 MiB,
    /// QEMU's limit. At least 64 bytes.
    pub fn max_message(mut self, bytes: usize) -> Self {
        self.config.max_message = bytes.max(64);
        self
    }

    /// The build conditions that hold, as in a QEMU built so: what fails
    /// them is left out of `query-qmp-schema`; a command they leave out is
    /// answered as one the server lacks (`CommandNotFound`) and not listed
    /// by `query-commands`; and arguments that use a member, value or
    /// alternative they leave out are refused as QEMU refuses them
    /// (see [`check_arguments`](super::check_arguments)). The conditions
    /// are those the dispatch's table carries (generated bindings carry
    /// the schema's). Default: see [`Conditions`].
    pub fn conditions(mut self, conditions: Conditions) -> Self {
        self.config.conditions = conditions;
        self
    }

    /// The configuration.
    pub fn build(self) -> ServerConfig {
        self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_sets_what_it_is_told_and_keeps_the_rest() {
        let config = ServerConfig::builder()
            .oob(false)
            .queue_policy(QueuePolicy::DropWhenFull)
            .max_message(1)
            .build();
        assert!(!config.oob());
        assert_eq!(config.queue_policy(), QueuePolicy::DropWhenFull);
        assert_eq!(config.max_message(), 64);
        assert!(!config.legacy_oob());
        assert_eq!(config.version().qemu.major, 10);
        let again = config.to_builder().legacy_oob(true).build();
        assert!(again.legacy_oob() && !again.oob());
    }
}
