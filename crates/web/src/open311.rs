//! Open311 GeoReport v2 at `/open311/v2/`: `discovery`, `services`, `services/{code}`,
//! `requests` (GET and POST), `requests/{id}` and `tokens/{token}`, each as `.json` or
//! `.xml`. The handlers parse, call one use case and render; errors are in the protocol's
//! shape in the format asked for, whatever refused the request (this module's
//! [`protocol_errors`] rewrites the server's own refusals on these paths).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mashangban_app::App;
use mashangban_domain::open311::Open311Error;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// Where the protocol is served.
pub const BASE: &str = "/open311/v2";

pub fn routes() -> Router<App> {
    Router::new()
        .route("/open311/v2/{file}", get(top).post(post_requests))
        .route("/open311/v2/{dir}/{file}", get(item))
}

/// The two formats of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

/// `services.json` → (`services`, JSON); an unknown format is an error in JSON.
fn split(file: &str) -> Result<(&str, Format), Open311Error> {
    let (name, ext) = file
        .rsplit_once('.')
        .ok_or_else(|| Open311Error::new(400, "add the format: .json or .xml"))?;
    match ext {
        "json" => Ok((name, Format::Json)),
        "xml" => Ok((name, Format::Xml)),
        other => Err(Open311Error::new(
            400,
            format!("format `{other}` is not served: use json or xml"),
        )),
    }
}

/// The format a path asks for (JSON unless it ends in `.xml`).
fn format_of(path: &str) -> Format {
    if path.ends_with(".xml") {
        Format::Xml
    } else {
        Format::Json
    }
}

/// A value as the protocol's XML: a list under `root` with each item as `item`; within an
/// item, a list field as its name holding each element under the name without its `s`.
fn xml(root: &str, item: &str, value: &Value) -> Vec<u8> {
    fn write(w: &mut Writer<Vec<u8>>, name: &str, v: &Value) {
        let _ = w.write_event(Event::Start(BytesStart::new(name)));
        match v {
            Value::Object(fields) => {
                for (k, field) in fields {
                    match field {
                        Value::Array(items) => {
                            let _ = w.write_event(Event::Start(BytesStart::new(k.as_str())));
                            let one = k.strip_suffix('s').unwrap_or(k);
                            for i in items {
                                write(w, one, i);
                            }
                            let _ = w.write_event(Event::End(BytesEnd::new(k.as_str())));
                        }
                        other => write(w, k, other),
                    }
                }
            }
            Value::Array(items) => {
                for i in items {
                    write(w, "item", i);
                }
            }
            Value::Null => {}
            Value::String(s) => {
                let _ = w.write_event(Event::Text(BytesText::new(s)));
            }
            other => {
                let _ = w.write_event(Event::Text(BytesText::new(&other.to_string())));
            }
        }
        let _ = w.write_event(Event::End(BytesEnd::new(name)));
    }
    let mut w = Writer::new(Vec::new());
    let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)));
    match value {
        Value::Array(items) => {
            let _ = w.write_event(Event::Start(BytesStart::new(root)));
            for i in items {
                write(&mut w, item, i);
            }
            let _ = w.write_event(Event::End(BytesEnd::new(root)));
        }
        other => write(&mut w, root, other),
    }
    w.into_inner()
}

/// An answer in the format asked for; `root`/`item` name the XML elements.
fn answer(
    format: Format,
    status: StatusCode,
    root: &str,
    item: &str,
    body: &impl Serialize,
) -> Response {
    let value = serde_json::to_value(body).unwrap_or(Value::Null);
    let (bytes, mime) = match format {
        Format::Json => (
            serde_json::to_vec(&value).unwrap_or_default(),
            "application/json; charset=utf-8",
        ),
        Format::Xml => (xml(root, item, &value), "text/xml; charset=utf-8"),
    };
    let mut r = (status, bytes).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    r
}

/// An error in the protocol's shape: `[{"code", "description"}]`, `<errors><error>…`.
fn error(format: Format, e: Open311Error) -> Response {
    let status = StatusCode::from_u16(e.code).unwrap_or(StatusCode::BAD_REQUEST);
    answer(format, status, "errors", "error", &vec![e])
}

fn jurisdiction(app: &App, q: &HashMap<String, String>) -> Result<(), Open311Error> {
    app.open311_check_jurisdiction(q.get("jurisdiction_id").map(String::as_str))
}

/// `discovery`, `services`, `requests` (GET) and `servicerequestupdates` (FixMyStreet's
/// extension: what changed in the requests between two times).
async fn top(
    State(app): State<App>,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (name, format) = match split(&file) {
        Ok(s) => s,
        Err(e) => return error(format_of(&file), e),
    };
    let result = async {
        jurisdiction(&app, &q)?;
        Ok::<_, Open311Error>(match name {
            "discovery" => {
                let base = format!("{}{BASE}", app.config.public_url);
                let d = serde_json::json!({
                    "changeset": "2026-12-06T00:00:00+08:00",
                    "contact": "12345政务服务便民热线",
                    "key_service": "API keys are issued by the hotline's administrators",
                    "endpoints": [{
                        "specification": "http://wiki.open311.org/GeoReport_v2",
                        "url": base,
                        "changeset": "2026-12-06T00:00:00+08:00",
                        "type": "production",
                        "formats": ["application/json", "text/xml"],
                    }],
                });
                answer(format, StatusCode::OK, "discovery", "discovery", &d)
            }
            "services" => answer(
                format,
                StatusCode::OK,
                "services",
                "service",
                &app.open311_services().await?,
            ),
            "requests" => {
                let list = app.open311_requests(&q, chrono::Utc::now()).await?;
                answer(format, StatusCode::OK, "service_requests", "request", &list)
            }
            "servicerequestupdates" => {
                let list = app.open311_updates(&q, chrono::Utc::now()).await?;
                answer(
                    format,
                    StatusCode::OK,
                    "service_request_updates",
                    "request_update",
                    &list,
                )
            }
            other => return Err(Open311Error::new(404, format!("no `{other}` here"))),
        })
    }
    .await;
    result.unwrap_or_else(|e| error(format, e))
}

/// `services/{code}`, `requests/{id}`, `tokens/{token}`.
async fn item(
    State(app): State<App>,
    Path((dir, file)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (key, format) = match split(&file) {
        Ok(s) => s,
        Err(e) => return error(format_of(&file), e),
    };
    let result = async {
        jurisdiction(&app, &q)?;
        Ok::<_, Open311Error>(match dir.as_str() {
            "services" => answer(
                format,
                StatusCode::OK,
                "service_definition",
                "service_definition",
                &app.open311_service(key).await?,
            ),
            "requests" => answer(
                format,
                StatusCode::OK,
                "service_requests",
                "request",
                &app.open311_request(key, chrono::Utc::now()).await?,
            ),
            "tokens" => answer(
                format,
                StatusCode::OK,
                "service_requests",
                "request",
                &app.open311_token(key).await?,
            ),
            other => return Err(Open311Error::new(404, format!("no `{other}` here"))),
        })
    }
    .await;
    result.unwrap_or_else(|e| error(format, e))
}

/// `POST requests` and `POST servicerequestupdates`: a form
/// (`application/x-www-form-urlencoded`) with the client's key
/// (`api_key`, in the form or the query).
async fn post_requests(
    State(app): State<App>,
    Path(file): Path<String>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let (name, format) = match split(&file) {
        Ok(s) => s,
        Err(e) => return error(format_of(&file), e),
    };
    if name != "requests" && name != "servicerequestupdates" {
        return error(
            format,
            Open311Error::new(405, format!("`{name}` takes no POST")),
        );
    }
    let form_encoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_encoded {
        return error(
            format,
            Open311Error::new(400, "send the request as application/x-www-form-urlencoded"),
        );
    }
    // The key and the jurisdiction may come in the query (as the protocol's Swagger has
    // it) or in the form; given in both, they are refused as given twice.
    let mut form: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .filter(|(k, _)| k == "api_key" || k == "jurisdiction_id")
            .collect();
    form.extend(form_urlencoded::parse(&body).into_owned());
    if name == "servicerequestupdates" {
        return match app.open311_post_update(&form, chrono::Utc::now()).await {
            Ok(taken) => answer(
                format,
                StatusCode::OK,
                "service_request_updates",
                "request_update",
                &taken,
            ),
            Err(e) => error(format, e),
        };
    }
    match app.open311_post(&form, chrono::Utc::now()).await {
        Ok(created) => answer(
            format,
            StatusCode::OK,
            "service_requests",
            "request",
            &created,
        ),
        Err(e) => error(format, e),
    }
}

/// Rewrites the server's own refusals on the protocol's paths (a body too large, a control
/// character, a method not taken, a path unknown) into the protocol's error shape.
pub async fn protocol_errors(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if !path.starts_with("/open311/") {
        return next.run(req).await;
    }
    let r = next.run(req).await;
    let status = r.status();
    let ours = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if status.is_success() || !ours {
        return r;
    }
    let (parts, body) = r.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let mut rewritten = match value["error"]["message"].as_str() {
        // Already in the protocol's shape.
        None => {
            let mut r = (status, bytes).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            r
        }
        Some(message) => {
            let message = if status == StatusCode::NOT_FOUND {
                "no such endpoint; see /open311/v2/discovery.json".to_string()
            } else {
                message.to_string()
            };
            error(
                format_of(&path),
                Open311Error::new(status.as_u16(), message),
            )
        }
    };
    // The refusal's own headers still hold: above all `Connection: close` after a body too
    // large that was not read, without which a client reuses a connection the server drops.
    crate::input::carry_headers(&parts.headers, &mut rewritten);
    rewritten
}
