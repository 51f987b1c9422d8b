#![recursion_limit = "512"]
//! The HTTP layer of Mashangban: the JSON API under `/api/v1` and its OpenAPI document.

mod api;
mod api_catalogue;
mod api_knowledge;
mod api_kpi;
mod api_text;
mod api_warnings;
pub mod console;
mod docx;
pub mod error;
mod input;
pub mod openapi;
pub mod reports;
mod xlsx;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use mashangban_app::App;
use std::future::Future;
use tokio::net::TcpListener;

/// Largest request body accepted, in bytes (a 20,000-character request is about 60 KB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The whole HTTP application.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/api/v1/auth/login", post(api::login))
        .route("/api/v1/auth/logout", post(api::logout))
        .route("/api/v1/me", get(api::me))
        .route(
            "/api/v1/tickets",
            post(api::create_ticket).get(api::list_tickets),
        )
        .route("/api/v1/tickets/search", get(api::search_tickets))
        .route("/api/v1/tickets/{id}", get(api::get_ticket))
        .route("/api/v1/tickets/{id}/events", get(api::ticket_events))
        .route("/api/v1/tickets/{id}/deadlines", get(api::ticket_deadlines))
        .route("/api/v1/calendar", get(api::calendar))
        .route(
            "/api/v1/calendar/days/{date}",
            axum::routing::put(api::put_calendar_day).delete(api::delete_calendar_day),
        )
        .route(
            "/api/v1/calendar/years/{year}",
            axum::routing::put(api::put_calendar_year),
        )
        .route(
            "/api/v1/policy/deadlines",
            get(api::deadline_policy).put(api::put_deadline_policy),
        )
        .route("/api/v1/kpis", get(api_kpi::kpis))
        .route("/api/v1/kpis.xlsx", get(api_kpi::kpis_xlsx))
        .route("/api/v1/reports/daily", get(api_kpi::daily_report))
        .route("/api/v1/reports/monthly", get(api_kpi::monthly_report))
        .route(
            "/api/v1/policy/kpis",
            get(api_kpi::policy).put(api_kpi::put_policy),
        )
        .route("/api/v1/aggregates/rebuild", post(api_kpi::rebuild))
        .route("/api/v1/warnings", get(api_warnings::list))
        .route("/api/v1/warnings.xlsx", get(api_warnings::list_xlsx))
        .route("/api/v1/warnings/scan", post(api_warnings::scan))
        .route("/api/v1/warnings/{id}", get(api_warnings::get))
        .route("/api/v1/warnings/{id}/handle", post(api_warnings::handle))
        .route(
            "/api/v1/policy/warnings",
            get(api_warnings::policy).put(api_warnings::put_policy),
        )
        .route("/api/v1/hot-issues", get(api_warnings::hot_issues))
        .route(
            "/api/v1/hot-issues.xlsx",
            get(api_warnings::hot_issues_xlsx),
        )
        .route("/api/v1/forecast", get(api_warnings::forecast))
        .route("/api/v1/forecast.xlsx", get(api_warnings::forecast_xlsx))
        .route("/api/v1/tickets/{id}/{action}", post(api::act))
        .route("/api/v1/units", get(api::list_units).post(api::create_unit))
        .route("/api/v1/divisions", get(api::list_divisions))
        .route(
            "/api/v1/divisions/{code}",
            axum::routing::patch(api::patch_division),
        )
        .route(
            "/api/v1/categories",
            get(api::list_categories).post(api::save_category),
        )
        .route("/api/v1/users", get(api::list_users).post(api::create_user))
        .route("/api/v1/users/{id}", axum::routing::patch(api::patch_user))
        .route(
            "/api/v1/webhooks",
            get(api::webhooks).put(api::put_webhooks),
        )
        .route("/api/v1/outbox", get(api::outbox))
        .route("/api/v1/notices", get(api::notices))
        .route(
            "/api/v1/units/{id}/contact",
            axum::routing::put(api::put_unit_contact),
        )
        .route("/api/v1/board", get(api::board))
        .route(
            "/api/v1/catalogue",
            get(api_catalogue::list).post(api_catalogue::create),
        )
        .route(
            "/api/v1/catalogue/{id}",
            axum::routing::put(api_catalogue::update).delete(api_catalogue::delete),
        )
        .route("/api/v1/catalogue/history", get(api_catalogue::history))
        .route("/api/v1/catalogue/export.csv", get(api_catalogue::export))
        .route(
            "/api/v1/catalogue/export.xlsx",
            get(api_catalogue::export_xlsx),
        )
        .route("/api/v1/catalogue/import", post(api_catalogue::import))
        .route("/api/v1/catalogue/owner", get(api_catalogue::owner))
        .route(
            "/api/v1/knowledge",
            get(api_knowledge::list).post(api_knowledge::create),
        )
        .route("/api/v1/knowledge/history", get(api_knowledge::history))
        .route(
            "/api/v1/knowledge/{id}",
            get(api_knowledge::get_one)
                .put(api_knowledge::update)
                .delete(api_knowledge::delete),
        )
        .route("/api/v1/suggest", post(api_text::suggest))
        .route("/api/v1/classifier/train", post(api_text::train))
        .route("/api/v1/classifier/feedback", get(api_text::feedback))
        .route(
            "/api/v1/gazetteer",
            get(api_text::gazetteer).put(api_text::put_gazetteer),
        )
        .route(
            "/api/v1/gazetteer/{id}",
            axum::routing::delete(api_text::delete_gazetteer),
        )
        .merge(console::routes())
        .fallback(api::fallback)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(input::refuse_control_characters))
        .layer(axum::middleware::from_fn(input::require_json))
        .layer(axum::middleware::from_fn(input::api_error_shape))
        .layer(axum::middleware::from_fn(input::refuse_long_uri))
        .layer(axum::middleware::from_fn(api::refuse_oversized))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            api::panic_response,
        ))
        .with_state(app)
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    app: App,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(app))
        .with_graceful_shutdown(shutdown)
        .await
}
