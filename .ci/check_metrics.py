"""Reads what /metrics answered with Prometheus' own parser (prometheus_client) and checks
the families an operator's dashboards and alerts rely on are there, with sane values.

    python check_metrics.py FILE
"""
import sys

from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1], encoding="utf-8").read()
families = {f.name: f for f in text_string_to_metric_families(text)}

expected = {
    # name as the parser gives it (counters lose their _total): its type
    "mashangban_http_requests": "counter",
    "mashangban_http_request_duration_seconds": "histogram",
    "mashangban_worker_runs": "counter",
    "mashangban_worker_errors": "counter",
    "mashangban_worker_last_run_timestamp_seconds": "gauge",
    "mashangban_worker_lag_seconds": "gauge",
    "mashangban_db_pool_connections": "gauge",
    "mashangban_db_pool_max_connections": "gauge",
    "mashangban_tickets_open": "gauge",
    "mashangban_tickets_alert": "gauge",
    "mashangban_watcher_due_tickets": "gauge",
    "mashangban_search_feed_lag_events": "gauge",
    "mashangban_sqlite_checkpoints": "gauge",
    "mashangban_build_info": "gauge",
}
for name, kind in expected.items():
    assert name in families, f"{name} missing; have {sorted(families)}"
    assert families[name].type == kind, (name, families[name].type)


def samples(name, suffix=""):
    return [s for s in families[name].samples if s.name == name + suffix]


requests = {
    (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
    for s in samples("mashangban_http_requests", "_total")
}
assert requests.get(("GET", "/healthz", "200"), 0) >= 1, requests
assert requests.get(("GET", "/api/v1/me", "200")) == 1, requests
assert requests.get(("POST", "/api/v1/tickets", "201")) == 1, requests
# The main address refuses the metrics without the token; this listener serves them.
assert requests.get(("GET", "/metrics", "404")) == 1, requests
assert all("XN" not in route for (_, route, _) in requests), requests

buckets = [
    s for s in samples("mashangban_http_request_duration_seconds", "_bucket")
    if s.labels["route"] == "/api/v1/tickets"
]
assert buckets and buckets[-1].labels["le"] == "+Inf" and buckets[-1].value == 1, buckets

workers = {s.labels["worker"] for s in samples("mashangban_worker_runs", "_total")}
for w in ["deadline_watcher", "notification_sender", "search_feed"]:
    assert w in workers, workers

open_tickets = {s.labels["state"]: s.value for s in samples("mashangban_tickets_open")}
assert open_tickets.get("received") == 1, open_tickets
backend = samples("mashangban_build_info")[0].labels["backend"]
assert backend == "sqlite", backend
print(f"{len(families)} metric families parsed; {int(sum(requests.values()))} requests counted")
