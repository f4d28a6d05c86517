//! The built app's static files (`--static DIR`), `index.html` for `/` and
//! for any directory. tower-http's `ServeDir` decodes the path and refuses
//! any `..` component (encoded or not) and absolute paths, so nothing outside
//! DIR is ever read; those requests, like missing files, get the JSON 404.

use std::path::Path;

use axum::handler::HandlerWithoutStateExt;
use axum::routing::MethodRouter;
use tower_http::services::ServeDir;

use crate::error::ApiError;

async fn not_found() -> ApiError {
    ApiError::NotFound("no such file or route".into())
}

/// The service serving `dir`.
pub fn service(dir: &Path) -> MethodRouter {
    let serve = ServeDir::new(dir)
        .append_index_html_on_directories(true)
        .fallback(not_found.into_service());
    axum::routing::get_service(serve)
}
