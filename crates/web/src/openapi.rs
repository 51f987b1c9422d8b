//! The OpenAPI 3 document served at `/api/v1/openapi.json`, built from the same tables the
//! server uses (the actions and their rules), so it cannot drift from the code.

use mashangban_domain::{Action, Channel, Kind, Resolution, Role, Satisfaction, TicketState};
use serde_json::{Map, Value, json};

fn names<T: Copy>(all: &[T], f: impl Fn(T) -> &'static str) -> Value {
    json!(all.iter().map(|v| f(*v)).collect::<Vec<_>>())
}

fn text(max: usize) -> Value {
    json!({"type": "string", "maxLength": max})
}

fn note_body() -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": {"note": text(5000)}})
}

/// The JSON schema of an action's request body.
fn action_body(a: Action) -> Value {
    let dispatch = json!({
        "type": "object", "additionalProperties": false, "required": ["lead_unit_id"],
        "properties": {
            "lead_unit_id": {"type": "integer", "format": "int64"},
            "co_unit_ids": {"type": "array", "items": {"type": "integer", "format": "int64"}, "maxItems": 20},
            "tier": {"type": "integer", "enum": [1, 3, 7, 11], "description": "Handling tier in days; defaults to the category's tier"},
            "note": text(5000)
        }
    });
    let reason = json!({"type": "object", "additionalProperties": false, "required": ["reason"], "properties": {"reason": text(5000)}});
    match a {
        Action::ResolveDirectly => {
            json!({"type": "object", "additionalProperties": false, "required": ["answer"], "properties": {"answer": text(5000)}})
        }
        Action::Dispatch | Action::DecideConsultation => dispatch,
        Action::RequestReturn | Action::RejectReply => reason,
        Action::RequestExtension => {
            json!({"type": "object", "additionalProperties": false, "required": ["days", "reason"], "properties": {"days": {"type": "integer", "minimum": 1, "maximum": 30}, "reason": text(5000)}})
        }
        Action::AddNote => {
            json!({"type": "object", "additionalProperties": false, "required": ["note"], "properties": {"note": text(5000)}})
        }
        Action::Reply => {
            json!({"type": "object", "additionalProperties": false, "required": ["content"], "properties": {"content": text(5000)}})
        }
        Action::RecordCallback => json!({"oneOf": [
            {"type": "object", "additionalProperties": false, "required": ["contacted", "resolution", "satisfaction"], "properties": {
                "contacted": {"type": "boolean"},
                "resolution": {"type": "string", "enum": names(Resolution::ALL, Resolution::as_str)},
                "satisfaction": {"type": "string", "enum": names(Satisfaction::ALL, Satisfaction::as_str)},
                "note": text(5000)}},
            {"type": "object", "additionalProperties": false, "required": ["unreachable"], "properties": {"unreachable": {"type": "boolean", "enum": [true]}, "note": text(5000)}}
        ]}),
        Action::Reopen => {
            json!({"type": "object", "additionalProperties": false, "properties": {"reason": text(5000), "note": text(5000)}})
        }
        Action::Merge => {
            json!({"type": "object", "additionalProperties": false, "required": ["parent_id"], "properties": {"parent_id": {"type": "integer", "format": "int64"}}})
        }
        Action::NotAccept => {
            json!({"type": "object", "additionalProperties": false, "required": ["reason"], "properties": {"reason": text(5000), "redirect_to": text(100)}})
        }
        Action::RevealContact => json!({"type": "object", "additionalProperties": false}),
        Action::Supervise => {
            json!({"type": "object", "additionalProperties": false, "required": ["note"], "properties": {
                "level": {"type": "string", "enum": ["l1", "l2", "l3"], "description": "l1 催办, l2 书面督办, l3 挂牌督办; default: one level up. Supervision can only be raised."},
                "note": text(5000)}})
        }
        Action::AnswerSupervision => {
            json!({"type": "object", "additionalProperties": false, "required": ["answer"], "properties": {"answer": text(5000)}})
        }
        _ => note_body(),
    }
}

fn error_responses(codes: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    for c in codes {
        let description = match *c {
            "400" => "Malformed JSON",
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

fn op(summary: &str, ok_code: &str, ok_schema: Value, errors: &[&str]) -> Value {
    let mut responses = error_responses(errors);
    responses.insert(
        ok_code.into(),
        json!({"description": "Success", "content": {"application/json": {"schema": ok_schema}}}),
    );
    json!({"summary": summary, "security": [{"bearer": []}], "responses": responses})
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn list_of(name: &str) -> Value {
    json!({"type": "object", "properties": {"items": {"type": "array", "items": reference(name)}}})
}

fn id_param() -> Value {
    json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64"}})
}

/// An Excel workbook's media type.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// A Word document's media type.
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// What every operation can answer besides its own outcomes, added where an operation does
/// not say it already: the input layer's refusals (400 a malformed body or query, 413 a
/// body too large, 414 a request target too long, 415 a body that is not JSON, 422 input
/// that breaks a rule, control characters included), 401 and 403 for operations that need
/// a token, 404 for operations on a resource. A 204 carries no body; downloads are
/// described by their own media types.
fn complete(paths: &mut Map<String, Value>) {
    let binary = json!({"type": "string", "format": "binary"});
    for (path, item) in paths.iter_mut() {
        let Some(ops) = item.as_object_mut() else {
            continue;
        };
        for op in ops.values_mut() {
            let secured = op.get("security").is_some();
            let has_body = op.get("requestBody").is_some();
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            if let Some(no_content) = responses.get_mut("204").and_then(Value::as_object_mut) {
                no_content.remove("content");
            }
            if let Some(ok) = responses.get_mut("200").and_then(Value::as_object_mut) {
                if path.ends_with(".xlsx") {
                    ok.insert(
                        "content".into(),
                        json!({ XLSX: {"schema": binary.clone()} }),
                    );
                }
                if path.starts_with("/api/v1/reports/") {
                    let json_schema = ok["content"]["application/json"].clone();
                    ok.insert(
                        "content".into(),
                        json!({
                            "application/json": json_schema,
                            "text/html": {"schema": {"type": "string"}},
                            "application/msword": {"schema": {"type": "string"}},
                            DOCX: {"schema": binary.clone()},
                            XLSX: {"schema": binary.clone()},
                        }),
                    );
                }
            }
            let mut codes = vec!["400", "413", "414", "422"];
            if secured {
                codes.extend(["401", "403"]);
            }
            if has_body {
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

/// The schemas derived from the API's own types (with the types they hold).
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    mashangban_domain::Ticket,
    mashangban_domain::Event,
    mashangban_domain::User,
    mashangban_domain::Unit,
    mashangban_domain::Division,
    mashangban_domain::Category,
    mashangban_domain::Citizen
)))]
struct DerivedSchemas;

fn derived_schemas() -> Map<String, Value> {
    use utoipa::OpenApi;
    let doc = serde_json::to_value(DerivedSchemas::openapi()).unwrap_or_default();
    doc["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// The document.
pub fn document() -> Value {
    let mut paths = Map::new();
    paths.insert("/healthz".into(), json!({"get": {"summary": "Liveness and database reachability", "responses": {"200": {"description": "Healthy"}, "503": {"description": "Database unreachable"}}}}));
    paths.insert("/api/v1/openapi.json".into(), json!({"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3 document"}}}}));
    paths.insert("/api/v1/auth/login".into(), json!({"post": {
        "summary": "Log in with a username and password; returns a bearer token that expires",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["username", "password"], "additionalProperties": false, "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}},
        "responses": {"200": {"description": "Logged in", "content": {"application/json": {"schema": {"type": "object", "properties": {"token": {"type": "string"}, "expires_in_hours": {"type": "integer"}, "user": reference("User")}}}}}, "401": {"description": "Wrong username or password"}, "422": {"description": "Invalid body"},
            "429": {"description": "Too many wrong passwords: the account's password login is locked for a while", "content": {"application/json": {"schema": reference("Error")}}}}
    }}));
    paths.insert(
        "/api/v1/me".into(),
        json!({"get": op("The authenticated user", "200", reference("User"), &["401"])}),
    );
    let mut create = op(
        "Receive a request (受理) from any channel",
        "201",
        reference("Ticket"),
        &["400", "401", "403", "413", "422"],
    );
    create["parameters"] = json!([{"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 200},
        "description": "A retried create with the same key (and the same body) returns the first ticket with 200 instead of creating another"}]);
    create["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": reference("CreateTicket")}}});
    create["responses"]["200"] = json!({"description": "Idempotent replay: the ticket created by the first request with this key", "content": {"application/json": {"schema": reference("Ticket")}}});
    let mut list = op(
        "List tickets, newest first (a unit handler sees only their unit's)",
        "200",
        reference("TicketPage"),
        &["401", "422"],
    );
    list["parameters"] = json!([
        {"name": "state", "in": "query", "schema": {"type": "string"}, "description": "One state or several separated by commas"},
        {"name": "unit", "in": "query", "schema": {"type": "integer"}, "description": "Lead or co-unit id"},
        {"name": "channel", "in": "query", "schema": {"type": "string", "enum": names(Channel::ALL, Channel::as_str)}},
        {"name": "category", "in": "query", "schema": {"type": "string"}, "description": "Category code, or an ancestor's code"},
        {"name": "division", "in": "query", "schema": {"type": "string"}, "description": "Division code, or an ancestor's code"},
        {"name": "created_from", "in": "query", "schema": {"type": "string"}, "description": "RFC 3339 time or YYYY-MM-DD (Asia/Shanghai), inclusive"},
        {"name": "created_to", "in": "query", "schema": {"type": "string"}, "description": "RFC 3339 time (exclusive) or YYYY-MM-DD (inclusive)"},
        {"name": "phone", "in": "query", "schema": {"type": "string"}, "description": "Citizen's phone number (caller history)"},
        {"name": "extension_pending", "in": "query", "schema": {"type": "boolean"}, "description": "With (true) or without (false) an extension request awaiting a decision"},
        {"name": "alert", "in": "query", "schema": {"type": "string", "enum": ["any", "warning", "overdue"]}, "description": "Open tickets at risk (any/warning) or overdue"},
        {"name": "supervision", "in": "query", "schema": {"type": "string", "enum": ["any", "l1", "l2", "l3"]}, "description": "Open tickets under supervision at least this level"},
        {"name": "awaiting_answer", "in": "query", "schema": {"type": "boolean"}, "description": "Supervised tickets whose unit has (false) or has not (true) answered"},
        {"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "`next_cursor` of the previous page"},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}}
    ]);
    paths.insert(
        "/api/v1/tickets".into(),
        json!({"post": create, "get": list}),
    );
    let mut get = op(
        "One ticket (citizen identity masked for units and analysts)",
        "200",
        reference("Ticket"),
        &["401", "404"],
    );
    get["parameters"] = json!([id_param()]);
    paths.insert("/api/v1/tickets/{id}".into(), json!({"get": get}));
    let mut search = op(
        "Full-text search over every ticket the caller may see (title, content, address, answer, reply, or a ticket number), best first; words in Chinese are matched whatever the segmentation of the ticket. Every word is required if some ticket has them all, else tickets with some are listed (all_words false). Units find only the tickets they lead or help with",
        "200",
        json!({"type": "object", "required": ["items", "total", "all_words", "words"], "properties": {
            "items": {"type": "array", "items": {"allOf": [reference("Ticket"), {"type": "object", "properties": {"score": {"type": "number", "description": "BM25 relevance"}}}]}},
            "total": {"type": "integer"}, "all_words": {"type": "boolean"},
            "words": {"type": "array", "items": {"type": "string"}, "description": "the words looked for"}}}),
        &["400", "401", "422"],
    );
    search["parameters"] = json!([
        {"name": "q", "in": "query", "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 200}},
        {"name": "state", "in": "query", "schema": {"type": "string"}, "description": "states, comma-separated"},
        {"name": "unit", "in": "query", "schema": {"type": "integer"}, "description": "lead or co-unit (ignored for unit handlers: their own)"},
        {"name": "channel", "in": "query", "schema": {"type": "string"}},
        {"name": "category", "in": "query", "schema": {"type": "string"}, "description": "a category at any level"},
        {"name": "division", "in": "query", "schema": {"type": "string"}, "description": "a division at any level"},
        {"name": "created_from", "in": "query", "schema": {"type": "string"}, "description": "YYYY-MM-DD (Asia/Shanghai) or RFC 3339"},
        {"name": "created_to", "in": "query", "schema": {"type": "string"}, "description": "YYYY-MM-DD inclusive, or RFC 3339"},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 10000, "default": 0}}
    ]);
    paths.insert("/api/v1/tickets/search".into(), json!({"get": search}));
    let mut events = op(
        "The ticket's events, oldest first: the audit trail",
        "200",
        list_of("Event"),
        &["401", "404"],
    );
    events["parameters"] = json!([id_param()]);
    paths.insert("/api/v1/tickets/{id}/events".into(), json!({"get": events}));
    for a in Action::ALL {
        let rule = a.rule();
        let roles: Vec<_> = rule.roles.iter().map(|r| r.as_str()).collect();
        let from: Vec<_> = rule.from.iter().map(|s| s.as_str()).collect();
        let mut o = op(
            &format!("{} ({})", a.as_str(), a.label_zh()),
            "200",
            json!({"type": "object", "properties": {"ticket": reference("Ticket"), "events": {"type": "array", "items": reference("Event")}}}),
            &["400", "401", "403", "404", "409", "422"],
        );
        o["description"] = json!(format!(
            "Allowed for roles: {}. Applies to states: {}.{}",
            roles.join(", "),
            from.join(", "),
            if roles.contains(&"unit_handler") {
                match rule.unit_scope {
                    mashangban_domain::UnitScope::Lead => {
                        " A unit handler must belong to the lead unit."
                    }
                    mashangban_domain::UnitScope::LeadOrCo => {
                        " A unit handler must belong to the lead unit or a co-unit."
                    }
                }
            } else {
                ""
            }
        ));
        o["x-roles"] = json!(roles);
        o["x-from-states"] = json!(from);
        o["parameters"] = json!([id_param()]);
        o["requestBody"] =
            json!({"required": false, "content": {"application/json": {"schema": action_body(a)}}});
        paths.insert(
            format!("/api/v1/tickets/{{id}}/{}", a.as_str()),
            json!({"post": o}),
        );
    }
    paths.insert(
        "/api/v1/units".into(),
        json!({"get": op("Organisation units", "200", list_of("Unit"), &["401"])}),
    );
    let mut divisions = op(
        "Administrative divisions",
        "200",
        list_of("Division"),
        &["401", "422"],
    );
    divisions["parameters"] = json!([{"name": "parent", "in": "query", "schema": {"type": "string"}}, {"name": "level", "in": "query", "schema": {"type": "string", "enum": ["city", "district", "street", "community"]}}]);
    paths.insert("/api/v1/divisions".into(), json!({"get": divisions}));
    paths.insert(
        "/api/v1/categories".into(),
        json!({"get": op("The category taxonomy", "200", list_of("Category"), &["401"])}),
    );
    let mut create_user = op(
        "Create a user (admin)",
        "201",
        reference("User"),
        &["400", "401", "403", "409", "422"],
    );
    create_user["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["username", "role"], "properties": {
        "username": {"type": "string"}, "display_name": {"type": "string"}, "role": {"type": "string", "enum": names(Role::ALL, Role::as_str)},
        "unit_id": {"type": "integer", "description": "Required for unit_handler, refused otherwise"}, "password": {"type": "string", "minLength": 8}}}}}});
    paths.insert("/api/v1/users".into(), json!({"get": op("Users (admin)", "200", list_of("User"), &["401", "403"]), "post": create_user}));

    paths.insert(
        "/api/v1/auth/logout".into(),
        json!({"post": {"summary": "Revoke the bearer token of this request (log out)", "security": [{"bearer": []}],
            "responses": {"204": {"description": "Logged out"}, "401": {"description": "No valid token"}}}}),
    );
    admin_paths(&mut paths);
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "Mashangban (马上办) 12345 hotline API", "version": env!("CARGO_PKG_VERSION"),
            "description": "Every citizen request, from any channel, received once, dispatched to its owner, handled, called back and closed. Errors are `{\"error\": {\"code\", \"message\", \"field\"?}}`."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"}}}}},
                "CreateTicket": {"type": "object", "additionalProperties": false, "required": ["channel", "kind", "content"], "properties": {
                    "channel": {"type": "string", "enum": names(Channel::ALL, Channel::as_str)},
                    "channel_detail": {"type": "string", "maxLength": 100, "description": "e.g. the merged hotline's number"},
                    "kind": {"type": "string", "enum": names(Kind::ALL, Kind::as_str)},
                    "title": {"type": "string", "maxLength": 200},
                    "content": {"type": "string", "maxLength": 20000},
                    "citizen": reference("Citizen"),
                    "confidential": {"type": "boolean", "default": false},
                    "address": {"type": "string", "maxLength": 500},
                    "category_code": {"type": "string"},
                    "division_code": {"type": "string"},
                    "suggested_category_code": {"type": "string", "description": "the category the system proposed while the request was taken, if one was shown (kept beside the operator's choice; see /api/v1/classifier/feedback)"},
                    "merge_into": {"type": "integer", "description": "an open ticket about the same matter (a duplicate or a repeat caller, see suggest): the request is received and merged into it at once, and not dispatched on its own; refused whole (nothing written) if that ticket does not exist or is closed"}}},
                "TicketPage": {"type": "object", "properties": {"items": {"type": "array", "items": reference("Ticket")}, "next_cursor": {"type": ["string", "null"]}}}
            }
        }
    });
    if let Some(paths) = doc["paths"].as_object_mut() {
        complete(paths);
    }
    // The schemas of the types the API sends, derived from the types themselves.
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        schemas.extend(derived_schemas());
    }
    doc
}

/// The administrators' write endpoints (they replace the read-only entries of the same paths).
fn admin_paths(paths: &mut Map<String, Value>) {
    let body = |schema: Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    let mut create_unit = op(
        "Create a unit (admin)",
        "201",
        reference("Unit"),
        &["400", "401", "403", "409", "422"],
    );
    create_unit["requestBody"] = body(
        json!({"type": "object", "additionalProperties": false, "required": ["code", "name", "kind"], "properties": {
        "code": {"type": "string", "maxLength": 32}, "name": {"type": "string", "maxLength": 100},
        "kind": {"type": "string", "enum": names(mashangban_domain::UnitKind::ALL, mashangban_domain::UnitKind::as_str)},
        "parent_id": {"type": "integer"}, "division_code": {"type": "string"}}}),
    );
    paths.insert("/api/v1/units".into(), json!({"get": op("Organisation units", "200", list_of("Unit"), &["401"]), "post": create_unit}));
    let mut save_category = op(
        "Create or change a category (admin); codes nest two digits a level",
        "200",
        reference("Category"),
        &["400", "401", "403", "422"],
    );
    save_category["requestBody"] = body(
        json!({"type": "object", "additionalProperties": false, "required": ["code", "name"], "properties": {
        "code": {"type": "string", "pattern": "^([0-9]{2}){1,3}$"}, "name": {"type": "string", "maxLength": 50},
        "default_tier": {"type": "integer", "enum": [1, 3, 7, 11]}, "active": {"type": "boolean"}}}),
    );
    paths.insert("/api/v1/categories".into(), json!({"get": op("The category taxonomy", "200", list_of("Category"), &["401"]), "post": save_category}));
    let mut patch_division = op(
        "Set a division's resident population (admin), used by 万人诉求比",
        "200",
        reference("Division"),
        &["400", "401", "403", "404", "422"],
    );
    patch_division["parameters"] =
        json!([{"name": "code", "in": "path", "required": true, "schema": {"type": "string"}}]);
    patch_division["requestBody"] = body(
        json!({"type": "object", "additionalProperties": false, "properties": {"population": {"type": ["integer", "null"], "minimum": 0}}}),
    );
    paths.insert(
        "/api/v1/divisions/{code}".into(),
        json!({"patch": patch_division}),
    );
    let mut patch_user = op(
        "Disable or enable a user, or reset the password (admin)",
        "200",
        reference("User"),
        &["400", "401", "403", "404", "422"],
    );
    patch_user["parameters"] =
        json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]);
    patch_user["requestBody"] = body(
        json!({"type": "object", "additionalProperties": false, "properties": {"active": {"type": "boolean"}, "password": {"type": "string", "minLength": 8},
            "role": {"type": "string", "enum": names(Role::ALL, Role::as_str)}, "unit_id": {"type": "integer", "description": "With role: required for unit_handler, refused otherwise"}}}),
    );
    paths.insert("/api/v1/users/{id}".into(), json!({"patch": patch_user}));
    deadline_paths(paths);
}

/// The calendar, the deadline policy and a ticket's clocks.
fn deadline_paths(paths: &mut Map<String, Value>) {
    let body = |schema: Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    let object = json!({"type": "object"});
    let mut clocks = op(
        "A ticket's clocks (sign, contact, handling, callback): start, warning and due points, state, pauses, extensions, and the days that counted",
        "200",
        json!({"type": "object", "properties": {"ticket_id": {"type": "integer"}, "now": {"type": "string", "format": "date-time"},
            "tier": {"type": ["integer", "null"]}, "clocks": {"type": "array", "items": object}}}),
        &["401", "404"],
    );
    clocks["parameters"] = json!([id_param()]);
    paths.insert(
        "/api/v1/tickets/{id}/deadlines".into(),
        json!({"get": clocks}),
    );
    let mut cal = op(
        "The official calendar of a year: its exceptions (holidays, make-up workdays) and whether its schedule is known",
        "200",
        json!({"type": "object", "properties": {"year": {"type": "integer"}, "known": {"type": "boolean"},
            "known_years": {"type": "array", "items": {"type": "integer"}}, "days": {"type": "array", "items": {"type": "object",
            "properties": {"date": {"type": "string", "format": "date"}, "kind": {"type": "string", "enum": ["holiday", "workday"]}, "name": {"type": "string"}}}}}}),
        &["401", "422"],
    );
    cal["parameters"] =
        json!([{"name": "year", "in": "query", "required": false, "schema": {"type": "integer"}}]);
    paths.insert("/api/v1/calendar".into(), json!({"get": cal}));
    let date_param = json!([{"name": "date", "in": "path", "required": true, "schema": {"type": "string", "format": "date"}}]);
    let mut put_day = op(
        "Make a date a holiday or a make-up workday (admin); its year becomes known",
        "200",
        object.clone(),
        &["400", "401", "403", "422"],
    );
    put_day["parameters"] = date_param.clone();
    put_day["requestBody"] = body(
        json!({"type": "object", "additionalProperties": false, "required": ["kind"], "properties": {
        "kind": {"type": "string", "enum": ["holiday", "workday"]}, "name": {"type": "string", "maxLength": 20}}}),
    );
    let mut delete_day = op(
        "Remove an exception: the date follows the weekend rule again (admin)",
        "204",
        object.clone(),
        &["401", "403", "404", "422"],
    );
    delete_day["parameters"] = date_param;
    paths.insert(
        "/api/v1/calendar/days/{date}".into(),
        json!({"put": put_day, "delete": delete_day}),
    );
    let mut put_year = op(
        "Mark a year's schedule as published (known) or not (admin)",
        "200",
        object.clone(),
        &["400", "401", "403", "422"],
    );
    put_year["parameters"] =
        json!([{"name": "year", "in": "path", "required": true, "schema": {"type": "integer"}}]);
    put_year["requestBody"] = body(
        json!({"type": "object", "additionalProperties": false, "required": ["known"], "properties": {"known": {"type": "boolean"}}}),
    );
    paths.insert(
        "/api/v1/calendar/years/{year}".into(),
        json!({"put": put_year}),
    );
    let policy = json!({"type": "object", "additionalProperties": false, "required": ["working_hours", "sign_within_hours", "contact_within_days",
        "handling_days", "callback_within_days", "warn_at_percent", "pause_in", "max_extensions", "extension_cutoff", "alert_outside_working_hours"],
        "properties": {
        "working_hours": {"type": "string", "description": "windows of local time, e.g. 08:30-12:00,14:30-18:00; empty: the whole day"},
        "sign_within_hours": {"type": "integer", "minimum": 1}, "contact_within_days": {"type": "integer", "minimum": 1},
        "handling_days": {"type": "string", "enum": ["working", "calendar"]}, "callback_within_days": {"type": "integer", "minimum": 1},
        "warn_at_percent": {"type": "integer", "minimum": 1, "maximum": 100},
        "pause_in": {"type": "array", "items": {"type": "string", "enum": names(TicketState::ALL, TicketState::as_str)}},
        "max_extensions": {"type": "integer", "minimum": 0}, "extension_cutoff": {"type": ["string", "null"], "description": "local time, e.g. 17:00:00; null: no daily cut-off"},
        "alert_outside_working_hours": {"type": "boolean"},
        "supervision": {"type": "object", "additionalProperties": false, "description": "When supervision is raised automatically (null or 0 switches a rule off)", "properties": {
            "l1_on_breach_of": {"type": "array", "items": {"type": "string", "enum": ["sign", "contact", "handling", "callback"]}},
            "l2_after_working_days": {"type": ["integer", "null"]}, "l3_after_working_days": {"type": ["integer", "null"]},
            "l2_on_bad_callbacks": {"type": ["integer", "null"]}, "l3_on_bad_callbacks": {"type": ["integer", "null"]}}}}});
    let get_policy = op(
        "The deadline policy in force",
        "200",
        policy.clone(),
        &["401"],
    );
    let mut put_policy = op(
        "Replace the deadline policy (admin)",
        "200",
        policy.clone(),
        &["400", "401", "403", "422"],
    );
    put_policy["requestBody"] = body(policy);
    paths.insert(
        "/api/v1/policy/deadlines".into(),
        json!({"get": get_policy, "put": put_policy}),
    );
    notifications(paths, &object);
}

/// Notifications, webhooks, unit liaisons and the supervisor board.
fn notifications(paths: &mut Map<String, Value>, object: &Value) {
    let body = |schema: Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    let hook = json!({"type": "object", "additionalProperties": false, "required": ["name", "url"], "properties": {
        "name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"},
        "url": {"type": "string", "description": "http:// or https://"},
        "secret": {"type": "string", "minLength": 16, "description": "HMAC-SHA256 key; never shown back; empty keeps the current one"},
        "events": {"type": "array", "items": {"type": "string"}, "description": "event types to send; empty: all"},
        "active": {"type": "boolean", "default": true}}});
    let hook_view = json!({"type": "array", "items": {"type": "object", "properties": {
        "name": {"type": "string"}, "url": {"type": "string"}, "events": {"type": "array", "items": {"type": "string"}},
        "active": {"type": "boolean"}, "secret_set": {"type": "boolean"}}}});
    let get_hooks = op(
        "Webhook subscriptions (admin). Each delivery is a POST with X-Mashangban-Delivery (its id, the same on a retry), X-Mashangban-Timestamp and X-Mashangban-Signature: sha256=hex(HMAC-SHA256(secret, timestamp + \".\" + body))",
        "200",
        hook_view.clone(),
        &["401", "403"],
    );
    let mut put_hooks = op(
        "Replace the webhook subscriptions (admin)",
        "200",
        hook_view,
        &["400", "401", "403", "422"],
    );
    put_hooks["requestBody"] = body(json!({"type": "array", "items": hook}));
    paths.insert(
        "/api/v1/webhooks".into(),
        json!({"get": get_hooks, "put": put_hooks}),
    );
    let notice = json!({"type": "object", "properties": {
        "id": {"type": "integer"}, "ticket_id": {"type": "integer"}, "event_seq": {"type": "integer"},
        "channel": {"type": "string", "enum": ["sms", "webhook", "console"]}, "recipient": {"type": "string"},
        "payload": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
        "not_before": {"type": "string", "format": "date-time"}, "attempts": {"type": "integer"},
        "sent_at": {"type": ["string", "null"], "format": "date-time"}, "failed_at": {"type": ["string", "null"], "format": "date-time"},
        "last_error": {"type": ["string", "null"]}}});
    let mut outbox = op(
        "The outbox: notices and their deliveries, newest first (admin)",
        "200",
        json!({"type": "array", "items": notice}),
        &["401", "403", "422"],
    );
    outbox["parameters"] = json!([
        {"name": "channel", "in": "query", "schema": {"type": "string", "enum": ["sms", "webhook", "console"]}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}
    ]);
    paths.insert("/api/v1/outbox".into(), json!({"get": outbox}));
    let mut mine = op(
        "My console notices, newest first, and how many I had not seen",
        "200",
        json!({"type": "object", "properties": {"unseen": {"type": "integer"}, "items": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}, "ticket_id": {"type": "integer"},
            "event": {"type": ["string", "null"], "description": "the event told of; null for a notice about no single event (an early warning)"}, "text": {"type": "string"}}}}}}),
        &["401"],
    );
    mine["parameters"] = json!([{"name": "seen", "in": "query", "schema": {"type": "boolean"}, "description": "true: mark them seen"}]);
    paths.insert("/api/v1/notices".into(), json!({"get": mine}));
    let mut contact = op(
        "Set a unit's SMS liaison (admin); an empty phone removes it",
        "200",
        object.clone(),
        &["400", "401", "403", "404", "422"],
    );
    contact["parameters"] =
        json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]);
    contact["requestBody"] = body(
        json!({"type": "object", "additionalProperties": false, "required": ["phone"], "properties": {
        "liaison": {"type": "string", "maxLength": 40}, "phone": {"type": "string"}}}),
    );
    paths.insert("/api/v1/units/{id}/contact".into(), json!({"put": contact}));
    let board = op(
        "The supervisor board: open tickets at risk, overdue and under each supervision level, by lead unit (supervisor, analyst, dispatcher, admin)",
        "200",
        json!({"type": "array", "items": {"type": "object", "properties": {
            "unit_id": {"type": ["integer", "null"]}, "unit_name": {"type": "string"}, "at_risk": {"type": "integer"},
            "overdue": {"type": "integer"}, "l1": {"type": "integer"}, "l2": {"type": "integer"}, "l3": {"type": "integer"},
            "awaiting_answer": {"type": "integer"}}}}),
        &["401", "403"],
    );
    paths.insert("/api/v1/board".into(), json!({"get": board}));
    catalogue(paths);
    knowledge(paths);
    evaluation(paths);
    analysis(paths);
}

/// The knowledge base (知识库).
fn knowledge(paths: &mut Map<String, Value>) {
    let body = |schema: Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    let input = json!({"type": "object", "additionalProperties": false, "required": ["question", "answer", "source"], "properties": {
        "version": {"type": "integer", "description": "the version read (edits)"},
        "question": {"type": "string", "maxLength": 300}, "answer": {"type": "string", "maxLength": 10000},
        "category_code": {"type": ["string", "null"]}, "source": {"type": "string", "maxLength": 300, "description": "where the answer comes from"},
        "keywords": {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 50}, "description": "other ways of saying it, searched with the question"},
        "owner_unit_id": {"type": ["integer", "null"], "description": "the unit that keeps it right; its handlers may edit it"},
        "valid_from": {"type": ["string", "null"], "format": "date"}, "valid_to": {"type": ["string", "null"], "format": "date"},
        "demo": {"type": "boolean", "description": "written for a demonstration, not from any authority"}}});
    let article = json!({"type": "object", "properties": {
        "id": {"type": "integer"}, "version": {"type": "integer"}, "question": {"type": "string"}, "answer": {"type": "string"},
        "category_code": {"type": ["string", "null"]}, "source": {"type": "string"}, "keywords": {"type": "array", "items": {"type": "string"}},
        "owner_unit_id": {"type": ["integer", "null"]}, "valid_from": {"type": ["string", "null"], "format": "date"},
        "valid_to": {"type": ["string", "null"], "format": "date"}, "demo": {"type": "boolean"}}});
    let mut list = op(
        "Knowledge articles. With q: those matching the text in Chinese (full-text, jieba words; question weighs most, then keywords, then answer), best first, each with its score; without: every article. In force on date (default today) unless any_day=true; category_code keeps that category and those under it",
        "200",
        json!({"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}}}}),
        &["401", "422"],
    );
    list["parameters"] = json!([
        {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 500}},
        {"name": "category_code", "in": "query", "schema": {"type": "string"}},
        {"name": "date", "in": "query", "schema": {"type": "string", "format": "date"}},
        {"name": "any_day", "in": "query", "schema": {"type": "boolean"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 20}}
    ]);
    let mut create = op(
        "Add an article (admin; a unit handler for an article their unit owns)",
        "201",
        article.clone(),
        &["400", "401", "403", "422"],
    );
    create["requestBody"] = body(input.clone());
    paths.insert(
        "/api/v1/knowledge".into(),
        json!({"get": list, "post": create}),
    );
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}});
    let mut get_one = op("One article", "200", article.clone(), &["401", "404"]);
    get_one["parameters"] = json!([id.clone()]);
    let mut update = op(
        "Edit an article at the version read (admin; the owning unit's handlers)",
        "200",
        article,
        &["400", "401", "403", "404", "409", "422"],
    );
    update["parameters"] = json!([id.clone()]);
    update["requestBody"] = body(input);
    let mut delete = op(
        "Delete an article at the version read; its history stays",
        "204",
        json!({"type": "null"}),
        &["401", "403", "404", "409", "422"],
    );
    delete["parameters"] = json!([id, {"name": "version", "in": "query", "required": true, "schema": {"type": "integer"}}]);
    paths.insert(
        "/api/v1/knowledge/{id}".into(),
        json!({"get": get_one, "put": update, "delete": delete}),
    );
    let mut history = op(
        "Changes to the knowledge base, newest first: action (created, updated, deleted), before, after, user, time",
        "200",
        json!({"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}}}}),
        &["401", "422"],
    );
    history["parameters"] = json!([
        {"name": "article_id", "in": "query", "schema": {"type": "integer"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}
    ]);
    paths.insert("/api/v1/knowledge/history".into(), json!({"get": history}));
}

/// The dispatch catalogue (派单目录).
fn catalogue(paths: &mut Map<String, Value>) {
    let body = |schema: Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    let input = json!({"type": "object", "additionalProperties": false, "required": ["category_code"], "properties": {
        "version": {"type": "integer", "description": "the version read (edits)"},
        "category_code": {"type": "string", "description": "a category at any level; covers its sub-categories"},
        "division_code": {"type": ["string", "null"], "description": "the place covered with everything inside; null: the whole city"},
        "unit_id": {"type": "integer"}, "unit_code": {"type": "string", "description": "the unit by code, instead of unit_id"},
        "ownership": {"type": "string", "enum": ["functional", "territorial"], "description": "default: functional for city departments and public enterprises, territorial otherwise. A functional matter may not be given to a street office or community, nor pushed down under a wider functional entry"},
        "tier": {"type": ["integer", "null"], "enum": [1, 3, 7, 11, null]},
        "valid_from": {"type": "string", "format": "date", "description": "default: today"},
        "valid_to": {"type": ["string", "null"], "format": "date", "description": "the last day it applies"},
        "note": {"type": "string", "maxLength": 200}}});
    let entry = json!({"type": "object", "properties": {
        "id": {"type": "integer"}, "version": {"type": "integer"}, "category_code": {"type": "string"},
        "category_name": {"type": ["string", "null"]}, "division_code": {"type": ["string", "null"]},
        "division_name": {"type": ["string", "null"]}, "unit_id": {"type": "integer"}, "unit_code": {"type": ["string", "null"]},
        "unit_name": {"type": ["string", "null"]}, "ownership": {"type": "string"}, "tier": {"type": ["integer", "null"]},
        "valid_from": {"type": "string", "format": "date"}, "valid_to": {"type": ["string", "null"], "format": "date"},
        "note": {"type": "string"}}});
    let mut list = op(
        "Catalogue entries, ended ones included (in_force=true: those valid today)",
        "200",
        json!({"type": "object", "properties": {"items": {"type": "array", "items": entry.clone()}}}),
        &["401", "422"],
    );
    list["parameters"] =
        json!([{"name": "in_force", "in": "query", "schema": {"type": "boolean"}}]);
    let mut create = op(
        "Add an entry (admin); refused with the rule that forbids it",
        "201",
        entry.clone(),
        &["400", "401", "403", "422"],
    );
    create["requestBody"] = body(input.clone());
    paths.insert(
        "/api/v1/catalogue".into(),
        json!({"get": list, "post": create}),
    );
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}});
    let mut update = op(
        "Edit an entry at the version read (admin)",
        "200",
        entry.clone(),
        &["400", "401", "403", "404", "409", "422"],
    );
    update["parameters"] = json!([id.clone()]);
    update["requestBody"] = body(input);
    let mut delete = op(
        "Delete an entry at the version read (admin); its history stays",
        "204",
        json!({"type": "null"}),
        &["401", "403", "404", "409", "422"],
    );
    delete["parameters"] = json!([id, {"name": "version", "in": "query", "required": true, "schema": {"type": "integer"}}]);
    paths.insert(
        "/api/v1/catalogue/{id}".into(),
        json!({"put": update, "delete": delete}),
    );
    let mut history = op(
        "Changes to the catalogue, newest first: action (created, updated, deleted), before, after, user, time (admin, supervisor, dispatcher, analyst)",
        "200",
        json!({"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}}}}),
        &["401", "403", "422"],
    );
    history["parameters"] = json!([
        {"name": "entry_id", "in": "query", "schema": {"type": "integer"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}
    ]);
    paths.insert("/api/v1/catalogue/history".into(), json!({"get": history}));
    let mut export = op(
        "The catalogue as CSV (UTF-8 with BOM): category_code, division_code, unit_code, ownership, tier, valid_from, valid_to, note, id, then version and names",
        "200",
        json!({"type": "string"}),
        &["401"],
    );
    export["responses"]["200"]["content"] = json!({"text/csv": {"schema": {"type": "string"}}});
    paths.insert(
        "/api/v1/catalogue/export.csv".into(),
        json!({"get": export}),
    );
    let mut export_x = op(
        "The catalogue as an Excel workbook (.xlsx), in the CSV export's columns, every cell text",
        "200",
        json!({"type": "string", "format": "binary"}),
        &["401"],
    );
    export_x["responses"]["200"]["content"] = json!({"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}});
    paths.insert(
        "/api/v1/catalogue/export.xlsx".into(),
        json!({"get": export_x}),
    );
    let mut import = op(
        "Import entries from CSV or from an Excel workbook's first sheet (.xlsx), with a header row (the export's columns; a row with an id edits that entry; dates as dates or YYYY-MM-DD). All rows or none; errors name the line (admin)",
        "200",
        json!({"type": "object", "properties": {"imported": {"type": "integer"}, "items": {"type": "array", "items": entry.clone()}}}),
        &["400", "401", "403", "422"],
    );
    import["requestBody"] = json!({"required": true, "content": {"text/csv": {"schema": {"type": "string"}}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}}});
    paths.insert("/api/v1/catalogue/import".into(), json!({"post": import}));
    let mut owner = op(
        "Who owns a matter of this category at this place on this day: the unit, the entry and the rule that decided (most specific category, then smallest place, then latest start), the tier, and the entries it outranked; null when none applies",
        "200",
        json!({"type": ["object", "null"], "properties": {
            "unit": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}, "rule": {"type": "string"}}},
            "entry": entry, "tier": {"type": ["integer", "null"]}, "outranked": {"type": "array", "items": {"type": "integer"}}}}),
        &["401", "422"],
    );
    owner["parameters"] = json!([
        {"name": "category_code", "in": "query", "required": true, "schema": {"type": "string"}},
        {"name": "division_code", "in": "query", "schema": {"type": "string"}},
        {"name": "date", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "default: today (Asia/Shanghai)"}
    ]);
    paths.insert("/api/v1/catalogue/owner".into(), json!({"get": owner}));
    let place = json!({"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"},
        "level": {"type": "string", "enum": ["district", "street", "community"]}, "path": {"type": "string"},
        "confidence": {"type": "number"}, "matched": {"type": "array", "items": {"type": "string"}}}});
    let mut suggest = op(
        "Proposals for an intake in progress (operator, dispatcher, supervisor, admin): top categories with confidence and the words that decided, the place (null when the words fit several: see division_candidates), the owning unit by the catalogue with its rule, the tier, the caller's recent tickets and the emergency flag with the number to transfer to. duplicates: among the newest 60 open tickets of the last 30 days at the same community (or street), those whose text is alike. knowledge: up to 3 knowledge-base answers in force today that match the text (chance matches on one common word left out)",
        "200",
        json!({"type": "object", "properties": {
            "categories": {"type": "array", "items": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}, "confidence": {"type": "number"}, "because": {"type": "array", "items": {"type": "string"}}}}},
            "division": {"oneOf": [place.clone(), {"type": "null"}]},
            "division_candidates": {"type": "array", "items": place},
            "unit": {"type": ["object", "null"], "properties": {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}, "rule": {"type": "string"}, "entry_id": {"type": "integer"}}},
            "tier": {"type": ["integer", "null"]},
            "duplicates": {"type": "array", "maxItems": 5, "items": {"type": "object", "properties": {"id": {"type": "integer"}, "number": {"type": "string"}, "title": {"type": "string"}, "state": {"type": "string"}, "division_code": {"type": ["string", "null"]}, "score": {"type": "number"}}}},
            "caller_history": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}, "number": {"type": "string"}, "title": {"type": "string"}, "state": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"}, "category_code": {"type": ["string", "null"]}, "similarity": {"type": "number", "description": "text similarity to this intake, 0..1"}, "same_matter": {"type": "boolean", "description": "open and alike: the caller again about the same matter (merge with merge_into rather than dispatch again)"}}}},
            "knowledge": {"type": "array", "maxItems": 3, "items": {"type": "object", "properties": {"id": {"type": "integer"}, "question": {"type": "string"}, "answer": {"type": "string"}, "category_code": {"type": ["string", "null"]}, "source": {"type": "string"}, "demo": {"type": "boolean"}, "score": {"type": "number"}}}},
            "emergency": {"type": "object", "properties": {"flag": {"type": "boolean"}, "transfer_to": {"type": ["string", "null"], "enum": ["110", "119", "120", "122", null]}, "also": {"type": "array", "items": {"type": "string"}}, "signals": {"type": "array", "items": {"type": "string"}}}},
            "model": {"type": ["string", "null"], "description": "when and on how many tickets the classifier was trained; null: none yet"}}}),
        &["400", "401", "403", "422"],
    );
    suggest["requestBody"] = body(
        json!({"type": "object", "additionalProperties": false, "properties": {
        "title": {"type": "string", "maxLength": 200}, "content": {"type": "string", "maxLength": 20000},
        "address": {"type": "string", "maxLength": 200}, "phone": {"type": "string", "maxLength": 30}}}),
    );
    paths.insert("/api/v1/suggest".into(), json!({"post": suggest}));
    let train = op(
        "Retrain the classifier on the newest closed tickets and the categories' names (admin)",
        "200",
        json!({"type": "object", "properties": {"tickets": {"type": "integer"}, "category_names": {"type": "integer"},
            "categories": {"type": "integer"}, "words": {"type": "integer"}, "seconds": {"type": "number"}}}),
        &["401", "403", "422"],
    );
    paths.insert("/api/v1/classifier/train".into(), json!({"post": train}));
    let mut feedback = op(
        "The category proposed at intake against the category the tickets have now (the operator's choice or a later correction), for tickets received in a period (admin, supervisor, analyst)",
        "200",
        json!({"type": "object", "properties": {"from": {"type": "string", "format": "date-time"}, "to": {"type": "string", "format": "date-time"},
            "tickets": {"type": "integer"}, "with_suggestion": {"type": "integer"}, "agreed": {"type": "integer"}, "changed": {"type": "integer"},
            "uncategorised": {"type": "integer"}, "agreement": {"type": ["number", "null"]}, "truncated": {"type": "boolean"},
            "corrections": {"type": "array", "items": {"type": "object", "properties": {"suggested": {"type": "string"}, "chosen": {"type": "string"}, "count": {"type": "integer"}}}}}}),
        &["401", "403", "422"],
    );
    feedback["parameters"] = json!([
        {"name": "from", "in": "query", "schema": {"type": "string"}, "description": "YYYY-MM-DD (Asia/Shanghai) or RFC 3339; default 30 days before `to`"},
        {"name": "to", "in": "query", "schema": {"type": "string"}, "description": "YYYY-MM-DD inclusive or RFC 3339; default now"}
    ]);
    paths.insert(
        "/api/v1/classifier/feedback".into(),
        json!({"get": feedback}),
    );
    let row = json!({"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
        "kind": {"type": "string", "enum": ["road", "compound", "landmark"]}, "division_code": {"type": "string"}}});
    let get_g = op(
        "The gazetteer: roads, residential compounds and landmarks mapped to divisions, used to resolve addresses",
        "200",
        json!({"type": "object", "properties": {"items": {"type": "array", "items": row.clone()}}}),
        &["401"],
    );
    let mut put_g = op(
        "Add names or change what they map to (by name), all or none (admin); errors name the item ([0].kind)",
        "200",
        json!({"type": "object", "properties": {"saved": {"type": "integer"}, "items": {"type": "array", "items": row}}}),
        &["400", "401", "403", "422"],
    );
    put_g["requestBody"] = body(
        json!({"type": "array", "items": {"type": "object", "additionalProperties": false,
        "required": ["name", "kind", "division_code"], "properties": {
        "name": {"type": "string", "minLength": 2, "maxLength": 16},
        "kind": {"type": "string", "enum": ["road", "compound", "landmark"]},
        "division_code": {"type": "string"}}}}),
    );
    paths.insert(
        "/api/v1/gazetteer".into(),
        json!({"get": get_g, "put": put_g}),
    );
    let mut del_g = op(
        "Remove a gazetteer name (admin)",
        "204",
        json!({"type": "null"}),
        &["401", "403", "404"],
    );
    del_g["parameters"] =
        json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]);
    paths.insert("/api/v1/gazetteer/{id}".into(), json!({"delete": del_g}));
}

/// Evaluation (考评点评): the figures of a period, the policy, the aggregates.
fn evaluation(paths: &mut Map<String, Value>) {
    let rate =
        |d: &str| json!({"type": ["number", "null"], "minimum": 0, "maximum": 1, "description": d});
    let row = json!({"type": "object", "properties": {
        "group": {"type": ["string", "null"], "description": "unit id, division or category code, channel; null for the city"},
        "name": {"type": "string"},
        "requests": {"type": "integer", "description": "requests received; for a unit, tickets dispatched to it as lead unit"},
        "callbacks": {"type": "integer"},
        "requests_per_10k": {"type": ["number", "null"], "description": "万人诉求比; null without a population"},
        "response_rate": rate("响应率"), "resolution_rate": rate("解决率"), "satisfaction_rate": rate("满意率"),
        "completion_rate": rate("办结率: of the period's requests, those finished"), "on_time_rate": rate("按期办结率"),
        "return_rate": rate("退单率"), "direct_rate": rate("直接办结率"),
        "average_handling_seconds": {"type": ["number", "null"]}, "supervisions": {"type": "integer"},
        "score": {"type": ["number", "null"], "description": "combined score 0..100"},
        "rank": {"type": ["integer", "null"]}, "zone": {"type": ["string", "null"], "enum": ["blue", "yellow", "red", null]},
        "previous_score": {"type": ["number", "null"]}, "trend": {"type": ["string", "null"], "description": "e.g. 响应率、满意率上升，解决率下降（两升一降）"},
        "counts": {"type": "object", "description": "the counts behind the figures"}}});
    let table = json!({"type": "object", "properties": {
        "period": {"type": "object"}, "previous": {"type": "object"}, "group_by": {"type": ["string", "null"]},
        "policy": {"type": "object"}, "rows": {"type": "array", "items": row}}});
    let params = json!([
        {"name": "from", "in": "query", "required": false, "schema": {"type": "string", "format": "date"}, "description": "first day (default: the 1st of this month)"},
        {"name": "to", "in": "query", "required": false, "schema": {"type": "string", "format": "date"}, "description": "last day, included (default: today)"},
        {"name": "group_by", "in": "query", "required": false, "schema": {"type": "string", "enum": ["unit", "district", "street", "category", "category_l1", "category_l2", "channel"]}, "description": "absent: one row for the whole city"}]);
    let mut get = op(
        "The evaluation figures of a period, ranked",
        "200",
        table,
        &["400", "401"],
    );
    get["parameters"] = params.clone();
    paths.insert("/api/v1/kpis".into(), json!({"get": get}));
    let mut xlsx = op(
        "The same table as an Excel workbook",
        "200",
        json!({"type": "string", "format": "binary"}),
        &["400", "401"],
    );
    xlsx["parameters"] = params;
    paths.insert("/api/v1/kpis.xlsx".into(), json!({"get": xlsx}));
    let policy = json!({"type": "object", "additionalProperties": false, "properties": {
        "partly_resolved_weight": {"type": "number", "minimum": 0, "maximum": 1, "default": 0},
        "basically_satisfied_weight": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.6},
        "score_weights": {"type": "object", "properties": {"response": {"type": "number"}, "resolution": {"type": "number"},
            "satisfaction": {"type": "number"}, "on_time": {"type": "number"}, "completion": {"type": "number"}}},
        "blue_share": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.2},
        "red_share": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.2}}});
    let get_policy = op(
        "The evaluation policy in force",
        "200",
        policy.clone(),
        &["401"],
    );
    let mut put_policy = op(
        "Replace the evaluation policy (admin)",
        "200",
        policy.clone(),
        &["400", "401", "403"],
    );
    put_policy["requestBody"] =
        json!({"required": true, "content": {"application/json": {"schema": policy}}});
    paths.insert(
        "/api/v1/policy/kpis".into(),
        json!({"get": get_policy, "put": put_policy}),
    );
    let rebuild = op(
        "Rebuild the evaluation aggregates from the events (admin)",
        "200",
        json!({"type": "object", "properties": {"tickets": {"type": "integer"}, "events": {"type": "integer"}, "rows": {"type": "integer"}}}),
        &["401", "403"],
    );
    paths.insert(
        "/api/v1/aggregates/rebuild".into(),
        json!({"post": rebuild}),
    );
    let format = |offered: &[&str]| {
        json!({"name": "format", "in": "query", "required": false,
        "schema": {"type": "string", "enum": offered, "default": "json"}, "description": "html: a document; doc: the same for Word, as a download; docx: a Word document"})
    };
    let mut daily = op(
        "The daily report (工作日报) of a business day: calls, online messages by channel, answered directly and transferred, callbacks, hot issues",
        "200",
        json!({"type": "object", "properties": {"date": {"type": "string", "format": "date"}, "summary": {"type": "string"},
            "requests": {"type": "integer"}, "calls": {"type": "integer"}, "online": {"type": "integer"}, "other": {"type": "integer"},
            "by_channel": {"type": "array", "items": {"type": "object"}}, "direct": {"type": "integer"}, "transferred": {"type": "integer"},
            "callbacks": {"type": "integer"}, "kpis": {"type": "object"},
            "hot_issues": {"type": "array", "items": {"type": "object", "properties": {"rank": {"type": "integer"}, "name": {"type": "string"},
                "requests": {"type": "integer"}, "main_name": {"type": ["string", "null"]}, "place_name": {"type": ["string", "null"]},
                "handling": {"type": "object"}, "unit_name": {"type": ["string", "null"]}, "text": {"type": "string"}}}}}}),
        &["400", "401"],
    );
    daily["parameters"] = json!([
        {"name": "date", "in": "query", "required": false, "schema": {"type": "string", "format": "date"}, "description": "default: yesterday"},
        {"name": "top", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 20, "default": 5}},
        format(&["json", "html", "doc", "docx", "xlsx"])]);
    paths.insert("/api/v1/reports/daily".into(), json!({"get": daily}));
    let mut monthly = op(
        "The monthly report (考评通报): the city's figures and the rankings of units, districts and categories",
        "200",
        json!({"type": "object", "properties": {"year": {"type": "integer"}, "month": {"type": "integer"}, "title": {"type": "string"},
            "city": {"type": "object"}, "units": {"type": "object"}, "districts": {"type": "object"}, "categories": {"type": "object"}}}),
        &["400", "401"],
    );
    monthly["parameters"] = json!([
        {"name": "month", "in": "query", "required": false, "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}, "description": "default: this month"},
        format(&["json", "html", "doc", "docx", "xlsx"])]);
    paths.insert("/api/v1/reports/monthly".into(), json!({"get": monthly}));
}

/// Data analysis (数据分析): early warnings, hot issues, the forecast.
fn analysis(paths: &mut Map<String, Value>) {
    let warning = json!({"type": "object", "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["surge", "cluster", "repeat_caller"], "description": "诉求激增, 同址聚集, 重复来电"},
        "key": {"type": "string", "description": "stays the same while the situation lasts"},
        "level": {"type": "string", "enum": ["yellow", "orange", "red"], "description": "the worst reached"},
        "title": {"type": "string"},
        "detail": {"type": "object", "description": "the figures behind it: for a surge observed, expected, ratio, p_value, history, link; for a cluster place, requests, people, ticket_ids; for a repeat caller the masked phone, requests, ticket_ids"},
        "ticket_id": {"type": ["integer", "null"]},
        "first_at": {"type": "string", "format": "date-time"}, "last_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": ["open", "acknowledged", "dismissed"]},
        "handled_by": {"type": ["integer", "null"]}, "handled_at": {"type": ["string", "null"], "format": "date-time"},
        "note": {"type": ["string", "null"]}}});
    let status = json!({"name": "status", "in": "query", "required": false,
        "schema": {"type": "string", "enum": ["open", "acknowledged", "dismissed", "all"], "default": "all"}});
    let mut list = op(
        "Early warnings (预警), the most recently found first (supervisors, analysts, dispatchers, admins)",
        "200",
        json!({"type": "object", "properties": {"items": {"type": "array", "items": warning.clone()}}}),
        &["400", "401", "403"],
    );
    list["parameters"] = json!([status.clone(),
        {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}]);
    paths.insert("/api/v1/warnings".into(), json!({"get": list}));
    let mut xlsx = op(
        "The warnings as an Excel workbook",
        "200",
        json!({"type": "string", "format": "binary"}),
        &["400", "401", "403"],
    );
    xlsx["parameters"] = json!([status]);
    paths.insert("/api/v1/warnings.xlsx".into(), json!({"get": xlsx}));
    let mut one = op(
        "One warning",
        "200",
        warning.clone(),
        &["401", "403", "404"],
    );
    one["parameters"] =
        json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]);
    paths.insert("/api/v1/warnings/{id}".into(), json!({"get": one}));
    let mut handle = op(
        "Acknowledge, dismiss or reopen a warning (supervisors, analysts, admins)",
        "200",
        warning,
        &["400", "401", "403", "404"],
    );
    handle["parameters"] =
        json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]);
    handle["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["status"], "properties": {
        "status": {"type": "string", "enum": ["acknowledged", "dismissed", "open"]}, "note": {"type": ["string", "null"], "maxLength": 500}}}}}});
    paths.insert(
        "/api/v1/warnings/{id}/handle".into(),
        json!({"post": handle}),
    );
    let scan = op(
        "Run the early-warning monitor now (it also runs in the server every MASHANGBAN_WARN_SECONDS)",
        "200",
        json!({"type": "object", "properties": {"surges": {"type": "integer"}, "clusters": {"type": "integer"},
            "repeat_callers": {"type": "integer"}, "told": {"type": "integer", "description": "new or worse, told to supervisors and analysts"}}}),
        &["401", "403"],
    );
    paths.insert("/api/v1/warnings/scan".into(), json!({"post": scan}));
    let rules = json!({"type": "object", "additionalProperties": false, "properties": {
        "history_days": {"type": "integer", "default": 56}, "alpha": {"type": "number", "default": 0.2},
        "surge_min_requests": {"type": "integer", "default": 5}, "surge_min_ratio": {"type": "number", "default": 2.0},
        "surge_max_p": {"type": "number", "default": 0.001}, "surge_orange_ratio": {"type": "number", "default": 3.0},
        "surge_red_ratio": {"type": "number", "default": 5.0}, "cluster_min_requests": {"type": "integer", "default": 3},
        "cluster_min_people": {"type": "integer", "default": 2}, "cluster_days": {"type": "integer", "default": 3},
        "cluster_orange": {"type": "integer", "default": 5}, "cluster_red": {"type": "integer", "default": 10},
        "repeat_min_requests": {"type": "integer", "default": 3}, "repeat_days": {"type": "integer", "default": 30},
        "repeat_orange": {"type": "integer", "default": 5}, "repeat_red": {"type": "integer", "default": 8}}});
    let get_rules = op(
        "The warning thresholds in force",
        "200",
        rules.clone(),
        &["401", "403"],
    );
    let mut put_rules = op(
        "Replace the warning thresholds (admin; fields left out take their defaults)",
        "200",
        rules.clone(),
        &["400", "401", "403"],
    );
    put_rules["requestBody"] =
        json!({"required": true, "content": {"application/json": {"schema": rules}}});
    paths.insert(
        "/api/v1/policy/warnings".into(),
        json!({"get": get_rules, "put": put_rules}),
    );
    let hot_params = json!([
        {"name": "days", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 90, "default": 7}},
        {"name": "top", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}}]);
    let mut hot = op(
        "Hot issues (热点) of the last days' tickets: problems by topic and place with their heat",
        "200",
        json!({"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
            "rank": {"type": "integer"}, "heat": {"type": "number", "minimum": 0, "maximum": 100}, "requests": {"type": "integer"},
            "people": {"type": "integer"}, "supervised": {"type": "integer"}, "first_at": {"type": "string", "format": "date-time"},
            "last_at": {"type": "string", "format": "date-time"}, "place": {"type": ["string", "null"]}, "description": {"type": "string"},
            "keywords": {"type": "array", "items": {"type": "string"}}, "category_code": {"type": ["string", "null"]},
            "category_name": {"type": ["string", "null"]}, "ticket_ids": {"type": "array", "items": {"type": "integer"}}}}}}}),
        &["400", "401", "403"],
    );
    hot["parameters"] = hot_params.clone();
    paths.insert("/api/v1/hot-issues".into(), json!({"get": hot}));
    let mut hot_x = op(
        "The hot issues as an Excel workbook",
        "200",
        json!({"type": "string", "format": "binary"}),
        &["400", "401", "403"],
    );
    hot_x["parameters"] = hot_params;
    paths.insert("/api/v1/hot-issues.xlsx".into(), json!({"get": hot_x}));
    let day = json!({"type": "object", "properties": {"date": {"type": "string", "format": "date"}, "expected": {"type": "number"},
        "low": {"type": "number"}, "high": {"type": "number"}}});
    let series = json!({"type": "object", "properties": {"channel": {"type": ["string", "null"]}, "name": {"type": "string"},
        "recent_average": {"type": "number"}, "days": {"type": "array", "items": day},
        "backtest": {"type": "object", "properties": {"days": {"type": "integer"}, "wape": {"type": ["number", "null"]},
            "mae": {"type": ["number", "null"]}, "coverage": {"type": ["number", "null"]}}}}});
    let fc_params = json!([{"name": "days", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 28, "default": 14}}]);
    let mut fc = op(
        "The next days' requests in all and by channel, with an interval (10th–90th percentile of back-tested errors) and the back-tested error",
        "200",
        json!({"type": "object", "properties": {"history_from": {"type": "string", "format": "date"}, "history_to": {"type": "string", "format": "date"},
            "rules": {"type": "object"}, "total": series.clone(), "channels": {"type": "array", "items": series}}}),
        &["400", "401", "403"],
    );
    fc["parameters"] = fc_params.clone();
    paths.insert("/api/v1/forecast".into(), json!({"get": fc}));
    let mut fc_x = op(
        "The forecast as an Excel workbook",
        "200",
        json!({"type": "string", "format": "binary"}),
        &["400", "401", "403"],
    );
    fc_x["parameters"] = fc_params;
    paths.insert("/api/v1/forecast.xlsx".into(), json!({"get": fc_x}));
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
