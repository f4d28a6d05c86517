//! The built app's static files (`--static DIR`), `index.html` for `/` and
//! for any directory. tower-http's `ServeDir` decodes the path and refuses
//! any `..` component (encoded or not) and absolute paths, so nothing outside
//! DIR is ever read; those requests, like missing files, get the JSON 404.
//! Other methods than GET and HEAD get the JSON 405.
//!
//! Caching (so that a browser keeps the app's compiled wasm between page
//! loads: Chromium caches the compiled code of a module streamed from a
//! response it holds in its HTTP cache): files under `assets/`, whose names
//! the app's bundler makes from their content, are `immutable` for a year;
//! everything else (`index.html`, a `.wasm` with a fixed name) is `no-cache`:
//! kept, and revalidated with `If-Modified-Since` at each use (a 304 keeps
//! the cached copy and its compiled code). `.wasm` is `application/wasm`, which
//! `WebAssembly.instantiateStreaming` requires. docs/server.md, "Caching the
//! wasm", says what other hosts need.

use std::path::Path;

use axum::handler::HandlerWithoutStateExt;
use axum::routing::MethodRouter;
use tower_http::services::ServeDir;

use crate::error::ApiError;

async fn not_found() -> ApiError {
    ApiError::NotFound("no such file or route".into())
}

async fn read_only() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Longest path segment a file name can have (NAME_MAX on Linux, macOS
/// and Windows); a longer one names no file: 404, not the file system's
/// `ENAMETOOLONG` as a 500.
const MAX_SEGMENT_BYTES: usize = 255;

/// The service serving `dir`.
pub fn service(dir: &Path) -> MethodRouter {
    let serve = ServeDir::new(dir)
        .append_index_html_on_directories(true)
        .fallback(not_found.into_service());
    axum::routing::get_service(serve)
        .fallback(read_only)
        .layer(axum::middleware::from_fn(cache_headers))
        .layer(axum::middleware::from_fn(refuse_long_segments))
}

/// `Cache-Control` of a static file at `path` (see the module docs).
pub fn cache_control(path: &str) -> &'static str {
    if path.starts_with("/assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

async fn cache_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let value = cache_control(req.uri().path());
    let mut response = next.run(req).await;
    let status = response.status();
    if status.is_success() || status == axum::http::StatusCode::NOT_MODIFIED {
        response.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static(value),
        );
    }
    response
}

async fn refuse_long_segments(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    // Percent-encoded bytes only get shorter when decoded: the raw length
    // bounds the decoded one from above, so check the decoded length.
    let too_long = req.uri().path().split('/').any(|segment| {
        segment.len() > MAX_SEGMENT_BYTES && decoded_len(segment) > MAX_SEGMENT_BYTES
    });
    if too_long {
        return ApiError::NotFound(format!(
            "no such file: a path segment is longer than {MAX_SEGMENT_BYTES} bytes"
        ))
        .into_response();
    }
    next.run(req).await
}

/// Bytes of `segment` once `%XX` escapes are decoded.
fn decoded_len(segment: &str) -> usize {
    let escapes = segment.matches('%').count();
    segment.len().saturating_sub(escapes.saturating_mul(2))
}
