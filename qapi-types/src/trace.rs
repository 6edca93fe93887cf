//! Diagnostics through `tracing` when the `tracing` feature is on (the
//! default); without it the macros here compile to nothing and [`Span`]
//! is an empty stand-in, so that the clients log in one way either way.
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

#[cfg(feature = "tracing")]
pub(crate) use tracing::Span;

/// What stands in for `tracing::Span` without the `tracing` feature.
#[cfg(not(feature = "tracing"))]
#[derive(Clone, Debug)]
pub(crate) struct Span;

#[cfg(not(feature = "tracing"))]
#[allow(dead_code)]
impl Span {
    /// Whether the span is recorded: never.
    pub(crate) fn is_disabled(&self) -> bool {
        true
    }
}

/// The span of one call: `command` and `id` now, `outcome` and
/// `duration_us` recorded by [`finish_call`].
#[allow(unused_variables)]
pub(crate) fn call_span(client: &'static str, command: &str, id: u64) -> Span {
    #[cfg(feature = "tracing")]
    {
        tracing::debug_span!(
            target: TARGET,
            "call",
            client,
            command,
            id,
            outcome = tracing::field::Empty,
            duration_us = tracing::field::Empty,
        )
    }
    #[cfg(not(feature = "tracing"))]
    {
        Span
    }
}

/// Records how a call ended on its span: `ok`, or the error's kind, and
/// the time since `started` (taken only when the span is recorded).
#[allow(unused_variables)]
pub(crate) fn finish_call<T>(
    span: &Span,
    started: Option<std::time::Instant>,
    result: &Result<T, crate::Error>,
) {
    #[cfg(feature = "tracing")]
    {
        if span.is_disabled() {
            return;
        }
        span.record("outcome", outcome(result));
        if let Some(started) = started {
            span.record("duration_us", started.elapsed().as_micros() as u64);
        }
        if let Err(error) = result {
            let _entered = span.enter();
            tracing::debug!(target: TARGET, %error, "call failed");
        }
    }
}

/// The moment a call starts, when its span is recorded.
pub(crate) fn start(span: &Span) -> Option<std::time::Instant> {
    (!span.is_disabled()).then(std::time::Instant::now)
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
