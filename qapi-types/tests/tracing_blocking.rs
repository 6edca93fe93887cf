//! The blocking clients' diagnostics through `tracing`: a session with a
//! fake server is captured by a layer of our own, and the spans of its
//! calls (client, command, id, outcome, duration) and the late reply
//! dropped are checked.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qapi_types::{BlockingQmp, Config};
use serde_json::{json, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().into(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
}

/// A closed span (`Some` level of a span) or an event, with its fields.
type Captured = (bool, Level, BTreeMap<String, String>);

/// Keeps every closed span and every event.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        ctx.span(id).unwrap().extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let span = ctx.span(id).unwrap();
        let mut extensions = span.extensions_mut();
        if let Some(fields) = extensions.get_mut::<Fields>() {
            values.record(fields);
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let level = *event.metadata().level();
        self.0.lock().unwrap().push((false, level, fields.0));
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let span = ctx.span(&id).unwrap();
        let fields = span.extensions_mut().remove::<Fields>().unwrap_or_default();
        let level = *span.metadata().level();
        self.0.lock().unwrap().push((true, level, fields.0));
    }
}

/// Answers everything at once but the first `slow`, answered with the
/// next request's reply.
fn serve(stream: UnixStream) {
    let mut writer = stream.try_clone().unwrap();
    writer
        .write_all(b"{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n")
        .unwrap();
    let mut late = None;
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { break };
        let request: Value = serde_json::from_str(&line).unwrap();
        let reply = match request["execute"].as_str().unwrap() {
            "slow" => {
                late = Some(json!({"return": {}, "id": request["id"]}));
                continue;
            }
            "fail" => {
                json!({"error": {"class": "GenericError", "desc": "no"}, "id": request["id"]})
            }
            _ => json!({"return": {}, "id": request["id"]}),
        };
        for reply in late.take().into_iter().chain([reply]) {
            writer.write_all(format!("{reply}\n").as_bytes()).unwrap();
        }
    }
}

#[test]
fn a_blocking_session_is_traced() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    tracing::subscriber::with_default(subscriber, || {
        let (client, server) = UnixStream::pair().unwrap();
        let server = std::thread::spawn(move || serve(server));
        let qmp = BlockingQmp::from_socket(client, &Config::default()).unwrap();
        qmp.execute_raw("ok", json!({})).unwrap();
        qmp.execute_raw("fail", json!({})).unwrap_err();
        qmp.set_timeout(Some(Duration::from_millis(50)));
        assert!(qmp.execute_raw("slow", json!({})).unwrap_err().is_timeout());
        qmp.execute_raw("ok", json!({})).unwrap();
        assert_eq!(qmp.dropped_replies(), 1);
        qmp.close();
        drop(qmp);
        server.join().unwrap();
    });
    let captured = capture.0.lock().unwrap().clone();
    let calls: Vec<_> = captured
        .iter()
        .filter(|(span, ..)| *span)
        .map(|(_, level, fields)| {
            assert_eq!(*level, Level::DEBUG);
            assert_eq!(fields["client"], "blocking-qmp");
            let micros: u64 = fields["duration_us"].parse().expect("a duration");
            assert!(micros < 10_000_000);
            (
                fields["command"].clone(),
                fields["id"].clone(),
                fields["outcome"].clone(),
            )
        })
        .collect();
    let expected = [
        ("qmp_capabilities", "1", "ok"),
        ("ok", "2", "ok"),
        ("fail", "3", "error"),
        ("slow", "4", "timeout"),
        ("ok", "5", "ok"),
    ]
    .map(|(c, i, o)| (c.to_string(), i.to_string(), o.to_string()));
    assert_eq!(calls, expected);
    let dropped = captured
        .iter()
        .find(|(span, _, fields)| {
            !span
                && fields.get("message").map(String::as_str)
                    == Some("dropped a reply nobody waits for")
        })
        .unwrap_or_else(|| panic!("no dropped reply in {captured:#?}"));
    assert_eq!(dropped.1, Level::WARN);
    assert!(dropped.2["reply"].contains("\"id\":4"), "{:?}", dropped.2);
    assert!(captured.iter().any(|(span, level, fields)| !span
        && *level == Level::INFO
        && fields.get("message").map(String::as_str) == Some("connection closed")));
}
