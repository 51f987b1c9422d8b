//! Whether cookies are `Secure` is decided once, for every cookie the server sets (the
//! console's session and messages, the portal's form tokens, the citizen's session):
//! on when the deployment says so (`MASHANGBAN_SECURE_COOKIES`), or when citizens reach it
//! over https (`MASHANGBAN_PUBLIC_URL`). A browser then sends them over TLS only, so a
//! session cannot leak on a plain-http link to the same host.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use mashangban_app::App;

/// Adds `; Secure` to each `Set-Cookie` of an answer that lacks it, when cookies are to be
/// secure.
pub async fn secure(State(app): State<App>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if !app.config.secure_cookies() {
        return resp;
    }
    let cookies: Vec<HeaderValue> = resp
        .headers_mut()
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    if cookies.is_empty() {
        return resp;
    }
    resp.headers_mut().remove(header::SET_COOKIE);
    for c in cookies {
        let value = match c.to_str() {
            Ok(s) if !has_secure(s) => HeaderValue::from_str(&format!("{s}; Secure")).unwrap_or(c),
            _ => c,
        };
        resp.headers_mut().append(header::SET_COOKIE, value);
    }
    resp
}

/// Whether a `Set-Cookie` value has the `Secure` attribute already.
fn has_secure(cookie: &str) -> bool {
    cookie
        .split(';')
        .skip(1)
        .any(|a| a.trim().eq_ignore_ascii_case("secure"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secure_attribute_is_found_among_the_others() {
        assert!(has_secure("a=b; Path=/; Secure"));
        assert!(has_secure("a=b; secure; HttpOnly"));
        assert!(!has_secure("a=b; Path=/; HttpOnly"));
        assert!(!has_secure("Secure=1; Path=/"));
    }
}
