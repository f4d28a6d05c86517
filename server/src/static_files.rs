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
//!
//! Preloading: when `assets/` holds exactly one `.wasm`, every HTML page
//! comes with a `Link: </assets/NAME.wasm>; rel=preload; as=fetch` header,
//! so the browser reads the wasm from its cache (or the network) while it
//! parses the page, before any script asks for it; the loader's `fetch` of
//! the same URL takes that response over. With none or several, no header
//! (which one a page loads is not known here).

use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// Entries of `assets/` looked at when choosing the wasm to preload (an
/// app's bundle has a few dozen): past this many, no header, so an HTML
/// response never waits on a huge directory.
pub const MAX_ASSETS_SCANNED: usize = 4_096;

/// The service serving `dir`.
pub fn service(dir: &Path) -> MethodRouter {
    let serve = ServeDir::new(dir)
        .append_index_html_on_directories(true)
        .fallback(not_found.into_service());
    let dir = Arc::new(dir.to_path_buf());
    axum::routing::get_service(serve)
        .fallback(read_only)
        .layer(axum::middleware::from_fn_with_state(dir, preload_header))
        .layer(axum::middleware::from_fn(cache_headers))
        .layer(axum::middleware::from_fn(refuse_long_segments))
}

/// The `Link` header value preloading the one `.wasm` of `dir/assets/`, if
/// there is exactly one among its first [`MAX_ASSETS_SCANNED`] entries and
/// its name needs no escaping in a header (a bundler's names never do).
pub fn preload_link(dir: &Path) -> Option<String> {
    let mut found = None;
    let entries = std::fs::read_dir(dir.join("assets")).ok()?;
    for (i, entry) in entries.enumerate() {
        if i == MAX_ASSETS_SCANNED {
            return None;
        }
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|n| n.ends_with(".wasm")) else {
            continue;
        };
        if found.is_some() {
            // Two modules: which one this page loads is not known here.
            return None;
        }
        found = Some(name.to_owned());
    }
    let name = found?;
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"-_.".contains(&b);
    name.bytes().all(plain).then(|| {
        format!("</assets/{name}>; rel=preload; as=fetch; type=\"application/wasm\"; crossorigin")
    })
}

async fn preload_header(
    axum::extract::State(dir): axum::extract::State<Arc<PathBuf>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(req).await;
    let html = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if response.status() == axum::http::StatusCode::OK && html {
        // A directory read: off the async workers.
        let link = tokio::task::spawn_blocking(move || preload_link(&dir))
            .await
            .ok()
            .flatten();
        if let Some(value) = link.and_then(|l| axum::http::HeaderValue::from_str(&l).ok()) {
            response
                .headers_mut()
                .insert(axum::http::header::LINK, value);
        }
    }
    response
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory with `assets/` holding `files` (empty files).
    fn app_with(tag: &str, files: impl IntoIterator<Item = String>) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "petrichain-static-{tag}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        std::fs::create_dir_all(dir.join("assets")).unwrap();
        for f in files {
            std::fs::write(dir.join("assets").join(f), b"").unwrap();
        }
        dir
    }

    #[test]
    fn preloads_only_one_plain_wasm_within_the_scan_cap() {
        let dir = app_with("one", ["a.js".into(), "m-1_x.wasm".into()]);
        assert_eq!(
            preload_link(&dir).as_deref(),
            Some("</assets/m-1_x.wasm>; rel=preload; as=fetch; type=\"application/wasm\"; crossorigin")
        );
        std::fs::remove_dir_all(&dir).unwrap();

        // Past the cap the directory is not read further: no header, even
        // though one .wasm is there.
        let many = (0..MAX_ASSETS_SCANNED).map(|i| format!("chunk-{i}.js"));
        let dir = app_with("many", many.chain(["m.wasm".to_string()]));
        assert_eq!(preload_link(&dir), None);
        std::fs::remove_dir_all(&dir).unwrap();

        let dir = app_with("none", ["a.js".into()]);
        assert_eq!(preload_link(&dir), None);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(preload_link(&dir), None, "no directory at all");
    }
}
