//! The web UI: the static files of `web-ui/`, embedded into the binary at build time and served
//! at `/ui/`.
//!
//! The UI is a single-page app built only on the public HTTP and WebSocket API; this module only
//! hands out its files. Each answer carries the content type decided at build time
//! (`rust-embed`'s `mime-guess`), a weak `ETag` from the file's SHA-256 (so a revalidation is a
//! `304` without a body), and a `Cache-Control`: vendored libraries live under a directory
//! named by their pinned version (`vendor/preact@10.27.2/...`), so they are `immutable`; our own
//! modules and `index.html` are `no-cache` (revalidated by `ETag` on every load), so a new binary's
//! UI is picked up at the next reload. Bodies are gzip- or brotli-compressed by `tower-http`
//! when the browser asks.
//!
//! A path under `/ui/` with no file behind it and no extension (`/ui/topics`) is a client-side
//! route and gets `index.html`; a missing path with an extension (`/ui/missing.js`) is a 404.
//!
//! Not owned here: sending a browser from `/` to `/ui/` (the registry's root handler decides,
//! from `Accept`, in `runnel-schema-registry`), and anything the UI shows (the API's handlers).
//! The routes are not API, so they are not in the OpenAPI document.

use axum::Router;
use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::Embed;
use tower_http::compression::CompressionLayer;

use crate::gateway::GatewayError;

/// The files served: the page, our modules and the vendored libraries with their licences.
/// Left out: the re-fetch script, the tests and their `node_modules`, the README.
#[derive(Embed)]
#[folder = "../web-ui/"]
#[include = "index.html"]
#[include = "src/**"]
#[include = "vendor/**"]
#[exclude = "vendor/fetch.sh"]
#[exclude = "vendor/*.json"]
struct Assets;

/// Where the UI is served; the page's own links are absolute under it.
pub const UI_PATH: &str = "/ui";

/// Vendored files: their directory names carry the version, so a cached copy never goes stale.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Our own files: cached, but revalidated (by `ETag`) before each use.
const REVALIDATE: &str = "no-cache";

/// The UI's routes, merged into the gateway's router. `/ui/` arrives as `/ui`: the gateway trims
/// trailing slashes before routing.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(UI_PATH, get(index))
        .route("/ui/{*path}", get(file))
        .layer(CompressionLayer::new())
}

/// `/ui`: the page.
async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

/// `/ui/{path}`: a file, or the page for a client-side route.
async fn file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    if Assets::get(&path).is_some() {
        return serve(&path, &headers);
    }
    let last = path.rsplit('/').next().unwrap_or_default();
    if last.contains('.') {
        GatewayError::NotFound.into_response()
    } else {
        serve("index.html", &headers)
    }
}

/// The embedded file at `path` (which exists), or `304` when the browser's copy is current.
fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some(asset) = Assets::get(path) else {
        return GatewayError::NotFound.into_response();
    };
    let etag = etag(&asset.metadata.sha256_hash());
    let cache = if path.starts_with("vendor/") {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let mut response = if headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(CONTENT_TYPE, asset.metadata.mimetype().to_owned())],
            asset.data.into_owned(),
        )
            .into_response()
    };
    let response_headers = response.headers_mut();
    response_headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response_headers.insert(ETAG, value);
    }
    response
}

/// A weak validator: the compression layer may send the same file in several encodings, which a
/// strong `ETag` would have to tell apart.
fn etag(sha256: &[u8; 32]) -> String {
    use std::fmt::Write as _;
    let mut tag = String::from("W/\"");
    for byte in &sha256[..8] {
        let _ = write!(tag, "{byte:02x}");
    }
    tag.push('"');
    tag
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use axum::http::header::{ACCEPT_ENCODING, CONTENT_ENCODING};
    use tower::ServiceExt as _;

    use super::*;

    async fn get(uri: &str, headers: &[(&str, &str)]) -> Response {
        let mut req = Request::get(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        router::<()>()
            .oneshot(req.body(Body::empty()).expect("a valid request"))
            .await
            .expect("infallible")
    }

    fn header<'a>(r: &'a Response, name: &str) -> &'a str {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[tokio::test]
    async fn the_page_is_html_and_revalidated() {
        let r = get("/ui", &[]).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(header(&r, "content-type").starts_with("text/html"));
        assert_eq!(header(&r, "cache-control"), REVALIDATE);
        let tag = header(&r, "etag").to_owned();
        assert!(tag.starts_with("W/\""));
        let again = get("/ui", &[("if-none-match", &tag)]).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    }

    #[tokio::test]
    async fn client_routes_get_the_page_and_missing_files_404() {
        let page = get("/ui/topics", &[]).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert!(header(&page, "content-type").starts_with("text/html"));
        assert_eq!(
            get("/ui/src/missing.js", &[]).await.status(),
            StatusCode::NOT_FOUND
        );
    }

    #[tokio::test]
    async fn modules_are_javascript_and_vendored_files_immutable() {
        let vendored = Assets::iter()
            .find(|p| p.starts_with("vendor/") && p.ends_with(".js"))
            .expect("a vendored module");
        let r = get(&format!("/ui/{vendored}"), &[]).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(header(&r, "content-type").contains("javascript"));
        assert_eq!(header(&r, "cache-control"), IMMUTABLE);
        let r = get("/ui/src/main.js", &[]).await;
        assert_eq!(header(&r, "cache-control"), REVALIDATE);
    }

    #[tokio::test]
    async fn compressed_when_asked() {
        let r = get("/ui/src/main.js", &[(ACCEPT_ENCODING.as_str(), "br")]).await;
        assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "br");
        let r = get("/ui/src/main.js", &[(ACCEPT_ENCODING.as_str(), "gzip")]).await;
        assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "gzip");
        let r = get("/ui/src/main.js", &[]).await;
        assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "");
    }
}
