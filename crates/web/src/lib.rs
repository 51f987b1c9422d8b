#![recursion_limit = "512"]
//! The HTTP layer of Mashangban: the JSON API under `/api/v1` and its OpenAPI document.

mod api;
mod api_cases;
mod api_catalogue;
mod api_channels;
mod api_exchange;
mod api_files;
mod api_import;
mod api_keys;
mod api_knowledge;
mod api_kpi;
mod api_public;
mod api_retention;
mod api_text;
mod api_topics;
mod api_warnings;
mod bodies;
pub mod console;
mod cookies;
mod docx;
pub mod error;
mod input;
pub mod observe;
pub mod open311;
mod open_data;
pub mod openapi;
mod portal;
mod portal_cases;
pub mod reports;
mod uploads;
mod wechat;
mod xlsx;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use mashangban_app::App;
use std::future::Future;
use tokio::net::TcpListener;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest request body accepted, in bytes (a 20,000-character request is about 60 KB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The API: each route declared once, by its handler (`#[utoipa::path]` names its method and
/// path; `routes!` serves it there and adds its documentation to the same router), so that
/// a route cannot be served undocumented nor documented unserved. The ticket actions are
/// one route, documented one path per action from the domain's action table
/// ([`openapi::document`]).
/// A route that takes uploads: a body of up to [`api_files::UPLOAD_BODY_BYTES`].
fn uploads(
    r: utoipa_axum::router::UtoipaMethodRouter<App>,
) -> utoipa_axum::router::UtoipaMethodRouter<App> {
    let (schemas, paths, method) = r;
    (
        schemas,
        paths,
        method.layer(DefaultBodyLimit::max(api_files::UPLOAD_BODY_BYTES)),
    )
}

fn api() -> OpenApiRouter<App> {
    use utoipa::OpenApi;
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(api::healthz))
        .routes(routes!(api::openapi))
        .routes(routes!(api::login))
        .routes(routes!(api::logout))
        .routes(routes!(api::me))
        .routes(routes!(api_public::track))
        .routes(uploads(routes!(api_files::upload_public)))
        .routes(uploads(routes!(
            api_files::upload_to_ticket,
            api_files::ticket_files
        )))
        .routes(routes!(api_files::file))
        .routes(routes!(api_files::public_file))
        .routes(routes!(api_public::submit))
        .routes(routes!(api_public::rate))
        .routes(routes!(api_public::sms_inbound))
        .routes(routes!(api_public::send_code))
        .routes(routes!(api_public::open_session))
        .routes(routes!(api_public::my_requests))
        .routes(routes!(api::create_ticket, api::list_tickets))
        .routes(routes!(api::report_on_patrol))
        .routes(routes!(api::search_tickets))
        .routes(routes!(api::act_on_many))
        .routes(routes!(api::get_ticket))
        .routes(routes!(api::ticket_events))
        .routes(routes!(api::ticket_deadlines))
        .routes(routes!(api::reply_inspection))
        .routes(routes!(api::calendar))
        .routes(routes!(api::put_calendar_day, api::delete_calendar_day))
        .routes(routes!(api::put_calendar_year))
        .routes(routes!(api::deadline_policy, api::put_deadline_policy))
        .routes(routes!(api_kpi::kpis))
        .routes(routes!(api_kpi::kpis_xlsx))
        .routes(routes!(api_kpi::levels))
        .routes(routes!(api_kpi::daily_report))
        .routes(routes!(api_kpi::monthly_report))
        .routes(routes!(api_kpi::policy, api_kpi::put_policy))
        .routes(routes!(api_kpi::rebuild))
        .routes(routes!(api_warnings::list))
        .routes(routes!(api_warnings::list_xlsx))
        .routes(routes!(api_warnings::scan))
        .routes(routes!(api_warnings::get))
        .routes(routes!(api_warnings::handle))
        .routes(routes!(api_warnings::policy, api_warnings::put_policy))
        .routes(routes!(api_warnings::hot_issues))
        .routes(routes!(api_warnings::hot_issues_xlsx))
        .routes(routes!(api_warnings::forecast))
        .routes(routes!(api_warnings::seasonal))
        .routes(routes!(api_warnings::forecast_xlsx))
        .route(ACTION_ROUTE, post(api::act))
        .routes(routes!(api::list_units, api::create_unit))
        .routes(routes!(api::list_divisions))
        .routes(routes!(api::patch_division))
        .routes(routes!(api::list_categories, api::save_category))
        .routes(routes!(api::list_users, api::create_user))
        .routes(routes!(api::patch_user))
        .routes(routes!(api::webhooks, api::put_webhooks))
        .routes(routes!(api::citizen_texts, api::put_citizen_texts))
        .routes(routes!(api::outbox))
        .routes(routes!(api::notices))
        .routes(routes!(api::read_notice))
        .routes(routes!(api::put_unit_contact))
        .routes(routes!(api::board))
        .routes(routes!(api_keys::list, api_keys::issue))
        .routes(routes!(api_keys::revoke))
        .routes(routes!(api_channels::channels))
        .routes(routes!(api_channels::put_channel))
        .routes(routes!(api_channels::lines))
        .routes(routes!(api_channels::put_line))
        .routes(routes!(api_exchange::platforms))
        .routes(routes!(api_exchange::put_platform))
        .routes(routes!(api_exchange::inbound))
        .routes(routes!(api_import::import_tickets))
        .routes(routes!(api_catalogue::list, api_catalogue::create))
        .routes(routes!(api_catalogue::update, api_catalogue::delete))
        .routes(routes!(api_catalogue::history))
        .routes(routes!(api_catalogue::export))
        .routes(routes!(api_catalogue::export_xlsx))
        .routes(routes!(api_catalogue::import))
        .routes(routes!(api_catalogue::owner))
        .routes(routes!(api_knowledge::list, api_knowledge::create))
        .routes(routes!(api_knowledge::history))
        .routes(routes!(
            api_knowledge::get_one,
            api_knowledge::update,
            api_knowledge::delete
        ))
        .routes(routes!(api_cases::anonymise))
        .routes(routes!(api_cases::list, api_cases::create))
        .routes(routes!(api_cases::get_one, api_cases::revise))
        .routes(routes!(api_cases::submit))
        .routes(routes!(api_cases::send_back))
        .routes(routes!(api_cases::approve))
        .routes(routes!(api_cases::unpublish))
        .routes(routes!(api_cases::public_list))
        .routes(routes!(api_cases::public_one))
        .routes(routes!(api_topics::list, api_topics::propose))
        .routes(routes!(api_topics::get_one))
        .routes(routes!(api_topics::take_step))
        .routes(routes!(open_data::list))
        .routes(routes!(api_retention::policy, api_retention::put_policy))
        .routes(routes!(api_retention::log))
        .routes(routes!(api_retention::erase))
        .routes(routes!(open_data::get_one, open_data::release))
        .routes(routes!(api_text::suggest))
        .routes(routes!(api_text::extract))
        .routes(routes!(api_text::train))
        .routes(routes!(api_text::feedback))
        .routes(routes!(api_text::gazetteer, api_text::put_gazetteer))
        .routes(routes!(api_text::delete_gazetteer))
}

/// The route every ticket action is served on.
pub const ACTION_ROUTE: &str = "/api/v1/tickets/{id}/{action}";

/// The API's router and its documentation, as declared by the handlers.
pub(crate) fn api_parts() -> (Router<App>, utoipa::openapi::OpenApi) {
    api().split_for_parts()
}

/// The whole HTTP application.
pub fn router(app: App) -> Router {
    api_parts()
        .0
        .merge(console::routes())
        .merge(portal::routes())
        .merge(portal_cases::routes())
        .merge(open_data::routes())
        .merge(open311::routes())
        .merge(wechat::routes())
        .route("/metrics", axum::routing::get(observe::metrics))
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
        .layer(axum::middleware::from_fn(open311::protocol_errors))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            cookies::secure,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            observe::observe,
        ))
        .with_state(app)
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    app: App,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Each request knows its peer's address (the limits on public submissions).
    axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
