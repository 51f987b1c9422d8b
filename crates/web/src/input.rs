//! The input layer's check on text: no control characters anywhere a client can put text
//! — the path, the query string, a form, a JSON body — except the tab, line feed and
//! carriage return that text may hold. A zero byte is refused by PostgreSQL and would
//! otherwise be a 500 on one backend and accepted on the other; the rest have no place in
//! a request and could hide text from the people who read it. Refused with 422 naming
//! where it was, before any use case runs.

use crate::error::ApiError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// The first character text may not hold, if any.
pub fn control_character(s: &str) -> Option<char> {
    s.chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

fn refused(field: &str, c: char) -> ApiError {
    ApiError::invalid(
        field,
        format!(
            "contains the control character U+{:04X}; only tab, line feed and carriage return are allowed in text",
            c as u32
        ),
    )
}

/// Checks every string (and key) of a JSON value; names the first bad one by its path.
pub fn check_json(value: &Value) -> Result<(), ApiError> {
    fn walk(v: &Value, path: &str) -> Result<(), ApiError> {
        let here = |p: &str| {
            if p.is_empty() {
                "body".to_string()
            } else {
                p.to_string()
            }
        };
        match v {
            Value::String(s) => match control_character(s) {
                Some(c) => Err(refused(&here(path), c)),
                None => Ok(()),
            },
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{}[{i}]", here(path)))?;
                }
                Ok(())
            }
            Value::Object(fields) => {
                for (k, item) in fields {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    if let Some(c) = control_character(k) {
                        return Err(refused(&p, c));
                    }
                    walk(item, &p)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    walk(value, "")
}

/// Checks name/value pairs of a query string or form, naming the parameter.
fn check_pairs(encoded: &[u8]) -> Result<(), ApiError> {
    for (k, v) in form_urlencoded::parse(encoded) {
        if let Some(c) = control_character(&k).or_else(|| control_character(&v)) {
            return Err(refused(&k, c));
        }
    }
    Ok(())
}

/// Refuses a request whose path, query or form holds a control character (JSON bodies
/// are checked where they are parsed, [`crate::api`]'s `json_body`).
pub async fn refuse_control_characters(req: Request, next: Next) -> Response {
    let uri = req.uri().clone();
    let path: Vec<u8> = percent_decoded(uri.path());
    if let Some(c) = control_character(&String::from_utf8_lossy(&path)) {
        return refused("path", c).into_response();
    }
    if let Some(q) = uri.query()
        && let Err(e) = check_pairs(q.as_bytes())
    {
        return e.into_response();
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, crate::MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "the request body is larger than {} bytes",
                    crate::MAX_BODY_BYTES
                ),
            )
            .into_response();
        }
    };
    if let Err(e) = check_pairs(&bytes) {
        return e.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// A path with its `%XX` escapes decoded.
fn percent_decoded(path: &str) -> Vec<u8> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(hex) = std::str::from_utf8(&bytes[i + 1..i + 3])
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// Parses a JSON body strictly: a key given twice in one object is refused (the usual
/// parsers keep the last, so two readers of the same body could see different values).
pub fn parse_json(bytes: &[u8]) -> Result<Value, String> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict.deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

/// A JSON value read with duplicate keys refused.
struct Strict;

impl<'de> serde::de::DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(Strict)
    }
}

impl<'de> serde::de::Visitor<'de> for Strict {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = serde_json::Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if fields.contains_key(&k) {
                return Err(serde::de::Error::custom(format!(
                    "the key `{k}` is given twice"
                )));
            }
            let v = map.next_value_seed(Strict)?;
            fields.insert(k, v);
        }
        Ok(Value::Object(fields))
    }
}

/// Refuses a body sent to the JSON API as anything but JSON (415): the API reads JSON
/// only, except the imports (catalogue, past tickets), which take a CSV or Excel file.
pub async fn require_json(req: Request, next: Next) -> Response {
    use axum::http::Method;
    let writes = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH);
    let path = req.uri().path();
    let api = path.starts_with("/api/v1/")
        && path != "/api/v1/catalogue/import"
        && path != "/api/v1/import/tickets"
        && !crate::api_files::is_upload(path);
    let has_body = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|n| n.trim() != "0");
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim().to_ascii_lowercase();
            v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
        });
    let content_type = req.headers().contains_key(header::CONTENT_TYPE);
    if writes && api && has_body && content_type && !json {
        return ApiError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the API takes JSON: send Content-Type: application/json",
        )
        .into_response();
    }
    next.run(req).await
}

/// The longest request target (path and query) taken, in bytes: far more than any filter
/// needs, far less than the HTTP server's own limit, so that a longer one gets the one error
/// shape (414) rather than the server's bare answer.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Refuses an over-long request target (414), before anything reads it.
pub async fn refuse_long_uri(req: Request, next: Next) -> Response {
    let len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if len > MAX_URI_BYTES {
        return ApiError::new(
            axum::http::StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the request target is longer than {MAX_URI_BYTES} bytes"),
        )
        .into_response();
    }
    next.run(req).await
}

/// Gives every error of the API the one shape, `{"error": {"code", "message"}}`: the
/// framework's own refusals (a path parameter or query that does not parse, a method not
/// taken) come as plain text otherwise.
pub async fn api_error_shape(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let resp = next.run(req).await;
    let status = resp.status();
    if !api || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    use axum::http::StatusCode as S;
    let code = match status {
        S::BAD_REQUEST => "bad_request",
        S::NOT_FOUND => "not_found",
        S::METHOD_NOT_ALLOWED => "method_not_allowed",
        S::PAYLOAD_TOO_LARGE => "body_too_large",
        S::URI_TOO_LONG => "uri_too_long",
        S::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        S::UNPROCESSABLE_ENTITY => "invalid",
        S::TOO_MANY_REQUESTS => "too_many_requests",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let message = if status.is_server_error() || text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    // A path parameter that does not parse names no resource: not found.
    let (status, code) = if message.starts_with("Invalid URL") || message.contains("Cannot parse") {
        (S::NOT_FOUND, "not_found")
    } else {
        (status, code)
    };
    let mut shaped = ApiError::new(status, code, message).into_response();
    carry_headers(&parts.headers, &mut shaped);
    if status == S::PAYLOAD_TOO_LARGE {
        // The rest of the body is not read: the connection ends with this answer.
        shaped.headers_mut().insert(
            header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    shaped
}

/// Gives a refusal rewritten into another shape the headers of the one it replaces (an
/// `Allow`, a `Retry-After`, a `Connection: close`), all but its body's type and length.
pub fn carry_headers(from: &axum::http::HeaderMap, to: &mut Response) {
    for name in from.keys() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            to.headers_mut().remove(name);
            for value in from.get_all(name) {
                to.headers_mut().append(name.clone(), value.clone());
            }
        }
    }
}

/// The token of an `Authorization: Bearer TOKEN` header, trimmed: none when the header is
/// absent, of another scheme or empty. The API's users and the metrics endpoint read it
/// here, one way.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let h = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    h.strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_may_hold_tabs_and_line_breaks_only() {
        assert_eq!(control_character("路灯\t不亮\r\n第二行"), None);
        assert_eq!(control_character("a\u{0}b"), Some('\u{0}'));
        assert_eq!(control_character("a\u{1b}[31m"), Some('\u{1b}'));
        assert_eq!(control_character("a\u{7f}"), Some('\u{7f}'));
        assert_eq!(control_character("a\u{85}"), Some('\u{85}'));
    }

    #[test]
    fn json_names_the_field() {
        let e = check_json(&json!({"citizen": {"name": "张\u{0}三"}})).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("citizen.name"));
        let e = check_json(&json!([{"name": "ok"}, {"name": "x\u{1}"}])).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("body[1].name"));
        assert!(check_json(&json!({"content": "第一行\n第二行"})).is_ok());
    }

    #[test]
    fn duplicate_keys_are_refused() {
        assert!(parse_json(br#"{"a": 1, "b": {"c": 2}}"#).is_ok());
        let e = parse_json(br#"{"a": 1, "a": 2}"#).unwrap_err();
        assert!(e.contains("`a` is given twice"), "{e}");
        assert!(parse_json(br#"{"x": [{"k": 1, "k": 1}]}"#).is_err());
        assert!(parse_json(br#"{"a": 1} trailing"#).is_err());
    }

    #[test]
    fn paths_are_decoded() {
        assert_eq!(percent_decoded("/a%00b"), b"/a\0b");
        assert_eq!(percent_decoded("/a%2"), b"/a%2");
        assert_eq!(percent_decoded("/%E8%B7%AF"), "/路".as_bytes());
    }

    #[test]
    fn bearer_tokens_are_read_one_way() {
        let with = |v: &str| {
            let mut h = axum::http::HeaderMap::new();
            h.insert(axum::http::header::AUTHORIZATION, v.parse().unwrap());
            h
        };
        assert_eq!(super::bearer_token(&with("Bearer abc ")), Some("abc"));
        assert_eq!(super::bearer_token(&with("bearer abc")), Some("abc"));
        assert_eq!(super::bearer_token(&with("Bearer  ")), None);
        assert_eq!(super::bearer_token(&with("Basic abc")), None);
        assert_eq!(super::bearer_token(&axum::http::HeaderMap::new()), None);
    }
}
