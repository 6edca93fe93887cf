//! Subscriptions to a connection's events: all of them as they arrive
//! ([`Events`]), or one event type decoded, optionally filtered
//! ([`Subscription`], also a [`futures_core::Stream`]).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::{Event, EventSet, RawEvent, Timestamped};

/// A subscription to a connection's events.
pub struct Events {
    receiver: broadcast::Receiver<RawEvent>,
}

/// Why a subscription returned no event.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventsError {
    /// The subscriber fell behind: this many events were dropped for it.
    #[error("the subscriber fell behind: {0} events dropped")]
    Lagged(u64),
    /// The connection closed.
    #[error("the connection closed")]
    Closed,
    /// An event of the subscribed type whose data does not decode as it.
    #[error("event {event}: unexpected data: {message}")]
    Malformed {
        /// The event's name.
        event: String,
        /// Why it did not decode.
        message: String,
    },
    /// No event came within the time limit.
    #[error("no event within {0:?}")]
    TimedOut(Duration),
}

impl EventsError {
    /// Whether the time limit ran out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, EventsError::TimedOut(_))
    }

    /// Whether the connection closed.
    pub fn is_closed(&self) -> bool {
        matches!(self, EventsError::Closed)
    }
}

fn receive_error(error: RecvError) -> EventsError {
    match error {
        RecvError::Lagged(missed) => EventsError::Lagged(missed),
        RecvError::Closed => EventsError::Closed,
    }
}

impl Events {
    pub(crate) fn new(receiver: broadcast::Receiver<RawEvent>) -> Self {
        Self { receiver }
    }

    /// The next event as it arrived.
    pub async fn next(&mut self) -> Result<RawEvent, EventsError> {
        self.receiver.recv().await.map_err(receive_error)
    }

    /// The next event, decoded with the schema's event set `E`.
    pub async fn next_typed<E: EventSet>(
        &mut self,
    ) -> Result<Result<Timestamped<E>, serde_json::Error>, EventsError> {
        let raw = self.next().await?;
        Ok(E::decode_timestamped(&raw))
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events")
            .field("queued", &self.receiver.len())
            .finish()
    }
}

/// A receive in progress, owning the receiver until it completes.
type Receiving = Pin<
    Box<dyn Future<Output = (Result<RawEvent, RecvError>, broadcast::Receiver<RawEvent>)> + Send>,
>;

/// Which events of type `E` a [`Subscription`] passes on.
type Predicate<E> = Box<dyn FnMut(&E) -> bool + Send>;

/// A subscription to the events of one type `E` (a generated event
/// struct, `BlockJobCompleted` say), decoded, optionally only those a
/// predicate accepts ([`Subscription::filter`]). Made by
/// [`Qmp::subscribe`](crate::Qmp::subscribe); it sees events from then
/// on. Also a [`futures_core::Stream`] of
/// `Result<Timestamped<E>, EventsError>` that ends when the connection
/// closes.
pub struct Subscription<E> {
    receiver: Option<broadcast::Receiver<RawEvent>>,
    receiving: Option<Receiving>,
    predicate: Option<Predicate<E>>,
    event: PhantomData<fn() -> E>,
}

impl<E: Event> Subscription<E> {
    pub(crate) fn new(receiver: broadcast::Receiver<RawEvent>) -> Self {
        Self {
            receiver: Some(receiver),
            receiving: None,
            predicate: None,
            event: PhantomData,
        }
    }

    /// Only the events `accept` returns `true` for (replacing an earlier
    /// predicate).
    pub fn filter(mut self, accept: impl FnMut(&E) -> bool + Send + 'static) -> Self {
        self.predicate = Some(Box::new(accept));
        self
    }

    /// The next event of type `E` that the predicate accepts.
    pub async fn next(&mut self) -> Result<Timestamped<E>, EventsError> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    /// The next event of type `E` that the predicate accepts, within
    /// `timeout` ([`EventsError::TimedOut`]).
    pub async fn wait(&mut self, timeout: Duration) -> Result<Timestamped<E>, EventsError> {
        tokio::time::timeout(timeout, self.next())
            .await
            .unwrap_or(Err(EventsError::TimedOut(timeout)))
    }

    /// Polls for the next matching event.
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Timestamped<E>, EventsError>> {
        loop {
            let raw = match self.poll_raw(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Ready(Ok(raw)) => raw,
            };
            let Some(decoded) = raw.decode::<E>() else {
                continue;
            };
            let event = match decoded {
                Ok(event) => event,
                Err(error) => {
                    return Poll::Ready(Err(EventsError::Malformed {
                        event: raw.event,
                        message: error.to_string(),
                    }))
                }
            };
            if self.predicate.as_mut().is_none_or(|accept| accept(&event)) {
                return Poll::Ready(Ok(Timestamped {
                    event,
                    timestamp: raw.timestamp,
                }));
            }
        }
    }

    /// Polls for the next event of any type.
    fn poll_raw(&mut self, cx: &mut Context<'_>) -> Poll<Result<RawEvent, EventsError>> {
        if self.receiving.is_none() {
            let Some(mut receiver) = self.receiver.take() else {
                return Poll::Ready(Err(EventsError::Closed));
            };
            // Most events are queued already: no allocation for them.
            match receiver.try_recv() {
                Ok(raw) => {
                    self.receiver = Some(receiver);
                    return Poll::Ready(Ok(raw));
                }
                Err(broadcast::error::TryRecvError::Lagged(missed)) => {
                    self.receiver = Some(receiver);
                    return Poll::Ready(Err(EventsError::Lagged(missed)));
                }
                Err(broadcast::error::TryRecvError::Closed) => {
                    return Poll::Ready(Err(EventsError::Closed));
                }
                Err(broadcast::error::TryRecvError::Empty) => {}
            }
            self.receiving = Some(Box::pin(async move {
                let received = receiver.recv().await;
                (received, receiver)
            }));
        }
        let receiving = self.receiving.as_mut().expect("set above");
        let (received, receiver) = match receiving.as_mut().poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(done) => done,
        };
        self.receiving = None;
        match received {
            Err(RecvError::Closed) => Poll::Ready(Err(EventsError::Closed)),
            other => {
                self.receiver = Some(receiver);
                Poll::Ready(other.map_err(receive_error))
            }
        }
    }
}

impl<E: Event> futures_core::Stream for Subscription<E> {
    type Item = Result<Timestamped<E>, EventsError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // Every field is `Unpin`.
        let this = self.get_mut();
        match this.poll_event(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(EventsError::Closed)) => Poll::Ready(None),
            Poll::Ready(item) => Poll::Ready(Some(item)),
        }
    }
}

impl<E: Event> fmt::Debug for Subscription<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("event", &E::NAME)
            .field("filtered", &self.predicate.is_some())
            .field(
                "closed",
                &(self.receiver.is_none() && self.receiving.is_none()),
            )
            .finish()
    }
}
