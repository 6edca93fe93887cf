//! The async client's diagnostics through `tracing`: a session with a
//! fake server is captured by a layer of our own, and the spans of its
//! calls (command, id, outcome, duration) and its events (an event
//! received, a reply dropped, the close) are checked.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qapi_types::qmp::commands::QueryVersion;
use qapi_types::{Config, Qmp};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// A closed span or an event, with its fields as text.
#[derive(Clone, Debug)]
struct Captured {
    span: bool,
    name: String,
    level: Level,
    target: String,
    fields: BTreeMap<String, String>,
}

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

/// Keeps every closed span and every event.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        ctx.span(id)
            .expect("a span")
            .extensions_mut()
            .insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let span = ctx.span(id).expect("a span");
        let mut extensions = span.extensions_mut();
        if let Some(fields) = extensions.get_mut::<Fields>() {
            values.record(fields);
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let metadata = event.metadata();
        self.0.lock().unwrap().push(Captured {
            span: false,
            name: fields.0.get("message").cloned().unwrap_or_default(),
            level: *metadata.level(),
            target: metadata.target().into(),
            fields: fields.0,
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let span = ctx.span(&id).expect("a span");
        let fields = span.extensions_mut().remove::<Fields>().unwrap_or_default();
        self.0.lock().unwrap().push(Captured {
            span: true,
            name: span.name().into(),
            level: *span.metadata().level(),
            target: span.metadata().target().into(),
            fields: fields.0,
        });
    }
}

/// The fake server: answers the negotiation and `query-version`, fails
/// `fail`, answers the second `query-version` late, sends an event, and
/// hangs up.
async fn serve(stream: tokio::net::UnixStream) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write
        .write_all(b"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, \"minor\": 0, \"major\": 10}, \"package\": \"\"}, \"capabilities\": []}}\n")
        .await
        .unwrap();
    let mut versions = 0;
    while let Ok(Some(line)) = lines.next_line().await {
        let request: Value = serde_json::from_str(&line).unwrap();
        let id = request["id"].clone();
        let reply = match request["execute"].as_str().unwrap() {
            "fail" => json!({"error": {"class": "GenericError", "desc": "no"}, "id": id}),
            "query-version" => {
                versions += 1;
                if versions == 2 {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                json!({"return": {"qemu": {"major": 10, "minor": 0, "micro": 2}, "package": ""}, "id": id})
            }
            _ => json!({"return": {}, "id": id}),
        };
        write
            .write_all(format!("{reply}\n").as_bytes())
            .await
            .unwrap();
        if versions == 2 {
            write
                .write_all(b"{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}\n")
                .await
                .unwrap();
            return;
        }
    }
}

#[test]
fn a_session_is_traced() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            let (client, server) = tokio::net::UnixStream::pair().unwrap();
            let server = tokio::spawn(serve(server));
            let qmp = Qmp::from_stream(client, &Config::default()).await.unwrap();
            let mut events = qmp.events();
            qmp.execute(&QueryVersion::new()).await.unwrap();
            qmp.execute_raw("fail", json!({})).await.unwrap_err();
            let late = qmp
                .execute_timeout(&QueryVersion::new(), Duration::from_millis(50))
                .await
                .unwrap_err();
            assert!(late.is_timeout());
            assert_eq!(events.next().await.unwrap().event, "STOP");
            server.await.unwrap();
            assert!(events.next().await.is_err(), "closed");
            assert_eq!(qmp.dropped_replies(), 1);
            qmp.close().await;
        });
    });
    let captured = capture.0.lock().unwrap().clone();
    let calls: Vec<&Captured> = captured
        .iter()
        .filter(|c| c.span && c.name == "call")
        .collect();
    let summary: Vec<(&str, &str, &str)> = calls
        .iter()
        .map(|c| {
            (
                c.fields["command"].as_str(),
                c.fields["id"].as_str(),
                c.fields["outcome"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("qmp_capabilities", "1", "ok"),
            ("query-version", "2", "ok"),
            ("fail", "3", "error"),
            ("query-version", "4", "timeout"),
        ]
    );
    for call in &calls {
        assert_eq!(call.level, Level::DEBUG);
        assert_eq!(call.target, "qapi_types");
        assert_eq!(call.fields["client"], "qmp");
        let micros: u64 = call.fields["duration_us"].parse().expect("a duration");
        assert!(micros < 10_000_000);
    }
    let timed_out: u64 = calls[3].fields["duration_us"].parse().unwrap();
    assert!(timed_out >= 50_000, "{timed_out}");
    let event = |message: &str| {
        captured
            .iter()
            .find(|c| !c.span && c.name == message)
            .unwrap_or_else(|| panic!("no '{message}' in {captured:#?}"))
    };
    let received = event("event received");
    assert_eq!(
        (received.level, received.fields["event"].as_str()),
        (Level::DEBUG, "STOP")
    );
    let dropped = event("dropped a reply nobody waits for");
    assert_eq!(dropped.level, Level::WARN);
    assert!(
        dropped.fields["reply"].contains("\"id\":4")
            || dropped.fields["reply"].contains("\"id\": 4"),
        "{dropped:?}"
    );
    let closed = event("connection closed");
    assert_eq!(closed.level, Level::INFO);
    assert!(closed.fields["why"].contains("server closed"), "{closed:?}");
    assert_eq!(
        event("call failed").fields["error"],
        "fail: GenericError: no"
    );
}
