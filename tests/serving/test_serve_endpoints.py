"""GET /health, /ready, /models, /metrics, and the OpenAPI description."""

from __future__ import annotations

import json

import httpx
from serving_helpers import metric, running

import netcfg
from netcfg.serving.app import create_app
from netcfg.serving.settings import ServeSettings


def test_health_and_ready(client):
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {"ready": True, "models": ["default", "items"]}


def test_models_describe_what_is_served(client, trained):
    found = client.get("/models").json()
    assert found["default"] == "default" and found["netcfg"] == netcfg.__version__
    by_name = {m["name"]: m for m in found["models"]}
    assert list(by_name) == ["default", "items"]
    for name, model in (("default", "user"), ("items", "item")):
        run = json.loads((trained[model] / "run.json").read_text())
        info = by_name[name]
        assert info["default"] is (name == "default")
        assert info["model"] == str(trained[model])
        assert info["orientation"] == model and info["new_users"] is (model == "user")
        assert info["task"] == "ratings" and info["values"] == "explicit"
        rows, columns = run["datasets"]["ratings"]["shape"]
        assert (info["users"], info["items"]) == (
            (rows, columns) if model == "user" else (columns, rows)
        )
        assert info["metrics"] == {"validation": run["validation"], "test": run["test"]}
        assert info["status"] == "completed" and info["trained_with"] == run["netcfg"]
    assert (by_name["default"]["users"], by_name["default"]["items"]) == (60, 40)


def test_metrics_count_requests_errors_latency_and_batches(client):
    def read():
        answer = client.get("/metrics")
        assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
        return answer.text

    before = read()
    for user in (1, 2, 3):
        assert client.post("/recommend", json={"user": user}).status_code == 200
    assert client.post("/recommend", json={"user": 424242}).status_code == 404
    assert client.get("/no-such-page").status_code == 404
    after = read()

    def moved(name, **labels):
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert moved("netcfg_requests_total", endpoint="/recommend", status="200") == 3
    assert moved("netcfg_requests_total", endpoint="/recommend", status="404") == 1
    assert moved("netcfg_request_errors_total", endpoint="/recommend", status="404") == 1
    assert moved("netcfg_request_errors_total", endpoint="/recommend", status="200") == 0
    assert moved("netcfg_requests_total", endpoint="other", status="404") == 1
    assert moved("netcfg_request_duration_seconds_count", endpoint="/recommend") == 4
    inf = moved("netcfg_request_duration_seconds_bucket", endpoint="/recommend", le="+Inf")
    assert inf == 4
    assert moved("netcfg_batch_size_count", model="default") == 3
    assert moved("netcfg_batch_size_sum", model="default") == 3
    assert metric(after, "netcfg_model_info", model="items", orientation="item") == 1
    for line in after.splitlines():  # the text format: comments, or NAME{LABELS} VALUE
        assert line.startswith("# ") or len(line.rsplit(" ", 1)) == 2


def test_ready_says_no_while_draining(models):
    app = create_app(models[:1], ServeSettings(models=(("default", ""),)))
    with running(app) as url, httpx.Client(base_url=url) as http:
        app.state.netcfg.draining = True
        answer = http.get("/ready")
        assert answer.status_code == 503 and answer.json()["ready"] is False
        assert http.get("/health").status_code == 200


def test_openapi_describes_every_endpoint(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    assert {"/recommend", "/score", "/health", "/ready", "/models", "/metrics"} <= set(paths)
    body = paths["/recommend"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["anyOf"][0] == {"$ref": "#/components/schemas/RecommendRequest"}
    request = schema["components"]["schemas"]["RecommendRequest"]
    assert {"user", "k", "exclude_seen", "filter", "interactions", "model"} <= set(
        request["properties"]
    )
    assert "404" in paths["/score"]["post"]["responses"]
    assert "ScoreAnswer" in schema["components"]["schemas"]
    assert client.get("/docs").status_code == 200
