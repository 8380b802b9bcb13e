//! The web explorer: `GET /` and its assets under `/explorer/`, a dependency-free front end (ES
//! modules, SVG, CSS in `src/api/explorer/`) over the API. The files are compiled into the
//! binary, so the explorer needs nothing at run time but this process; each answer carries an
//! ETag (the SHA-256 of the file) so that a browser revalidates instead of downloading again.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use super::{ApiError, AppState};

/// A file of `src/api/explorer/`: its name under `/explorer/` and its bytes.
macro_rules! explorer_file {
    ($name:literal) => {
        ($name, include_str!(concat!("explorer/", $name)))
    };
}

/// Every file of the explorer.
const FILES: &[(&str, &str)] = &[
    explorer_file!("index.html"),
    explorer_file!("style.css"),
    explorer_file!("app.js"),
    explorer_file!("api.js"),
    explorer_file!("autocomplete.js"),
    explorer_file!("chart.js"),
    explorer_file!("dom.js"),
    explorer_file!("graph.js"),
];

/// The content type of a file of [`FILES`], by its extension.
fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "text/javascript; charset=utf-8",
    }
}

struct Asset {
    content_type: &'static str,
    body: &'static str,
    etag: HeaderValue,
}

static ASSETS: LazyLock<HashMap<&'static str, Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(name, body)| {
            let digest = hex::encode(&Sha256::digest(body.as_bytes())[..12]);
            let etag = HeaderValue::from_str(&format!("\"{digest}\""))
                .unwrap_or(HeaderValue::from_static("\"\""));
            (
                name,
                Asset {
                    content_type: content_type(name),
                    body,
                    etag,
                },
            )
        })
        .collect()
});

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/explorer/{file}", get(asset))
}

/// The page itself; whatever the query string, the script reads the view from it.
async fn index(headers: HeaderMap) -> Result<Response, ApiError> {
    serve("index.html", &headers)
}

async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    serve(&file, &headers)
}

fn serve(name: &str, headers: &HeaderMap) -> Result<Response, ApiError> {
    let asset = ASSETS
        .get(name)
        .ok_or_else(|| ApiError::NotFound(format!("no explorer file {name}")))?;
    let cache = [(CACHE_CONTROL, HeaderValue::from_static("no-cache"))];
    if headers.get(IF_NONE_MATCH) == Some(&asset.etag) {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(ETAG, asset.etag.clone())],
            cache,
        )
            .into_response());
    }
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
            (ETAG, asset.etag.clone()),
        ],
        cache,
        asset.body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_the_explorer_folder_is_served() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api/explorer");
        let mut on_disk: Vec<String> = std::fs::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut served: Vec<String> = FILES.iter().map(|(name, _)| (*name).to_owned()).collect();
        served.sort();
        assert_eq!(served, on_disk);
    }

    #[test]
    fn modules_import_only_files_that_are_served() {
        for (name, body) in FILES {
            for import in body.split("from './").skip(1) {
                let file = import.split('\'').next().unwrap();
                assert!(ASSETS.contains_key(file), "{name} imports {file}");
            }
        }
    }
}
