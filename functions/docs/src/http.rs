//! The docs function's routes: Swagger UI's page at `/docs`, its files under `/docs/`, and the
//! gateway's document at `/docs/openapi.json`.
//!
//! The page is served at `/docs` itself rather than redirected to `/docs/`: whether API Gateway
//! routes a trailing slash to a route without one is not something to lean on. Its references
//! are relative (`docs/swagger-ui.css`), so it also works under a base path the API is mapped to.

use std::sync::{Arc, LazyLock};

use axum::{
    Router,
    extract::Path,
    http::{HeaderValue, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use shop_http::Problem;
use utoipa_swagger_ui::Config;

const PAGE: &str = include_str!("page.html");

/// Where the page finds the document, relative to `/docs`.
const DOCUMENT_URL: &str = "docs/openapi.json";

/// Swagger UI's own files do not change between deployments of one build.
const ASSET_CACHING: &str = "public, max-age=3600";

/// What `swagger-initializer.js` configures: the document, a token kept across reloads (so a
/// reader signs in once), the time each tried request took, and a filter by tag.
static SWAGGER_CONFIG: LazyLock<Arc<Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        Config::new([DOCUMENT_URL])
            .persist_authorization(true)
            .display_request_duration(true)
            .filter(true),
    )
});

/// The router the `docs-http` function serves.
pub fn router() -> Router {
    let routes = Router::new()
        .route("/docs", get(page))
        .route("/docs/", get(|| async { Redirect::permanent("../docs") }))
        .route("/docs/openapi.json", get(document))
        .route("/docs/{file}", get(asset));
    shop_http::service_router(routes, crate::SERVICE)
}

async fn page() -> Response {
    with_type("text/html; charset=utf-8", PAGE)
}

async fn document() -> Response {
    with_type("application/json", crate::DOCUMENT)
}

async fn asset(Path(file): Path<String>) -> Response {
    match utoipa_swagger_ui::serve(&file, Arc::clone(&SWAGGER_CONFIG)) {
        Ok(Some(found)) => {
            let mut response = with_type(&found.content_type, found.bytes.into_owned());
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(ASSET_CACHING),
            );
            response
        }
        Ok(None) => Problem::not_found(format!("no file {file} in the API docs")).into_response(),
        Err(error) => Problem::internal(error.as_ref()).into_response(),
    }
}

fn with_type(content_type: &str, body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, http::Request};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    async fn get(path: &str) -> (u16, String, Vec<u8>) {
        let response = router()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, content_type, body.to_vec())
    }

    /// The files the page names, as written in it (`docs/<file>`).
    fn referenced_files() -> Vec<&'static str> {
        PAGE.split('"')
            .filter_map(|part| part.strip_prefix("docs/"))
            .collect()
    }

    #[tokio::test]
    async fn the_page_is_swagger_ui_and_every_file_it_names_is_served() {
        let (status, content_type, body) = get("/docs").await;
        assert_eq!(status, 200);
        assert_eq!(content_type, "text/html; charset=utf-8");
        assert!(
            String::from_utf8(body)
                .unwrap()
                .contains("swagger-ui-bundle.js")
        );
        let files = referenced_files();
        assert_eq!(files.len(), 7, "{files:?}");
        for file in files {
            let (status, _, body) = get(&format!("/docs/{file}")).await;
            assert_eq!(status, 200, "{file}");
            assert!(!body.is_empty(), "{file}");
        }
    }

    #[tokio::test]
    async fn the_initializer_points_swagger_ui_at_the_document() {
        let (status, content_type, body) = get("/docs/swagger-initializer.js").await;
        assert_eq!(status, 200);
        assert!(content_type.contains("javascript"), "{content_type}");
        let script = String::from_utf8(body).unwrap();
        assert!(script.contains(r#""url": "docs/openapi.json""#), "{script}");
        assert!(
            script.contains(r#""persistAuthorization": true"#),
            "{script}"
        );
    }

    #[tokio::test]
    async fn the_document_is_the_committed_one() {
        let (status, content_type, body) = get("/docs/openapi.json").await;
        assert_eq!(status, 200);
        assert_eq!(content_type, "application/json");
        let committed = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../docs/api/shop.openapi.json"),
        )
        .unwrap();
        assert_eq!(body, committed);
    }

    #[tokio::test]
    async fn an_unknown_file_is_a_problem_404() {
        let (status, content_type, _) = get("/docs/no-such-file.js").await;
        assert_eq!(status, 404);
        assert_eq!(content_type, "application/problem+json");
        let (status, _, _) = get("/elsewhere").await;
        assert_eq!(status, 404);
    }

    #[tokio::test]
    async fn a_trailing_slash_leads_back_to_the_page() {
        let response = router()
            .oneshot(Request::get("/docs/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 308);
        assert_eq!(response.headers()[header::LOCATION], "../docs");
    }
}
