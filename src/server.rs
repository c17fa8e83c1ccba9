//! The connection loop: accepts TCP connections and serves each with hyper
//! (HTTP/1.1 and HTTP/2), handing requests to the poem endpoint.
//!
//! poem's own server is not used because hyper answers some requests itself,
//! before any endpoint or middleware runs: a head larger than its buffer or
//! with too many fields (431), a request line too long (414), a head that
//! does not parse (400). Those answers have no body and no request id. Here
//! the socket is wrapped so that such an answer is replaced, as it is
//! written, by a problem detail with a request id (and a line in the access
//! log), like every other answer of the service.
//!
//! The loop keeps what poem's server did for us: a connection idle for
//! [`IDLE_TIMEOUT`] is closed, and a stop lets requests in flight finish
//! within a grace period.

use std::{
    convert::Infallible,
    future::Future,
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll, ready},
    time::Duration,
};

use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto,
};
use poem::{
    Endpoint, EndpointExt,
    http::{StatusCode, uri::Scheme},
    web::{LocalAddr, RemoteAddr},
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinSet,
};
use uuid::Uuid;

use crate::http::problem::{CONTENT_TYPE, Problem};

/// A keep-alive connection with no request for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The most a request's head (request line and header fields) may take in
/// hyper's read buffer; beyond it the answer is 431. hyper's default.
pub const MAX_HEAD_BYTES: usize = 400 * 1024;

/// The most header fields a request may carry; beyond it the answer is 431.
pub const MAX_HEADER_FIELDS: usize = 100;

/// Serves `ep` on `listener` until `stop` completes, then stops accepting
/// and waits up to `grace` for the connections' requests in flight.
pub async fn serve<E>(
    listener: TcpListener,
    ep: E,
    stop: impl Future<Output = ()>,
    grace: Duration,
) -> io::Result<()>
where
    E: Endpoint + 'static,
{
    let ep = Arc::new(ep.map_to_response());
    let local = listener.local_addr()?;
    let (stopping, stopped) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((socket, remote)) => {
                    let _ = socket.set_nodelay(true);
                    connections.spawn(connection(
                        socket,
                        local,
                        remote,
                        ep.clone(),
                        stopped.clone(),
                    ));
                }
                // Out of descriptors and the like: wait a moment rather
                // than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    let _ = stopping.send(true);
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "grace period over; closing the connections still open"
        );
        connections.shutdown().await;
    }
    Ok(())
}

async fn connection<E>(
    socket: TcpStream,
    local: SocketAddr,
    remote: SocketAddr,
    ep: Arc<E>,
    mut stopped: watch::Receiver<bool>,
) where
    E: Endpoint<Output = poem::Response> + 'static,
{
    let activity = Arc::new(AtomicU64::new(0));
    let io = Guarded {
        inner: socket,
        activity: activity.clone(),
        replaced: None,
    };
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let ep = ep.clone();
        async move {
            let req: poem::Request = (
                req,
                LocalAddr(local.into()),
                RemoteAddr(remote.into()),
                Scheme::HTTP,
            )
                .into();
            let resp: hyper::Response<_> = ep.get_response(req).await.into();
            Ok::<_, Infallible>(resp)
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADER_FIELDS);
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(conn);
    let mut seen = activity.load(Ordering::Relaxed);
    loop {
        tokio::select! {
            _ = &mut conn => return,
            _ = stopped.wait_for(|s| *s) => break,
            () = tokio::time::sleep(IDLE_TIMEOUT) => {
                let now = activity.load(Ordering::Relaxed);
                if now == seen {
                    break;
                }
                seen = now;
            }
        }
    }
    // An idle connection closes now; one with a request in flight closes
    // once its answer is written.
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// The socket, counting activity for the idle timeout and replacing
/// hyper's own bodiless error answers by problem details.
struct Guarded {
    inner: TcpStream,
    activity: Arc<AtomicU64>,
    /// Once hyper's answer was replaced: the replacement and how much of it
    /// is written. Nothing more is written after it (hyper closes the
    /// connection after such an answer).
    replaced: Option<(Vec<u8>, usize)>,
}

impl Guarded {
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some((bytes, written)) = &mut self.replaced {
            while *written < bytes.len() {
                let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                *written += n;
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.fetch_add(1, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.activity.fetch_add(1, Ordering::Relaxed);
        if this.replaced.is_none() {
            match hyper_answer(buf) {
                Some(replacement) => this.replaced = Some((replacement, 0)),
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        ready!(this.poll_replacement(cx))?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_replacement(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_replacement(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }

    // Not vectored: hyper then writes each answer's head in one buffer,
    // which is what `hyper_answer` looks at.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// When `buf` starts with an answer hyper made itself (every answer of the
/// service carries `x-request-id`; hyper's own carry none), the problem
/// detail to send instead.
fn hyper_answer(buf: &[u8]) -> Option<Vec<u8>> {
    let rest = buf
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| buf.strip_prefix(b"HTTP/1.0 "))?;
    let status = std::str::from_utf8(rest.get(..3)?).ok()?;
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    if head.contains(&format!(
        "\r\n{}:",
        crate::http::middleware::REQUEST_ID_HEADER
    )) {
        return None;
    }
    let problem = match status {
        "431" => Problem::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers-too-large",
            "The request's header fields are too large",
        )
        .detail(format!(
            "A request's head may take at most {} KiB and {MAX_HEADER_FIELDS} header fields.",
            MAX_HEAD_BYTES / 1024
        )),
        "414" => Problem::new(
            StatusCode::URI_TOO_LONG,
            "uri-too-long",
            "The request's URI is too long",
        ),
        "400" => Problem::for_status(StatusCode::BAD_REQUEST)
            .detail("The request's head is not valid HTTP."),
        _ => return None,
    };
    let request_id = Uuid::now_v7().to_string();
    let status = problem.status;
    let title = problem.title.clone();
    let mut problem = problem;
    problem.request_id = Some(request_id.clone());
    let body = poem_openapi::types::ToJSON::to_json_string(&problem);
    tracing::info!(
        request_id = %request_id,
        status,
        "request refused before it was read: {title}"
    );
    Some(
        format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: {CONTENT_TYPE}\r\n\
             content-length: {len}\r\n{rid}: {request_id}\r\nconnection: close\r\n\r\n{body}",
            reason = StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or(""),
            len = body.len(),
            rid = crate::http::middleware::REQUEST_ID_HEADER,
        )
        .into_bytes(),
    )
}
