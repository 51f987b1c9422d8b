#![recursion_limit = "512"]
//! The HTTP layer of Mashangban: the JSON API under `/api/v1` and its OpenAPI document.

mod api;
mod api_catalogue;
mod api_knowledge;
mod api_kpi;
mod api_text;
mod api_warnings;
mod bodies;
pub mod console;
mod docx;
pub mod error;
mod input;
pub mod openapi;
pub mod reports;
mod xlsx;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, patch, post, put};
use mashangban_app::App;
use std::future::Future;
use tokio::net::TcpListener;

/// Largest request body accepted, in bytes (a 20,000-character request is about 60 KB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Declares the API's routes once: the router is built from this list, and the list is
/// what the OpenAPI document is tested against (every route documented, every documented
/// route served).
macro_rules! api_routes {
    ($($path:literal => $m0:ident($h0:path) $(, $m:ident($h:path))* ;)*) => {
        /// Every route of the API, as (method, path).
        pub const API_ROUTES: &[(&str, &str)] = &[$((stringify!($m0), $path), $((stringify!($m), $path),)*)*];

        fn api_router() -> Router<App> {
            Router::new()$(.route($path, $m0($h0)$(.$m($h))*))*
        }
    };
}

api_routes! {
    "/healthz" => get(api::healthz);
    "/api/v1/openapi.json" => get(api::openapi);
    "/api/v1/auth/login" => post(api::login);
    "/api/v1/auth/logout" => post(api::logout);
    "/api/v1/me" => get(api::me);
    "/api/v1/tickets" => post(api::create_ticket), get(api::list_tickets);
    "/api/v1/tickets/search" => get(api::search_tickets);
    "/api/v1/tickets/{id}" => get(api::get_ticket);
    "/api/v1/tickets/{id}/events" => get(api::ticket_events);
    "/api/v1/tickets/{id}/deadlines" => get(api::ticket_deadlines);
    "/api/v1/calendar" => get(api::calendar);
    "/api/v1/calendar/days/{date}" => put(api::put_calendar_day), delete(api::delete_calendar_day);
    "/api/v1/calendar/years/{year}" => put(api::put_calendar_year);
    "/api/v1/policy/deadlines" => get(api::deadline_policy), put(api::put_deadline_policy);
    "/api/v1/kpis" => get(api_kpi::kpis);
    "/api/v1/kpis.xlsx" => get(api_kpi::kpis_xlsx);
    "/api/v1/reports/daily" => get(api_kpi::daily_report);
    "/api/v1/reports/monthly" => get(api_kpi::monthly_report);
    "/api/v1/policy/kpis" => get(api_kpi::policy), put(api_kpi::put_policy);
    "/api/v1/aggregates/rebuild" => post(api_kpi::rebuild);
    "/api/v1/warnings" => get(api_warnings::list);
    "/api/v1/warnings.xlsx" => get(api_warnings::list_xlsx);
    "/api/v1/warnings/scan" => post(api_warnings::scan);
    "/api/v1/warnings/{id}" => get(api_warnings::get);
    "/api/v1/warnings/{id}/handle" => post(api_warnings::handle);
    "/api/v1/policy/warnings" => get(api_warnings::policy), put(api_warnings::put_policy);
    "/api/v1/hot-issues" => get(api_warnings::hot_issues);
    "/api/v1/hot-issues.xlsx" => get(api_warnings::hot_issues_xlsx);
    "/api/v1/forecast" => get(api_warnings::forecast);
    "/api/v1/forecast.xlsx" => get(api_warnings::forecast_xlsx);
    "/api/v1/tickets/{id}/{action}" => post(api::act);
    "/api/v1/units" => get(api::list_units), post(api::create_unit);
    "/api/v1/divisions" => get(api::list_divisions);
    "/api/v1/divisions/{code}" => patch(api::patch_division);
    "/api/v1/categories" => get(api::list_categories), post(api::save_category);
    "/api/v1/users" => get(api::list_users), post(api::create_user);
    "/api/v1/users/{id}" => patch(api::patch_user);
    "/api/v1/webhooks" => get(api::webhooks), put(api::put_webhooks);
    "/api/v1/outbox" => get(api::outbox);
    "/api/v1/notices" => get(api::notices);
    "/api/v1/units/{id}/contact" => put(api::put_unit_contact);
    "/api/v1/board" => get(api::board);
    "/api/v1/catalogue" => get(api_catalogue::list), post(api_catalogue::create);
    "/api/v1/catalogue/{id}" => put(api_catalogue::update), delete(api_catalogue::delete);
    "/api/v1/catalogue/history" => get(api_catalogue::history);
    "/api/v1/catalogue/export.csv" => get(api_catalogue::export);
    "/api/v1/catalogue/export.xlsx" => get(api_catalogue::export_xlsx);
    "/api/v1/catalogue/import" => post(api_catalogue::import);
    "/api/v1/catalogue/owner" => get(api_catalogue::owner);
    "/api/v1/knowledge" => get(api_knowledge::list), post(api_knowledge::create);
    "/api/v1/knowledge/history" => get(api_knowledge::history);
    "/api/v1/knowledge/{id}" => get(api_knowledge::get_one), put(api_knowledge::update), delete(api_knowledge::delete);
    "/api/v1/suggest" => post(api_text::suggest);
    "/api/v1/classifier/train" => post(api_text::train);
    "/api/v1/classifier/feedback" => get(api_text::feedback);
    "/api/v1/gazetteer" => get(api_text::gazetteer), put(api_text::put_gazetteer);
    "/api/v1/gazetteer/{id}" => delete(api_text::delete_gazetteer);
}

/// The whole HTTP application.
pub fn router(app: App) -> Router {
    api_router()
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
