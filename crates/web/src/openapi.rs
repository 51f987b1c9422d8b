//! The OpenAPI 3.1 document served at `/api/v1/openapi.json`, derived from the code: each
//! handler declares its route, parameters and answers (`#[utoipa::path]`), and every body
//! is the schema of the Rust type the handler reads or sends. The ticket actions, one route
//! in the router, are documented one path each from the domain's action table with the
//! schema of the type each action's body is read into. What every operation can answer
//! besides (the input layer's refusals) is added from one rule, [`complete`].

use mashangban_domain::Action;
use serde_json::{Map, Value, json};

/// The document's frame: its title and the types no handler names but every answer may
/// use; each route adds its own operation ([`crate::api_parts`]).
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Mashangban (马上办) 12345 hotline API",
        description = "Every citizen request, from any channel, received once, dispatched to its owner, handled, called back and closed. Errors are `{\"error\": {\"code\", \"message\", \"field\"?}}`."
    ),
    components(schemas(
        crate::bodies::ErrorBody,
        crate::bodies::Acted,
        mashangban_domain::Resolution,
        mashangban_domain::Satisfaction,
        mashangban_domain::SupervisionLevel
    )),
    modifiers(&BearerScheme)
)]
pub(crate) struct ApiDoc;

/// The bearer token scheme the secured operations name.
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

fn error_responses(codes: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    for c in codes {
        let description = match *c {
            "400" => "Malformed JSON or query",
            "401" => "Missing or invalid bearer token",
            "403" => "The role may not do this",
            "404" => "Not found, or not visible to this user",
            "409" => {
                "`illegal_transition`: the action does not apply to the ticket's state; nothing changed"
            }
            "413" => "Body too large",
            "414" => "Request target too long",
            "415" => "The body is not `application/json`",
            "429" => "Too many wrong passwords: locked for a while",
            _ => "Invalid input; `error.field` names the field",
        };
        m.insert(c.to_string(), json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}));
    }
    m
}

/// One path per ticket action, from the domain's action table: who may take it, from which
/// states, and its body's schema from the type the domain reads it into.
fn action_paths(paths: &mut Map<String, Value>) {
    for a in Action::ALL {
        let mut roles: Vec<&str> = Vec::new();
        let mut from: Vec<&str> = Vec::new();
        let mut allowed = Vec::new();
        for rule in a.rules() {
            let names: Vec<_> = rule.roles.iter().map(|r| r.as_str()).collect();
            let states: Vec<_> = rule.from.iter().map(|s| s.as_str()).collect();
            let unit = if rule.roles.iter().any(|r| r.bound_to_unit()) {
                format!(" (a user of {})", rule.unit_scope.whose())
            } else {
                String::new()
            };
            allowed.push(format!(
                "{} in {}{unit}",
                names.join(", "),
                states.join(", ")
            ));
            roles.extend(
                names
                    .iter()
                    .filter(|r| !roles.contains(r))
                    .collect::<Vec<_>>(),
            );
            from.extend(
                states
                    .iter()
                    .filter(|s| !from.contains(s))
                    .collect::<Vec<_>>(),
            );
        }
        let body = serde_json::to_value(mashangban_domain::lifecycle::body_schema(a))
            .unwrap_or_else(|_| json!({"type": "object"}));
        let mut responses = error_responses(&["409"]);
        responses.insert(
            "200".into(),
            json!({"description": "Done: the ticket after the action and the events it recorded",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Acted"}}}}),
        );
        let op = json!({
            "tags": ["actions"],
            "summary": format!("{} ({})", a.as_str(), a.label_zh()),
            "description": format!("Allowed for: {}.", allowed.join("; ")),
            "x-roles": roles,
            "x-from-states": from,
            "security": [{"bearer": []}],
            "parameters": [{"name": "id", "in": "path", "required": true, "description": "The ticket's id", "schema": {"type": "integer", "format": "int64"}}],
            "requestBody": {"required": false, "content": {"application/json": {"schema": body}}},
            "responses": responses,
        });
        paths.insert(
            format!("/api/v1/tickets/{{id}}/{}", a.as_str()),
            json!({ "post": op }),
        );
    }
}

/// What every operation can answer besides its own outcomes, added where an operation does
/// not say it already: the input layer's refusals (400 a malformed body or query, 413 a
/// body too large, 414 a request target too long, 415 a body that is not JSON, 422 input
/// that breaks a rule, control characters included), 401 and 403 for operations that need
/// a token, 404 for operations on a resource. A 204 carries no body.
fn complete(paths: &mut Map<String, Value>) {
    for (path, item) in paths.iter_mut() {
        let Some(ops) = item.as_object_mut() else {
            continue;
        };
        for op in ops.values_mut() {
            let secured = op.get("security").is_some();
            let has_json_body = op
                .pointer("/requestBody/content/application~1json")
                .is_some();
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            if let Some(no_content) = responses.get_mut("204").and_then(Value::as_object_mut) {
                no_content.remove("content");
            }
            let mut codes = vec!["400", "413", "414", "422"];
            if secured {
                codes.extend(["401", "403"]);
            }
            if has_json_body {
                codes.push("415");
            }
            if path.contains('{') {
                codes.push("404");
            }
            for (code, response) in error_responses(&codes) {
                responses.entry(code).or_insert(response);
            }
        }
    }
}

/// The document.
pub fn document() -> Value {
    let mut doc = serde_json::to_value(crate::api_parts().1).unwrap_or_default();
    doc["info"]["version"] = json!(env!("CARGO_PKG_VERSION"));
    if let Some(paths) = doc["paths"].as_object_mut() {
        action_paths(paths);
        complete(paths);
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_documented_path() {
        let doc = document();
        for a in Action::ALL {
            let p = format!("/api/v1/tickets/{{id}}/{}", a.as_str());
            assert!(
                doc["paths"][&p]["post"]["responses"]["409"].is_object(),
                "{p}"
            );
        }
        assert_eq!(doc["openapi"], "3.1.0");
        for p in [
            "/api/v1/webhooks",
            "/api/v1/outbox",
            "/api/v1/notices",
            "/api/v1/units/{id}/contact",
            "/api/v1/board",
            "/api/v1/catalogue",
            "/api/v1/catalogue/{id}",
            "/api/v1/catalogue/history",
            "/api/v1/catalogue/export.csv",
            "/api/v1/catalogue/export.xlsx",
            "/api/v1/catalogue/import",
            "/api/v1/catalogue/owner",
            "/api/v1/suggest",
            "/api/v1/classifier/train",
            "/api/v1/classifier/feedback",
            "/api/v1/tickets/search",
            "/api/v1/gazetteer",
            "/api/v1/gazetteer/{id}",
            "/api/v1/knowledge",
            "/api/v1/knowledge/{id}",
            "/api/v1/knowledge/history",
            "/api/v1/kpis",
            "/api/v1/kpis.xlsx",
            "/api/v1/policy/kpis",
            "/api/v1/aggregates/rebuild",
            "/api/v1/reports/daily",
            "/api/v1/reports/monthly",
            "/api/v1/warnings",
            "/api/v1/warnings.xlsx",
            "/api/v1/warnings/{id}",
            "/api/v1/warnings/{id}/handle",
            "/api/v1/warnings/scan",
            "/api/v1/policy/warnings",
            "/api/v1/hot-issues",
            "/api/v1/hot-issues.xlsx",
            "/api/v1/forecast",
            "/api/v1/forecast.xlsx",
        ] {
            assert!(doc["paths"][p].is_object(), "{p}");
        }
    }
}
