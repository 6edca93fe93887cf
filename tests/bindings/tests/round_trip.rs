//! Round trips of every construct through the example schema's bindings:
//! absent, null and a value; empty and unknown union branches; unknown
//! enum values, members and events; the limits of each integer width;
//! the compile-time facts of commands.

use qapi_bindings_tests::example::{
    commands, events, ExportOptions, ExportOptionsBranch, HealthState, LabelOrNull,
    VolumeOptionsUpdate, VolumeQos,
};
use qapi_types::serde_json::{self, json, Value};
use qapi_types::{Command, Event, EventSet, RawEvent, Timestamp};

fn decode<T: qapi_types::serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("decodes")
}

fn encode<T: qapi_types::serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("encodes")
}

#[test]
fn absent_null_and_value_are_three_states() {
    let absent: VolumeOptionsUpdate = decode(json!({ "id": "v0" }));
    assert_eq!(absent.label, None);
    let null: VolumeOptionsUpdate = decode(json!({ "id": "v0", "label": null }));
    assert_eq!(null.label, Some(LabelOrNull::Clear));
    let value: VolumeOptionsUpdate = decode(json!({ "id": "v0", "label": "db" }));
    assert_eq!(value.label, Some(LabelOrNull::Text("db".into())));
    assert_eq!(encode(&absent), json!({ "id": "v0" }));
    assert_eq!(encode(&null), json!({ "id": "v0", "label": null }));
    assert_eq!(encode(&value), json!({ "id": "v0", "label": "db" }));
    // Built without a struct literal, so a newer schema's optional members
    // cannot break this code.
    let built = VolumeOptionsUpdate::new("v0").with_label(LabelOrNull::Clear);
    assert_eq!(built, null);
}

#[test]
fn union_branches_round_trip() {
    let nfs = json!({ "id": "e0", "volume-id": "v0", "protocol": "nfs", "path": "/export" });
    let decoded: ExportOptions = decode(nfs.clone());
    assert!(matches!(decoded.protocol, ExportOptionsBranch::Nfs(_)));
    assert_eq!(encode(&decoded), nfs);

    // A discriminator value without a branch: an empty branch.
    let ublk = json!({ "id": "e1", "volume-id": "v0", "protocol": "ublk" });
    let decoded: ExportOptions = decode(ublk.clone());
    assert_eq!(decoded.protocol, ExportOptionsBranch::Ublk);
    assert_eq!(encode(&decoded), ublk);
}

#[test]
fn unknown_branch_from_a_newer_server_is_kept() {
    let newer = json!({ "id": "e2", "volume-id": "v0", "protocol": "smb", "share": "data", "writable": true });
    let decoded: ExportOptions = decode(newer.clone());
    let ExportOptionsBranch::Unrecognized { case, members } = &decoded.protocol else {
        panic!("an unrecognized branch: {decoded:?}");
    };
    assert_eq!(case, "smb");
    assert_eq!(members.get("share"), Some(&json!("data")));
    assert_eq!(decoded.writable, Some(true));
    assert_eq!(encode(&decoded), newer);
}

#[test]
fn unknown_enum_value_is_kept() {
    let value: HealthState = decode(json!("melting"));
    assert_eq!(value, HealthState::Unrecognized("melting".into()));
    assert_eq!(encode(&value), json!("melting"));
    assert_eq!(value.to_string(), "melting");
    assert_eq!(
        decode::<HealthState>(json!("degraded")),
        HealthState::Degraded
    );
}

#[test]
fn unknown_members_are_ignored() {
    let update: VolumeOptionsUpdate =
        decode(json!({ "id": "v0", "added-in-a-later-release": [1, 2] }));
    assert_eq!(update, VolumeOptionsUpdate::new("v0"));
}

#[test]
fn missing_required_member_is_an_error_that_names_it() {
    let error = serde_json::from_value::<VolumeOptionsUpdate>(json!({ "label": "x" })).unwrap_err();
    assert!(error.to_string().contains("missing member `id`"), "{error}");
    let error = serde_json::from_value::<VolumeOptionsUpdate>(json!({ "id": 5 })).unwrap_err();
    assert!(error.to_string().contains("member `id`"), "{error}");
}

#[test]
fn integer_widths_are_exact() {
    let qos: VolumeQos = decode(
        json!({ "priority": 127, "burst-seconds": 65535, "iops-limit": 4294967295u32, "bandwidth-limit": 18446744073709551615u64 }),
    );
    assert_eq!(qos.priority, Some(i8::MAX));
    assert_eq!(qos.burst_seconds, Some(u16::MAX));
    assert_eq!(qos.iops_limit, Some(u32::MAX));
    assert_eq!(qos.bandwidth_limit, Some(u64::MAX));
    assert_eq!(
        decode::<VolumeQos>(json!({ "priority": -128 })).priority,
        Some(i8::MIN)
    );
    for out_of_range in [
        json!({ "priority": 128 }),
        json!({ "priority": -129 }),
        json!({ "burst-seconds": 65536 }),
        json!({ "burst-seconds": -1 }),
        json!({ "iops-limit": 4294967296u64 }),
        json!({ "bandwidth-limit": -1 }),
        json!({ "bandwidth-limit": 1.5 }),
    ] {
        assert!(
            serde_json::from_value::<VolumeQos>(out_of_range.clone()).is_err(),
            "{out_of_range}"
        );
    }
}

#[test]
fn events_decode_by_name_and_unknown_ones_are_kept() {
    let raw: RawEvent = decode(json!({
        "event": "VOLUME_HEALTH_CHANGED",
        "data": { "id": "v0", "previous": "ok", "current": "degraded" },
        "timestamp": { "seconds": 1267020223, "microseconds": 435656 }
    }));
    assert_eq!(raw.timestamp.to_string(), "1267020223.435656");
    let events::Event::VolumeHealthChanged(event) = events::Event::decode(&raw).expect("decodes")
    else {
        panic!("a known event");
    };
    assert_eq!(event.current, HealthState::Degraded);
    assert_eq!(
        <events::VolumeHealthChanged as Event>::NAME,
        "VOLUME_HEALTH_CHANGED"
    );

    let newer: RawEvent = decode(json!({
        "event": "VOLUME_MELTED", "data": { "id": "v0" },
        "timestamp": { "seconds": -1, "microseconds": -1 }
    }));
    assert_eq!(
        newer.timestamp,
        Timestamp {
            seconds: -1,
            microseconds: -1
        }
    );
    assert_eq!(newer.timestamp.to_string(), "unknown");
    assert_eq!(
        events::Event::decode(&newer).expect("kept"),
        events::Event::Unrecognized(newer.clone())
    );

    // An event without data decodes whether `data` is absent or empty.
    let ready: RawEvent = decode(
        json!({ "event": "APPLIANCE_READY", "timestamp": { "seconds": 1, "microseconds": 2 } }),
    );
    assert!(matches!(
        events::Event::decode(&ready),
        Ok(events::Event::ApplianceReady(_))
    ));
}

#[test]
fn commands_fix_name_reply_and_flags() {
    assert_eq!(<commands::JobCancel as Command>::NAME, "job-cancel");
    const { assert!(<commands::JobCancel as Command>::ALLOW_OOB) };
    const { assert!(!<commands::ApplianceReboot as Command>::SUCCESS_RESPONSE) };
    let cancel = commands::JobCancel::new("job0").with_force(true);
    assert_eq!(encode(&cancel), json!({ "id": "job0", "force": true }));
    // A command without arguments encodes as an empty object.
    assert_eq!(encode(&commands::ApplianceReboot::new()), json!({}));
}
