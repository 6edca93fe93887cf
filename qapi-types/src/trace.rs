//! Diagnostics through `tracing` when the `tracing` feature is on (the
//! default); without it the macros here compile to nothing and
//! [`CallTrace`] holds nothing, so that the clients log in one way either way.
//!
//! Levels: a span per call at `debug` (fields `command`, `id`,
//! `outcome`, `duration_us`), events received at `debug`, replies nobody
//! waits for and ignored messages at `warn`, protocol violations at
//! `warn`, connections made and closed at `info`.

// Without the async clients, the blocking ones use only some of these.
#![cfg_attr(not(feature = "tokio"), allow(dead_code, unused_macros))]

/// The target every diagnostic of the clients has.
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) const TARGET: &str = "qapi_types";

macro_rules! define_level {
    ($name:ident, $level:ident, $d:tt) => {
        /// Like `tracing`'s macro of that level, with the crate's target;
        /// without the `tracing` feature it only borrows the fields'
        /// values (so that they count as used).
        macro_rules! $name {
                            ($d($d arg:tt)*) => {{
                                #[cfg(feature = "tracing")]
                                {
                                    ::tracing::$level!(target: $crate::trace::TARGET, $d($d arg)*);
                                }
                                #[cfg(not(feature = "tracing"))]
                                {
                                    $crate::trace::borrow_fields!($d($d arg)*);
                                }
                            }};
                        }
        #[allow(unused_imports)]
        pub(crate) use $name;
    };
}

/// Borrows the values of `tracing`-style fields (`key = %value`,
/// `%value`, `key = value`, `value`, a message with its arguments),
/// and does nothing else.
#[cfg(not(feature = "tracing"))]
macro_rules! borrow_fields {
    () => {};
    ($key:ident = % $value:expr $(, $($rest:tt)*)?) => {
        let _ = &$value;
        $($crate::trace::borrow_fields!($($rest)*);)?
    };
    ($key:ident = ? $value:expr $(, $($rest:tt)*)?) => {
        let _ = &$value;
        $($crate::trace::borrow_fields!($($rest)*);)?
    };
    ($key:ident = $value:expr $(, $($rest:tt)*)?) => {
        let _ = &$value;
        $($crate::trace::borrow_fields!($($rest)*);)?
    };
    (% $value:ident $(, $($rest:tt)*)?) => {
        let _ = &$value;
        $($crate::trace::borrow_fields!($($rest)*);)?
    };
    (? $value:ident $(, $($rest:tt)*)?) => {
        let _ = &$value;
        $($crate::trace::borrow_fields!($($rest)*);)?
    };
    ($message:literal $(, $argument:expr)* $(,)?) => {
        $(let _ = &$argument;)*
    };
    ($value:ident $(, $($rest:tt)*)?) => {
        let _ = &$value;
        $($crate::trace::borrow_fields!($($rest)*);)?
    };
}
#[cfg(not(feature = "tracing"))]
pub(crate) use borrow_fields;

define_level!(log_debug, debug, $);
define_level!(log_info, info, $);
define_level!(log_warn, warn, $);

/// The span of one call (`command`, `id`, then `outcome` and
/// `duration_us`), recorded when [`CallTrace::finish`] is given the
/// result, or as `cancelled` when the call is dropped before.
pub(crate) struct CallTrace {
    #[cfg(feature = "tracing")]
    span: tracing::Span,
    /// When the call started, while its span is recorded and open.
    #[cfg(feature = "tracing")]
    started: Option<std::time::Instant>,
}

impl CallTrace {
    /// Opens the span of call `id` of `command` by `client` (`qmp`,
    /// `blocking-qmp`, `qga`, ...).
    #[allow(unused_variables)]
    pub(crate) fn new(client: &'static str, command: &str, id: u64) -> Self {
        #[cfg(feature = "tracing")]
        {
            let span = tracing::debug_span!(
                target: TARGET,
                "call",
                client,
                command,
                id,
                outcome = tracing::field::Empty,
                duration_us = tracing::field::Empty,
            );
            let started = (!span.is_disabled()).then(std::time::Instant::now);
            Self { span, started }
        }
        #[cfg(not(feature = "tracing"))]
        Self {}
    }

    /// Records how the call ended: `ok`, or the error's kind.
    #[allow(unused_variables, unused_mut)]
    pub(crate) fn finish<T>(mut self, result: &Result<T, crate::Error>) {
        #[cfg(feature = "tracing")]
        {
            self.record(outcome(result), result.as_ref().err());
            self.started = None;
        }
    }

    #[cfg(feature = "tracing")]
    fn record(&self, outcome: &'static str, error: Option<&crate::Error>) {
        let Some(started) = self.started else {
            return;
        };
        self.span.record("outcome", outcome);
        self.span
            .record("duration_us", started.elapsed().as_micros() as u64);
        if let Some(error) = error {
            let _entered = self.span.enter();
            tracing::debug!(target: TARGET, %error, "call failed");
        }
    }
}

impl Drop for CallTrace {
    fn drop(&mut self) {
        #[cfg(feature = "tracing")]
        self.record("cancelled", None);
    }
}

/// A call's outcome in one word.
#[cfg(feature = "tracing")]
fn outcome<T>(result: &Result<T, crate::Error>) -> &'static str {
    use crate::Error;
    match result {
        Ok(_) => "ok",
        Err(error) if error.is_qmp() => "error",
        Err(error) if error.is_timeout() => "timeout",
        Err(error) if error.is_closed() => "closed",
        Err(Error::Decode { .. }) => "decode",
        Err(error) if error.is_protocol() => "protocol",
        Err(_) => "failed",
    }
}
