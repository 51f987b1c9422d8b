//! Every answer the API tests receive, checked against the OpenAPI document: the operation
//! and its status must be documented, and a JSON body must match the documented schema.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

static DOC: LazyLock<Value> = LazyLock::new(mashangban_web::openapi::document);

type Validators = HashMap<(String, String, u16), Option<Arc<jsonschema::Validator>>>;
static VALIDATORS: LazyLock<Mutex<Validators>> = LazyLock::new(Default::default);

/// The documented path template a request path falls under (the most literal one).
fn template(path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    DOC["paths"]
        .as_object()?
        .keys()
        .filter_map(|t| {
            let ts: Vec<&str> = t.split('/').collect();
            if ts.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (a, b) in ts.iter().zip(&segments) {
                if a.starts_with('{') {
                    continue;
                }
                if a != b {
                    return None;
                }
                literal += 1;
            }
            Some((literal, t.clone()))
        })
        .max()
        .map(|(_, t)| t)
}

/// Panics if the answer is not one the document describes.
pub fn check(method: &Method, path: &str, status: StatusCode, json_body: Option<&Value>) {
    if !(path.starts_with("/api/") || path.starts_with("/healthz")) {
        return;
    }
    // Requests no route takes (the fallback's 404, a method not taken) are the router's.
    if status == StatusCode::METHOD_NOT_ALLOWED {
        return;
    }
    let Some(t) = template(path) else {
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{method} {path}: no such operation documented"
        );
        return;
    };
    let m = method.as_str().to_lowercase();
    let key = (t.clone(), m.clone(), status.as_u16());
    let validator = {
        let mut cache = VALIDATORS.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(key)
            .or_insert_with(|| {
                let op = &DOC["paths"][&t][&m];
                assert!(op.is_object(), "{method} {t} is not documented");
                let response = &op["responses"][status.as_str()];
                assert!(
                    response.is_object(),
                    "{method} {t} answered {status}, which the document does not list"
                );
                let schema = &response["content"]["application/json"]["schema"];
                (!schema.is_null()).then(|| {
                    let root = json!({
                        "$schema": "https://json-schema.org/draft/2020-12/schema",
                        "allOf": [schema],
                        "components": DOC["components"],
                    });
                    Arc::new(
                        jsonschema::validator_for(&root)
                            .unwrap_or_else(|e| panic!("{method} {t} {status}: schema: {e}")),
                    )
                })
            })
            .clone()
    };
    if let (Some(v), Some(body)) = (validator, json_body) {
        let errors: Vec<String> = v
            .iter_errors(body)
            .take(5)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} answered {status} with a body the document does not describe:\n{}\n{}",
            errors.join("\n"),
            body
        );
    }
}
