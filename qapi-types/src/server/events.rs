//! Events a server sends: timestamped as QEMU timestamps them, and handed
//! to every connection that has negotiated capabilities.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::mpsc;

/// What a connection's writer sends, in order.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// A message, serialized (without its line ending).
    Message(Arc<str>),
    /// A reply, and the events to send once it is written.
    Reply(String, Vec<Arc<str>>),
}

/// The connections that receive events.
#[derive(Debug, Default)]
pub(crate) struct Hub {
    connections: Mutex<HashMap<u64, mpsc::Sender<Outgoing>>>,
    next: AtomicU64,
    dropped: AtomicU64,
}

impl Hub {
    /// A number for a new connection.
    pub(crate) fn next_id(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// Connection `id` receives events from now on.
    pub(crate) fn join(&self, id: u64, sender: mpsc::Sender<Outgoing>) {
        self.lock().insert(id, sender);
    }

    /// Connection `id` receives no more events.
    pub(crate) fn leave(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// How many connections receive events.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// How many events were not sent to a connection whose client had
    /// not read the ones before (its queue full).
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Sends an event to every connection that negotiated. A connection
    /// whose client does not read gets no more than its queue holds: the
    /// events beyond are dropped for it, and counted.
    pub(crate) fn broadcast(&self, event: &Arc<str>) {
        let connections = self.lock();
        for sender in connections.values() {
            if sender.try_send(Outgoing::Message(event.clone())).is_err() {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                crate::trace::log_warn!(
                    "event dropped for a client that does not read its messages"
                );
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, mpsc::Sender<Outgoing>>> {
        self.connections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// An event as QEMU sends it, `{"timestamp": ..., "event": NAME, "data":
/// ...}`, stamped now, from `data`'s JSON text (a typed event serialized
/// once, straight to text); `data` left out when it is `null`.
pub(crate) fn event_message(name: &str, data: &str) -> Arc<str> {
    let crate::Timestamp {
        seconds,
        microseconds,
    } = crate::Timestamp::now();
    let name = Value::String(name.to_string());
    let mut text = format!(
        "{{\"timestamp\": {{\"seconds\": {seconds}, \"microseconds\": {microseconds}}}, \"event\": {name}"
    );
    if data != "null" {
        text.push_str(", \"data\": ");
        text.push_str(data);
    }
    text.push('}');
    text.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_are_timestamped_and_leave_out_null_data() {
        let stop: Value = serde_json::from_str(&event_message("STOP", "null")).unwrap();
        assert_eq!(stop["event"], "STOP");
        assert!(stop.get("data").is_none());
        assert!(stop["timestamp"]["seconds"].as_i64().unwrap() > 1_600_000_000);
        let job = event_message(
            "JOB_STATUS_CHANGE",
            &json!({"id": "j", "status": "running"}).to_string(),
        );
        let job: crate::RawEvent = serde_json::from_str(&job).unwrap();
        assert_eq!(job.data["status"], "running");
    }

    #[tokio::test]
    async fn a_connection_that_does_not_read_loses_events_not_memory() {
        let hub = Hub::default();
        let (sender, mut receiver) = mpsc::channel(2);
        hub.join(hub.next_id(), sender);
        let event = event_message("STOP", "null");
        for _ in 0..5 {
            hub.broadcast(&event);
        }
        assert_eq!(hub.dropped(), 3);
        assert!(receiver.recv().await.is_some());
        hub.leave(0);
        assert_eq!(hub.len(), 0);
    }
}
