//! The API's documentation through the public HTTP API: Swagger UI at `/docs` with every file
//! it loads, and the gateway's OpenAPI document as committed, all without a token.

// Test helpers panic to fail the test that called them.
#![allow(clippy::unwrap_used)]

use system_tests::system;

/// Status, content type and body of a GET without a token.
async fn get(path: &str) -> (u16, String, Vec<u8>) {
    let response = system()
        .http()
        .get(system().url(path))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

/// What the page loads: every `href` and `src` it names, relative to `/docs`.
fn references(page: &str) -> Vec<String> {
    ["href=\"", "src=\""]
        .iter()
        .flat_map(|attribute| page.split(attribute).skip(1))
        .filter_map(|rest| rest.split('"').next())
        .map(|reference| format!("/{reference}"))
        .collect()
}

#[tokio::test]
async fn the_docs_page_is_swagger_ui_and_every_file_it_loads_is_served() {
    let (status, content_type, body) = get("/docs").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains(r#"<div id="swagger-ui">"#), "{page}");
    let files = references(&page);
    for wanted in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-ui-standalone-preset.js",
        "/docs/swagger-initializer.js",
    ] {
        assert!(files.iter().any(|f| f == wanted), "{wanted} in {files:?}");
    }
    for file in files {
        let (status, content_type, body) = get(&file).await;
        assert_eq!(status, 200, "{file}");
        assert!(!body.is_empty(), "{file} is empty");
        let expected = match file.rsplit('.').next().unwrap() {
            "css" => "text/css",
            "js" => "javascript",
            "png" => "image/png",
            other => panic!("{file}: unexpected kind {other}"),
        };
        assert!(content_type.contains(expected), "{file}: {content_type}");
    }
    // Swagger UI's own code, not an error page: the bundle defines what the initializer calls.
    let (_, _, bundle) = get("/docs/swagger-ui-bundle.js").await;
    assert!(bundle.len() > 500_000, "{} bytes", bundle.len());
    assert!(String::from_utf8_lossy(&bundle).contains("SwaggerUIBundle"));
    let (_, _, initializer) = get("/docs/swagger-initializer.js").await;
    let initializer = String::from_utf8(initializer).unwrap();
    assert!(initializer.contains("SwaggerUIBundle("), "{initializer}");
    assert!(
        initializer.contains(r#""url": "docs/openapi.json""#),
        "{initializer}"
    );
}

#[tokio::test]
async fn the_document_served_is_the_committed_merged_document() {
    let (status, content_type, body) = get("/docs/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/json");
    let committed =
        std::fs::read(system_tests::workspace().join("docs/api/shop.openapi.json")).unwrap();
    assert!(
        body == committed,
        "/docs/openapi.json differs from docs/api/shop.openapi.json"
    );
    let document: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["info"]["title"], "Shop API");
}

#[tokio::test]
async fn a_file_swagger_ui_does_not_have_is_a_404_problem() {
    let (status, content_type, _) = get("/docs/no-such-file.js").await;
    assert_eq!(status, 404);
    assert_eq!(content_type, "application/problem+json");
}
