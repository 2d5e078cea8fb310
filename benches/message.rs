//! Criterion benches of the message codec, each beside hand-written plain `serde_json` on a flat
//! struct that knows its type in advance (no `message_type` dispatch, no extra-key map, no
//! validation).
//!
//! | group | what is timed | per |
//! |---|---|---|
//! | `message/encode_decode` | decoding one AIPerf JSON line from bytes and encoding it back to a `String` | message |
//!
//! Two lines from the reference: a `heartbeat` (the most frequent bus message) and a
//! `register_service` `command` (the two-step command decode). The engine side is
//! [`AnyMessage::decode`] + [`AnyMessage::to_json`]; the baseline is `serde_json::from_slice`
//! + `serde_json::to_string` on a derived struct of the same fields.
//!
//! Run with `CARGO_TARGET_DIR=/tmp/target-bench cargo bench --bench message`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use lifecycle_ecs::LifecycleState;
use lifecycle_ecs::messaging::AnyMessage;
use serde::{Deserialize, Serialize};

/// The benched heartbeat line.
const HEARTBEAT: &str = r#"{"message_type":"heartbeat","request_ns":1796160312355016617,"service_id":"worker_1a2b3c4d","state":"running","service_type":"worker"}"#;
/// The benched command line.
const REGISTER: &str = r#"{"message_type":"command","service_id":"worker_1a2b3c4d","target_service_type":"system_controller","command":"register_service","command_id":"c-2","service_type":"worker","state":"starting"}"#;

/// The baseline's heartbeat: the same keys, decoded straight into a known struct.
#[derive(Serialize, Deserialize)]
struct PlainHeartbeat {
    /// The type.
    message_type: String,
    /// The stamp.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_ns: Option<u64>,
    /// The sender.
    service_id: String,
    /// Its state.
    state: LifecycleState,
    /// Its type.
    service_type: String,
}

/// The baseline's command: the same keys, decoded straight into a known struct.
#[derive(Serialize, Deserialize)]
struct PlainRegister {
    /// The type.
    message_type: String,
    /// The sender.
    service_id: String,
    /// The target type.
    #[serde(skip_serializing_if = "Option::is_none")]
    target_service_type: Option<String>,
    /// The command.
    command: String,
    /// Its id.
    command_id: String,
    /// The sender's type.
    service_type: String,
    /// The sender's state.
    state: LifecycleState,
}

/// The engine side: decode by `message_type`, encode back.
fn engine_round_trip(line: &[u8]) -> String {
    let message = AnyMessage::decode(line).expect("decodes");
    message.to_json().expect("encodes")
}

/// The baseline: a known struct, plain serde.
fn baseline_round_trip<T: Serialize + for<'de> Deserialize<'de>>(line: &[u8]) -> String {
    let message: T = serde_json::from_slice(line).expect("decodes");
    serde_json::to_string(&message).expect("encodes")
}

/// `message/encode_decode`.
fn encode_decode(c: &mut Criterion) {
    assert_eq!(engine_round_trip(HEARTBEAT.as_bytes()), HEARTBEAT);
    assert_eq!(engine_round_trip(REGISTER.as_bytes()), REGISTER);
    assert_eq!(
        baseline_round_trip::<PlainHeartbeat>(HEARTBEAT.as_bytes()),
        HEARTBEAT
    );
    assert_eq!(
        baseline_round_trip::<PlainRegister>(REGISTER.as_bytes()),
        REGISTER
    );

    let mut group = c.benchmark_group("message/encode_decode");
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("engine", "heartbeat"), |b| {
        b.iter(|| engine_round_trip(black_box(HEARTBEAT.as_bytes())));
    });
    group.bench_function(BenchmarkId::new("baseline", "heartbeat"), |b| {
        b.iter(|| baseline_round_trip::<PlainHeartbeat>(black_box(HEARTBEAT.as_bytes())));
    });
    group.bench_function(BenchmarkId::new("engine", "register_command"), |b| {
        b.iter(|| engine_round_trip(black_box(REGISTER.as_bytes())));
    });
    group.bench_function(BenchmarkId::new("baseline", "register_command"), |b| {
        b.iter(|| baseline_round_trip::<PlainRegister>(black_box(REGISTER.as_bytes())));
    });
    group.finish();
}

/// Runs every group (written out instead of `criterion_main!`, so the entry point is documented).
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    encode_decode(&mut criterion);
    criterion.final_summary();
}
