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
    use metrics_exporter_prometheus::{BuildError, PrometheusBuilder};
    match PrometheusBuilder::new().with_http_listener(addr).install() {
        Ok(()) | Err(BuildError::FailedToSetGlobalRecorder(_)) => Ok(()),
        Err(e) => Err(anyhow::anyhow!(
            "cannot serve metrics on `{addr}` (setting `metrics_listen`): {e}"
        )),
    }
}

/// One statement sent to the database, for a request, the audit writer or
/// background work. Only counted: the statement carries names and notes.
pub fn statement(on: &'static str) {
    metrics::counter!("casework_db_statements_total", "on" => on).increment(1);
}

/// One batch committed (or failed) by the audit writer, with its units.
pub fn writer_batch(units: usize) {
    metrics::counter!("casework_writer_batches_total").increment(1);
    metrics::counter!("casework_writer_units_total").increment(units as u64);
}
