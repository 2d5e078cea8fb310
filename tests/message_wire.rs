//! Golden tests of AIPerf's JSON wire shape: every JSON line of the reference
//! (`aiperf-messages.md` §1, dumped by pydantic from AIPerf's models) decodes and re-encodes to
//! the same bytes, so the same JSON value with AIPerf's key order; plus the omit-if-None rule,
//! the validation rules, unknown types and keys, user types, and every decode error.

use lifecycle_ecs::messaging::{
    AnyMessage, Command, CommandBody, CommandOutcome, CommandResponse, CommandType,
    ConnectionProbe, DecodeError, EncodeError, ErrorMessage, Heartbeat, Message, MessageRuleError,
    RawMessage, Status,
};
use lifecycle_ecs::{ErrorDetails, LifecycleState, wire_message};
use serde_json::{Value, json};

/// The reference's typed lines (§1.3, §1.4), each with the variant it must decode to.
const TYPED_GOLDEN: [(&str, &str); 8] = [
    (
        "error",
        r#"{"message_type":"error","request_id":"r-1","error":{"code":null,"type":"NO_RESPONSE","message":"No response was generated for the request."}}"#,
    ),
    (
        "status",
        r#"{"message_type":"status","request_ns":1796160310355016617,"service_id":"worker_1a2b3c4d","state":"running","service_type":"worker"}"#,
    ),
    (
        "heartbeat",
        r#"{"message_type":"heartbeat","request_ns":1796160312355016617,"service_id":"worker_1a2b3c4d","state":"running","service_type":"worker"}"#,
    ),
    (
        "connection_probe",
        r#"{"message_type":"connection_probe","service_id":"worker_1a2b3c4d","target_service_id":"worker_1a2b3c4d"}"#,
    ),
    (
        "command",
        r#"{"message_type":"command","service_id":"worker_1a2b3c4d","target_service_type":"system_controller","command":"register_service","command_id":"c-2","service_type":"worker","state":"starting"}"#,
    ),
    (
        "command",
        r#"{"message_type":"command","service_id":"worker_manager_1","target_service_type":"system_controller","command":"shutdown_workers","command_id":"c-4","all_workers":true}"#,
    ),
    (
        "command_response",
        r#"{"message_type":"command_response","service_id":"worker_1a2b3c4d","target_service_id":"system_controller_00000001","command":"profile_start","command_id":"c-1","status":"success","data":{"k":1}}"#,
    ),
    (
        "command_response",
        r#"{"message_type":"command_response","service_id":"worker_1a2b3c4d","target_service_id":"system_controller_00000001","command":"profile_start","command_id":"c-1","status":"failure","error":{"code":null,"type":"ValueError","message":"boom"}}"#,
    ),
];

/// The reference's lines for types the fleet issue will model (§1.5, §1.6): kept raw here.
const RAW_GOLDEN: [&str; 4] = [
    r#"{"message_type":"worker_health","service_id":"worker_1a2b3c4d","health":{"pid":42,"create_time":1.5,"uptime":2.5,"cpu_usage":12.5,"memory_usage":1024,"io_counters":[1,2,3,4,5,6],"cpu_times":[0.1,0.2,0.0],"num_ctx_switches":[7,8],"num_threads":3},"task_stats":{"total":3,"failed":1,"completed":1}}"#,
    r#"{"message_type":"worker_status_summary","service_id":"worker_manager_1","worker_statuses":{"worker_1a2b3c4d":"high_load"}}"#,
    r#"{"message_type":"credit_drop","request_id":"d-1","service_id":"timing_manager_1","phase":"profiling","credit_num":0,"conversation_id":null,"credit_drop_ns":null,"should_cancel":false,"cancel_after_ns":0}"#,
    r#"{"message_type":"credit_return","service_id":"worker_1a2b3c4d","phase":"profiling","credit_drop_id":"d-1","delayed_ns":null}"#,
];

/// The keys of a JSON object, in order.
fn keys(json: &str) -> Vec<String> {
    let Value::Object(map) = serde_json::from_str::<Value>(json).expect("json") else {
        panic!("not an object: {json}")
    };
    map.keys().cloned().collect()
}

/// Decodes, checks the variant, re-encodes.
fn round_trip(line: &str) -> (AnyMessage, String) {
    let message = AnyMessage::decode(line.as_bytes()).unwrap_or_else(|e| panic!("{line}: {e}"));
    let encoded = message.to_json().unwrap_or_else(|e| panic!("{line}: {e}"));
    (message, encoded)
}

#[test]
fn every_typed_reference_line_decodes_typed_and_re_encodes_byte_for_byte() {
    for (message_type, line) in TYPED_GOLDEN {
        let (message, encoded) = round_trip(line);
        assert!(!matches!(message, AnyMessage::Raw(_)), "{line} decoded raw");
        assert_eq!(message.message_type(), message_type);
        // Same bytes: the same JSON value, the same key order, pydantic's compact separators.
        assert_eq!(encoded, line);
        assert_eq!(keys(&encoded), keys(line));
        assert_eq!(
            serde_json::from_str::<Value>(&encoded).expect("json"),
            serde_json::from_str::<Value>(line).expect("json")
        );
        // And a second trip is stable.
        assert_eq!(
            AnyMessage::decode(encoded.as_bytes()).expect("again"),
            message
        );
    }
}

#[test]
fn the_typed_reference_lines_decode_to_the_fields_they_show() {
    let (AnyMessage::Status(status), _) = round_trip(TYPED_GOLDEN[1].1) else {
        panic!()
    };
    assert_eq!(status.request_ns, Some(1_796_160_310_355_016_617));
    assert_eq!(status.state, LifecycleState::Running);
    assert_eq!(status.service_type, "worker");

    let (AnyMessage::Command(register), _) = round_trip(TYPED_GOLDEN[4].1) else {
        panic!()
    };
    assert_eq!(register.command_type(), CommandType::RegisterService);
    assert_eq!(
        register.body,
        CommandBody::RegisterService {
            service_type: "worker".into(),
            state: LifecycleState::Starting,
        }
    );
    assert_eq!(
        register.target_service_type.as_deref(),
        Some("system_controller")
    );
    assert!(register.extra.is_empty());

    let (AnyMessage::Command(shutdown), _) = round_trip(TYPED_GOLDEN[5].1) else {
        panic!()
    };
    assert_eq!(
        shutdown.body,
        CommandBody::ShutdownWorkers {
            all_workers: true,
            worker_ids: None,
            num_workers: None
        }
    );

    let (AnyMessage::CommandResponse(success), _) = round_trip(TYPED_GOLDEN[6].1) else {
        panic!()
    };
    assert_eq!(
        success.outcome,
        CommandOutcome::Success {
            data: json!({"k": 1})
        }
    );
    let (AnyMessage::CommandResponse(failure), _) = round_trip(TYPED_GOLDEN[7].1) else {
        panic!()
    };
    assert_eq!(
        failure.outcome,
        CommandOutcome::Failure {
            error: ErrorDetails {
                code: None,
                error_type: Some("ValueError".into()),
                message: "boom".into()
            }
        }
    );

    let (AnyMessage::Error(error), _) = round_trip(TYPED_GOLDEN[0].1) else {
        panic!()
    };
    assert_eq!(error, ErrorMessage::no_response(Some("r-1".into())));
}

#[test]
fn messages_built_in_rust_encode_to_the_reference_lines() {
    let mut register = Command::new(
        "worker_1a2b3c4d",
        "c-2",
        CommandBody::RegisterService {
            service_type: "worker".into(),
            state: LifecycleState::Starting,
        },
    );
    register.target_service_type = Some("system_controller".into());
    assert_eq!(register.to_json().unwrap(), TYPED_GOLDEN[4].1);

    let probe = ConnectionProbe::new("worker_1a2b3c4d");
    assert_eq!(probe.to_json().unwrap(), TYPED_GOLDEN[3].1);

    let mut status = Status::new("worker_1a2b3c4d", "worker", LifecycleState::Running);
    status.request_ns = Some(1_796_160_310_355_016_617);
    assert_eq!(status.to_json().unwrap(), TYPED_GOLDEN[1].1);

    let command = Command::new(
        "system_controller_00000001",
        "c-1",
        CommandBody::ProfileStart,
    );
    let failure = CommandResponse::for_command(
        &command,
        "worker_1a2b3c4d",
        CommandOutcome::Failure {
            error: ErrorDetails {
                code: None,
                error_type: Some("ValueError".into()),
                message: "boom".into(),
            },
        },
    );
    assert_eq!(failure.to_json().unwrap(), TYPED_GOLDEN[7].1);
}

#[test]
fn every_other_reference_line_is_kept_raw_and_re_encodes_byte_for_byte() {
    for line in RAW_GOLDEN {
        let (message, encoded) = round_trip(line);
        let AnyMessage::Raw(raw) = &message else {
            panic!("{line} decoded typed")
        };
        assert_eq!(
            raw.message_type(),
            keys(line).first().map(|_| message.message_type()).unwrap()
        );
        assert_eq!(encoded, line);
        assert_eq!(keys(&encoded), keys(line));
    }
    let (message, _) = round_trip(RAW_GOLDEN[2]);
    assert_eq!(message.message_type(), "credit_drop");
    // `null` fields stay `null` (not omitted) in a raw message too.
    let AnyMessage::Raw(raw) = message else {
        panic!()
    };
    assert_eq!(raw.fields()["conversation_id"], Value::Null);
}

#[test]
fn only_the_global_omit_set_is_dropped_when_none() {
    // ErrorDetails.code/type are not in the set: `null`.
    let reply = ErrorMessage::new(
        None,
        ErrorDetails {
            code: None,
            error_type: None,
            message: "m".into(),
        },
    );
    assert_eq!(
        reply.to_json().unwrap(),
        r#"{"message_type":"error","error":{"code":null,"type":null,"message":"m"}}"#
    );
    // request_id, request_ns, target_* are in it: gone.
    let probe = ConnectionProbe {
        target_service_id: None,
        ..ConnectionProbe::new("a")
    };
    assert_eq!(
        probe.to_json().unwrap(),
        r#"{"message_type":"connection_probe","service_id":"a"}"#
    );
    // worker_ids / num_workers are in it; all_workers is always written.
    let by_count = Command::new(
        "m",
        "c",
        CommandBody::ShutdownWorkers {
            all_workers: false,
            worker_ids: None,
            num_workers: Some(2),
        },
    );
    assert_eq!(
        by_count.to_json().unwrap(),
        r#"{"message_type":"command","service_id":"m","command":"shutdown_workers","command_id":"c","all_workers":false,"num_workers":2}"#
    );
    // Success data that is None is `null`, not omitted.
    let ack = CommandResponse::for_command(
        &by_count,
        "w",
        CommandOutcome::Success { data: Value::Null },
    );
    assert!(
        ack.to_json()
            .unwrap()
            .ends_with(r#""status":"success","data":null}"#)
    );
    // A missing data key decodes as null.
    let line = r#"{"message_type":"command_response","service_id":"w","command":"shutdown","command_id":"c","status":"success"}"#;
    let AnyMessage::CommandResponse(response) = AnyMessage::decode(line.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(
        response.outcome,
        CommandOutcome::Success { data: Value::Null }
    );
}

#[test]
fn enum_values_decode_case_insensitively_and_encode_lowercase() {
    let line = r#"{"message_type":"HEARTBEAT","service_id":"w","state":"RUNNING","service_type":"worker"}"#;
    let AnyMessage::Heartbeat(beat) = AnyMessage::decode(line.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(beat.state, LifecycleState::Running);
    assert_eq!(
        beat.to_json().unwrap(),
        r#"{"message_type":"heartbeat","service_id":"w","state":"running","service_type":"worker"}"#
    );
    let line = r#"{"message_type":"command_response","service_id":"w","command":"Profile_Start","command_id":"c","status":"ACKNOWLEDGED"}"#;
    let AnyMessage::CommandResponse(ack) = AnyMessage::decode(line.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(ack.command, CommandType::ProfileStart);
    assert_eq!(ack.outcome, CommandOutcome::Acknowledged);
    assert!(
        ack.to_json()
            .unwrap()
            .ends_with(r#""command":"profile_start","command_id":"c","status":"acknowledged"}"#)
    );
}

#[test]
fn unknown_keys_are_kept_and_re_emitted_after_the_typed_ones() {
    let line = r#"{"zeta":1,"message_type":"status","service_id":"w","state":"stopped","alpha":[true],"service_type":"worker"}"#;
    let AnyMessage::Status(status) = AnyMessage::decode(line.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(status.extra.keys().collect::<Vec<_>>(), ["zeta", "alpha"]);
    assert_eq!(
        status.to_json().unwrap(),
        r#"{"message_type":"status","service_id":"w","state":"stopped","service_type":"worker","zeta":1,"alpha":[true]}"#
    );
    // A command's keys that its body does not name stay extra, as do an unknown command's.
    let line = r#"{"message_type":"command","service_id":"a","command":"reload","command_id":"c","path":"/x"}"#;
    let AnyMessage::Command(command) = AnyMessage::decode(line.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(
        command.body,
        CommandBody::Other {
            command: "reload".into()
        }
    );
    assert_eq!(command.command_type(), CommandType::Other("reload".into()));
    assert_eq!(command.extra["path"], "/x");
    assert_eq!(command.to_json().unwrap(), line);
}

#[test]
fn unknown_message_types_are_raw_under_their_type_string() {
    let line = r#"{"service_id":"a","message_type":"My.Custom","n":[1,{"b":null}]}"#;
    let AnyMessage::Raw(raw) = AnyMessage::decode(line.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(raw.message_type(), "My.Custom");
    assert_eq!(raw.to_json().unwrap(), line, "key order as it arrived");
    let built = RawMessage::new("my_type", serde_json::from_str(r#"{"x":1}"#).unwrap());
    assert_eq!(
        built.to_json().unwrap(),
        r#"{"message_type":"my_type","x":1}"#
    );
    assert!(matches!(
        raw.parse::<Status>(),
        Err(DecodeError::WrongMessageType {
            expected: "status",
            ..
        })
    ));
}

wire_message! {
    /// A user message for the tests.
    #[derive(Clone, Debug, PartialEq)]
    pub struct LoadReport: "load_report" {
        /// Sender.
        pub service_id: String,
        /// In the omit set.
        pub request_id: Option<String>,
        /// In the omit set too.
        pub num_workers: Option<u32>,
        /// Not in the set.
        pub note: Option<String>,
        /// Required.
        pub load: f64,
    }
}

wire_message! {
    /// A user message without fields.
    #[derive(Debug, PartialEq)]
    struct Tick: "tick" {}
}

#[test]
fn user_message_types_follow_the_same_rules() {
    let report = LoadReport {
        service_id: "w".into(),
        request_id: None,
        num_workers: None,
        note: None,
        load: 0.5,
    };
    let json = report.to_json().unwrap();
    assert_eq!(
        json,
        r#"{"message_type":"load_report","service_id":"w","note":null,"load":0.5}"#
    );
    assert_eq!(LoadReport::from_json(json.as_bytes()).unwrap(), report);
    let full = LoadReport {
        request_id: Some("r".into()),
        num_workers: Some(3),
        ..report.clone()
    };
    assert_eq!(
        full.to_json().unwrap(),
        r#"{"message_type":"load_report","service_id":"w","request_id":"r","num_workers":3,"note":null,"load":0.5}"#
    );
    let AnyMessage::Raw(raw) = AnyMessage::decode(full.to_json().unwrap().as_bytes()).unwrap()
    else {
        panic!()
    };
    assert_eq!(raw.parse::<LoadReport>().unwrap(), full);

    assert_eq!(Tick {}.to_json().unwrap(), r#"{"message_type":"tick"}"#);
    assert_eq!(
        Tick::from_json(br#"{"message_type":"tick","x":1}"#).unwrap(),
        Tick {}
    );

    // Errors are typed.
    assert!(matches!(
        LoadReport::from_json(br#"{"message_type":"load_report","service_id":"w"}"#),
        Err(DecodeError::InvalidFields { .. })
    ));
    let missing = LoadReport::from_json(br#"{"message_type":"load_report","service_id":"w"}"#)
        .unwrap_err()
        .to_string();
    assert!(missing.contains("missing field `load`"), "{missing}");
    assert!(matches!(
        LoadReport::from_json(br#"{"message_type":"tick"}"#),
        Err(DecodeError::WrongMessageType {
            expected: "load_report",
            ..
        })
    ));
    assert!(matches!(
        LoadReport::from_json(br#"{"message_type":"load_report","service_id":1,"load":1}"#),
        Err(DecodeError::InvalidFields { .. })
    ));
}

#[test]
fn aiperfs_validation_rules_are_typed_errors_both_ways() {
    let line = r#"{"message_type":"connection_probe","service_id":"a","target_service_id":"a","target_service_type":"worker"}"#;
    assert!(matches!(
        AnyMessage::decode(line.as_bytes()),
        Err(DecodeError::BrokenRule {
            rule: MessageRuleError::BothTargets,
            ..
        })
    ));
    let probe = ConnectionProbe {
        target_service_type: Some("worker".into()),
        ..ConnectionProbe::new("a")
    };
    assert!(matches!(
        probe.to_json(),
        Err(EncodeError::BrokenRule {
            rule: MessageRuleError::BothTargets,
            ..
        })
    ));
    for (body, rule) in [
        (
            r#""all_workers":true,"num_workers":1"#,
            MessageRuleError::AllWorkersWithSelection,
        ),
        (
            r#""all_workers":false"#,
            MessageRuleError::WorkerSelectionNotExactlyOne,
        ),
        (
            r#""worker_ids":["a"],"num_workers":1"#,
            MessageRuleError::WorkerSelectionNotExactlyOne,
        ),
    ] {
        let line = format!(
            r#"{{"message_type":"command","service_id":"m","command":"shutdown_workers","command_id":"c",{body}}}"#
        );
        match AnyMessage::decode(line.as_bytes()) {
            Err(DecodeError::BrokenRule {
                rule: found,
                message_type,
            }) => {
                assert_eq!(found, rule);
                assert_eq!(message_type, "command");
            }
            other => panic!("{line}: {other:?}"),
        }
    }
    let line = r#"{"message_type":"command","service_id":"m","command":"shutdown_workers","command_id":"c","worker_ids":["a"]}"#;
    assert!(AnyMessage::decode(line.as_bytes()).is_ok());
}

/// Whether a decode error is the one expected.
type ErrorCheck = fn(&DecodeError) -> bool;

#[test]
fn every_kind_of_bad_input_is_its_own_typed_error() {
    let cases: [(&[u8], ErrorCheck); 10] = [
        (b"", |e| matches!(e, DecodeError::InvalidJson(_))),
        (b"{\"message_type\":", |e| matches!(e, DecodeError::InvalidJson(_))),
        (b"\xff\xfe", |e| matches!(e, DecodeError::InvalidJson(_))),
        (b"{\"message_type\":\"status\"} trailing", |e| matches!(e, DecodeError::InvalidJson(_))),
        (b"42", |e| matches!(e, DecodeError::NotAnObject { found: "a number" })),
        (b"null", |e| matches!(e, DecodeError::NotAnObject { found: "null" })),
        (b"{\"service_id\":\"a\"}", |e| matches!(e, DecodeError::MissingMessageType)),
        (b"{\"message_type\":7}", |e| matches!(e, DecodeError::MessageTypeNotString { found: "a number" })),
        (
            b"{\"message_type\":\"status\",\"service_id\":\"a\",\"state\":\"paused\",\"service_type\":\"w\"}",
            |e| matches!(e, DecodeError::InvalidFields { message_type, .. } if message_type == "status"),
        ),
        (
            b"{\"message_type\":\"command\",\"service_id\":\"a\",\"command\":\"spawn_workers\",\"command_id\":\"c\"}",
            |e| matches!(e, DecodeError::InvalidFields { message_type, .. } if message_type == "command"),
        ),
    ];
    for (bytes, is_expected) in cases {
        let error = AnyMessage::decode(bytes).expect_err(&String::from_utf8_lossy(bytes));
        assert!(
            is_expected(&error),
            "{:?}: {error:?}",
            String::from_utf8_lossy(bytes)
        );
        assert!(!error.to_string().is_empty());
    }
    // Wrong field types in known messages.
    for line in [
        r#"{"message_type":"status","service_id":1,"state":"running","service_type":"w"}"#,
        r#"{"message_type":"status","request_ns":-1,"service_id":"a","state":"running","service_type":"w"}"#,
        r#"{"message_type":"status","request_ns":1e400,"service_id":"a","state":"running","service_type":"w"}"#,
        r#"{"message_type":"error","error":{"code":"x","type":null,"message":"m"}}"#,
        r#"{"message_type":"command_response","service_id":"a","command":"x","command_id":"c","status":"done"}"#,
        r#"{"message_type":"command_response","service_id":"a","command":"x","command_id":"c","status":"failure"}"#,
        r#"{"message_type":"command","service_id":"a","command":"register_service","command_id":"c","service_type":"w","state":"nope"}"#,
        r#"{"message_type":"command","service_id":"a","command":"process_records","command_id":"c","cancelled":null}"#,
        r#"{"message_type":"heartbeat","service_id":"a","service_type":"w"}"#,
    ] {
        assert!(
            matches!(
                AnyMessage::decode(line.as_bytes()),
                Err(DecodeError::InvalidFields { .. }) | Err(DecodeError::InvalidJson(_))
            ),
            "{line}"
        );
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for depth in [200, 100_000] {
        let deep_array = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        // The type probe skips values without recursing, so a deep array is just not an object.
        assert!(matches!(
            AnyMessage::decode(deep_array.as_bytes()),
            Err(DecodeError::NotAnObject { found: "an array" })
        ));
        let deep_type = format!(r#"{{"message_type":{deep_array}}}"#);
        assert!(matches!(
            AnyMessage::decode(deep_type.as_bytes()),
            Err(DecodeError::MessageTypeNotString { found: "an array" })
        ));
        // Inside a known message's free-form field, and inside an unknown message.
        for message_type in ["command_response", "my_type"] {
            let line = format!(
                r#"{{"message_type":"{message_type}","service_id":"a","command":"x","command_id":"c","status":"success","data":{deep_array}}}"#
            );
            assert!(matches!(
                AnyMessage::decode(line.as_bytes()),
                Err(DecodeError::InvalidJson(_))
            ));
        }
    }
    // Nesting within serde_json's limit decodes.
    let data = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let line = format!(
        r#"{{"message_type":"command_response","service_id":"a","command":"x","command_id":"c","status":"success","data":{data}}}"#
    );
    let message = AnyMessage::decode(line.as_bytes()).expect("within the limit");
    assert_eq!(message.to_json().unwrap(), line);
}

#[test]
fn the_typed_decoders_refuse_other_types() {
    let status_line = TYPED_GOLDEN[1].1.as_bytes();
    assert!(Status::from_json(status_line).is_ok());
    assert!(matches!(
        Heartbeat::from_json(status_line),
        Err(DecodeError::WrongMessageType { expected: "heartbeat", found }) if found == "status"
    ));
    let uppercase = TYPED_GOLDEN[1].1.replace(r#""status""#, r#""STATUS""#);
    assert!(Status::from_json(uppercase.as_bytes()).is_ok());
}

#[test]
fn floats_re_encode_to_the_same_number() {
    // serde_json's default float parser can be one ulp off; the crate enables `float_roundtrip`.
    for number in [
        "4.258461511929117e-147",
        "1.813132748782291e-308",
        "0.1",
        "1796160.1035501661",
    ] {
        let line = format!(r#"{{"message_type":"my_type","x":{number}}}"#);
        let message = AnyMessage::decode(line.as_bytes()).expect("decodes");
        assert_eq!(message.to_json().unwrap(), line);
    }
}
