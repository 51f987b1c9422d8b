//! Helpers for console tests over HTTP: log in through the form, keep the session cookie
//! and the CSRF token, fetch pages and post forms.

use super::TestApp;
use reqwest::{StatusCode, header};

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

pub fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string()
}

/// Logs in through the form; returns the session cookie value.
pub async fn login(t: &TestApp, username: &str, password: &str) -> String {
    let c = client();
    let page = c.get(format!("{}/login", t.base)).send().await.unwrap();
    let csrf = cookie_value(&set_cookie(&page, "mb_csrf").unwrap());
    let r = c
        .post(format!("{}/login", t.base))
        .header(header::COOKIE, format!("mb_csrf={csrf}"))
        .form(&[
            ("username", username),
            ("password", password),
            ("_csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login of {username}");
    cookie_value(&set_cookie(&r, "mb_session").unwrap())
}

pub async fn get_page(
    t: &TestApp,
    path: &str,
    session: Option<&str>,
    extra_cookie: &str,
) -> (StatusCode, String, reqwest::header::HeaderMap) {
    let mut req = client().get(format!("{}{}", t.base, path));
    let mut cookies = extra_cookie.to_string();
    if let Some(s) = session {
        cookies.push_str(&format!("; mb_session={s}"));
    }
    req = req.header(header::COOKIE, cookies);
    let r = req.send().await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    (status, r.text().await.unwrap(), headers)
}

/// A logged-in console user.
pub struct Browser {
    pub base: String,
    pub session: String,
    pub csrf: String,
}

impl Browser {
    /// A new user of this role (no unit), made by the administrator over the API, logged in.
    pub async fn new_user(t: &TestApp, username: &str, role: &str) -> Browser {
        let r = t
            .post(
                "/api/v1/users",
                "admin",
                serde_json::json!({"username": username, "role": role, "password": "a-long-password"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        Browser::open(t, username).await
    }

    pub async fn open(t: &TestApp, username: &str) -> Browser {
        let session = login(t, username, "a-long-password").await;
        let (_, html, _) = get_page(t, "/tickets", Some(&session), "").await;
        let csrf = html
            .split("name=\"_csrf\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        Browser {
            base: t.base.clone(),
            session,
            csrf,
        }
    }

    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let r = client()
            .get(format!("{}{}", self.base, path))
            .header(header::COOKIE, format!("mb_session={}", self.session))
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// A GET as it answers, redirects not followed: the status, where it sends, the body.
    pub async fn get_raw(&self, path: &str) -> (StatusCode, Option<String>, String) {
        let r = client()
            .get(format!("{}{}", self.base, path))
            .header(header::COOKIE, format!("mb_session={}", self.session))
            .send()
            .await
            .unwrap();
        answered(r).await
    }

    /// Submits an action form; returns the status and the page (after the redirect).
    pub async fn act(
        &self,
        id: i64,
        action: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let mut form: Vec<(&str, &str)> = vec![("_csrf", &self.csrf)];
        form.extend_from_slice(fields);
        let r = client()
            .post(format!("{}/tickets/{id}/act/{action}", self.base))
            .header(header::COOKIE, format!("mb_session={}", self.session))
            .form(&form)
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::SEE_OTHER {
            let (status, html) = self.page(&format!("/tickets/{id}")).await;
            assert_eq!(status, StatusCode::OK);
            return (StatusCode::SEE_OTHER, html);
        }
        (r.status(), r.text().await.unwrap())
    }

    /// Posts a form with this session's CSRF token; returns the status, the redirect
    /// target if any, and the body.
    pub async fn post(
        &self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, Option<String>, String) {
        let mut form: Vec<(&str, &str)> = vec![("_csrf", &self.csrf)];
        form.extend_from_slice(fields);
        let r = client()
            .post(format!("{}{}", self.base, path))
            .header(header::COOKIE, format!("mb_session={}", self.session))
            .form(&form)
            .send()
            .await
            .unwrap();
        answered(r).await
    }

    /// Posts a file as a browser's upload form does (multipart, with the form's CSRF token).
    pub async fn upload(
        &self,
        path: &str,
        filename: &str,
        bytes: &[u8],
    ) -> (StatusCode, Option<String>, String) {
        let boundary = "mb-test-boundary-7f3a";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n",
            self.csrf
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let r = client()
            .post(format!("{}{}", self.base, path))
            .header(header::COOKIE, format!("mb_session={}", self.session))
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        answered(r).await
    }

    /// Fetches a file; returns the status, the headers and the bytes.
    pub async fn download(&self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let r = client()
            .get(format!("{}{}", self.base, path))
            .header(header::COOKIE, format!("mb_session={}", self.session))
            .send()
            .await
            .unwrap();
        let (status, headers) = (r.status(), r.headers().clone());
        (status, headers, r.bytes().await.unwrap().to_vec())
    }
}

pub fn has_action(html: &str, id: i64, action: &str) -> bool {
    html.contains(&format!("/tickets/{id}/act/{action}\""))
}

/// A form post's answer: its status, where it redirects (if it does) and its text.
async fn answered(r: reqwest::Response) -> (StatusCode, Option<String>, String) {
    let location = r
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (r.status(), location, r.text().await.unwrap())
}
