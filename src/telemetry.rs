//! Logging. Lines carry ids, statuses and timings, never personal data: SQL
//! statements (which would carry names and notes) are switched off here as
//! well as in the database options.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::LogFormat;

/// Directives appended to whatever `RUST_LOG` says, so that no log level
/// can turn statement logging back on.
const ALWAYS: &[&str] = &["sqlx::query=off"];

pub fn filter() -> EnvFilter {
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    for directive in ALWAYS {
        if let Ok(d) = directive.parse() {
            filter = filter.add_directive(d);
        }
    }
    filter
}

/// Installs the global subscriber; a second call (as in tests) is a no-op.
pub fn init(format: LogFormat) {
    let registry = tracing_subscriber::registry().with(filter());
    let _ = match format {
        // Colours only for a person at a terminal, never in a file or a pipe.
        LogFormat::Human => registry
            .with(
                fmt::layer()
                    .with_target(false)
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout())),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true),
            )
            .try_init(),
    };
}

/// Serves the metrics in the Prometheus text format on `addr` (setting
/// `metrics_listen`), apart from the API. Once a process: a second call (as
/// in tests, which start many servers) keeps the first.
pub fn serve_metrics(addr: std::net::SocketAddr) -> anyhow::Result<()> {
    use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder};
    let installed = PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets_for_metric(
            Matcher::Suffix("_seconds".into()),
            &[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0, 30.0,
            ],
        )
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full("casework_writer_batch_units".into()),
                &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0],
            )
        })
        .map_err(|e| anyhow::anyhow!("metrics buckets: {e}"))?
        .install();
    match installed {
        Ok(()) | Err(BuildError::FailedToSetGlobalRecorder(_)) => {
            describe();
            Ok(())
        }
        Err(e) => Err(anyhow::anyhow!(
            "cannot serve metrics on `{addr}` (setting `metrics_listen`): {e}"
        )),
    }
}

/// The `# HELP` line of each metric.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "casework_http_requests_total",
        "Requests answered, by operation id (the spec's) and status"
    );
    describe_histogram!(
        "casework_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time to the answer's head, by operation id"
    );
    describe_counter!(
        "casework_db_statements_total",
        "Statements sent to the database, for a request, the audit writer or background work"
    );
    describe_gauge!(
        "casework_writer_queue_depth",
        "Units of work waiting for the audit writer after it took a batch"
    );
    describe_counter!("casework_writer_batches_total", "Batches the writer ran");
    describe_counter!(
        "casework_writer_units_total",
        "Units of work in those batches"
    );
    describe_histogram!(
        "casework_writer_batch_units",
        "Units of work sharing one commit"
    );
    describe_histogram!(
        "casework_writer_commit_seconds",
        metrics::Unit::Seconds,
        "Time of one batch's commit (the flush)"
    );
    describe_counter!(
        "casework_audit_events_written_total",
        "Audit events committed to the chain"
    );
    describe_gauge!(
        "casework_audit_checkpoint_age_seconds",
        "Seconds since the last signed checkpoint of the audit chain (updated every second while the chain has events)"
    );
    describe_gauge!(
        "casework_audit_checkpoint_last_timestamp_seconds",
        "When the last signed checkpoint was made (Unix time)"
    );
    describe_counter!(
        "casework_sync_pages_total",
        "Pages of the change feed served to devices"
    );
    describe_counter!(
        "casework_idempotency_replays_total",
        "Requests answered with the stored answer of an earlier one with the same Idempotency-Key"
    );
    describe_counter!(
        "casework_sign_ins_total",
        "Sign-ins by method (password, sso) and outcome (allowed, denied, throttled)"
    );
}

/// One statement sent to the database, for a request, the audit writer or
/// background work. Only counted: the statement carries names and notes.
pub fn statement(on: &'static str) {
    metrics::counter!("casework_db_statements_total", "on" => on).increment(1);
}

/// One request answered: its operation (the spec's id, or `app` for the
/// app's files and `none` for a path the API does not have), status and time.
pub fn request(operation: &'static str, status: u16, elapsed: std::time::Duration) {
    metrics::counter!(
        "casework_http_requests_total",
        "operation" => operation,
        "status" => status_label(status)
    )
    .increment(1);
    metrics::histogram!("casework_http_request_duration_seconds", "operation" => operation)
        .record(elapsed.as_secs_f64());
}

/// A status as a label, from a fixed set (nothing a caller sends).
fn status_label(status: u16) -> &'static str {
    match status {
        200 => "200",
        201 => "201",
        202 => "202",
        204 => "204",
        206 => "206",
        301 => "301",
        302 => "302",
        303 => "303",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        406 => "406",
        409 => "409",
        410 => "410",
        412 => "412",
        413 => "413",
        415 => "415",
        422 => "422",
        428 => "428",
        429 => "429",
        500 => "500",
        502 => "502",
        503 => "503",
        504 => "504",
        s if s < 300 => "2xx",
        s if s < 400 => "3xx",
        s if s < 500 => "4xx",
        _ => "5xx",
    }
}

/// One batch taken by the audit writer: its units, and what still waits.
pub fn writer_batch(units: usize, waiting: usize) {
    metrics::counter!("casework_writer_batches_total").increment(1);
    metrics::counter!("casework_writer_units_total").increment(units as u64);
    metrics::histogram!("casework_writer_batch_units").record(units as f64);
    metrics::gauge!("casework_writer_queue_depth").set(waiting as f64);
}

/// One batch committed: how long the commit took and the events it wrote.
pub fn writer_committed(commit: std::time::Duration, events: usize) {
    metrics::histogram!("casework_writer_commit_seconds").record(commit.as_secs_f64());
    metrics::counter!("casework_audit_events_written_total").increment(events as u64);
}

/// The last signed checkpoint's time, and its age now.
pub fn checkpoint_age(last: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) {
    metrics::gauge!("casework_audit_checkpoint_last_timestamp_seconds")
        .set(last.timestamp() as f64);
    metrics::gauge!("casework_audit_checkpoint_age_seconds")
        .set(((now - last).num_milliseconds().max(0) as f64) / 1000.0);
}

/// One page of the change feed served.
pub fn sync_page() {
    metrics::counter!("casework_sync_pages_total").increment(1);
}

/// One answer replayed for a repeated `Idempotency-Key`.
pub fn idempotency_replay() {
    metrics::counter!("casework_idempotency_replays_total").increment(1);
}

/// One sign-in: `method` is `password` or `sso`; `outcome` `allowed`,
/// `denied` or `throttled`.
pub fn sign_in(method: &'static str, outcome: &'static str) {
    metrics::counter!("casework_sign_ins_total", "method" => method, "outcome" => outcome)
        .increment(1);
}
