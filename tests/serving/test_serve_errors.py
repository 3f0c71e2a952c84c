"""Every refused request: its status, and a one-line JSON error naming the field; never a
traceback, and the server keeps serving."""

from __future__ import annotations

import httpx
import pytest
from serving_helpers import assert_error, metric, running

from netcfg.serving import app as app_module
from netcfg.serving.settings import ServeSettings

RECOMMEND = "/recommend"

CASES = [
    # (name, path, body (bytes are sent as they are), status, field, message fragment)
    ("not JSON", RECOMMEND, b'{"user": ', 400, "body", "not valid JSON"),
    ("NaN", RECOMMEND, b'{"user": 1, "k": NaN}', 400, "body", "NaN is not a JSON number"),
    ("empty body", RECOMMEND, b"", 400, "body", "empty; send a JSON object"),
    ("not UTF-8", RECOMMEND, b'{"user": "\xff"}', 400, "body", "not UTF-8"),
    ("a string", RECOMMEND, '"user"', 422, "body", "must be a JSON object (got a string)"),
    ("an empty list", RECOMMEND, [], 422, "body", "give 1 to 1,000 requests (got 0)"),
    ("too many", RECOMMEND, [{"user": 1}] * 1001, 422, "body", "(got 1,001)"),
    ("a list of numbers", RECOMMEND, [{"user": 1}, 3], 422, "[1]", "must be a JSON object"),
    ("no user", RECOMMEND, {"k": 3}, 422, "user", "missing; this field is needed"),
    ("k 0", RECOMMEND, {"user": 1, "k": 0}, 422, "k", "greater than or equal to 1 (got 0)"),
    ("k too big", RECOMMEND, {"user": 1, "k": 1001}, 422, "k", "less than or equal to 1000"),
    ("k a string", RECOMMEND, {"user": 1, "k": "5"}, 422, "k", 'valid integer (got "5")'),
    ("k a float", RECOMMEND, {"user": 1, "k": 2.5}, 422, "k", "valid integer"),
    ("a typo", RECOMMEND, {"user": 1, "exlude_seen": True}, 422, "exlude_seen", "'exclude_seen'"),
    ("bool as id", RECOMMEND, {"user": True}, 422, "user", "must be an id"),
    ("empty id", RECOMMEND, {"user": ""}, 422, "user", "1 to 256 characters"),
    ("seen not bool", RECOMMEND, {"user": 1, "exclude_seen": 1}, 422, "exclude_seen", "boolean"),
    ("filter typo", RECOMMEND, {"user": 1, "filter": {"dny": [1]}}, 422, "filter.dny", "'deny'"),
    ("filter id", RECOMMEND, {"user": 1, "filter": {"deny": [None]}}, 422, "filter.deny[0]", "id"),
    ("no interactions", RECOMMEND, {"user": 1, "interactions": []}, 422, "interactions", "1 item"),
    (
        "a bad value",
        RECOMMEND,
        {"user": 1, "interactions": [[1, "x"]]},
        422,
        "interactions[0]",
        'the value must be a number (got "x")',
    ),
    (
        "a triple",
        RECOMMEND,
        {"user": 1, "interactions": [[1, 2, 3]]},
        422,
        "interactions[0]",
        "must be [item, value] or an item id",
    ),
    ("unknown model", RECOMMEND, {"user": 1, "model": "x"}, 404, "model", "no model 'x'"),
    (
        "unknown model in a list",
        RECOMMEND,
        [{"user": 1}, {"user": 1, "model": "nope"}],
        404,
        "[1].model",
        "(served: default, items)",
    ),
    (
        "unknown user",
        RECOMMEND,
        {"user": 424242},
        404,
        "user",
        "unknown user 424242 of model 'default'; give 'interactions'",
    ),
    (
        "unknown user of an item model",
        RECOMMEND,
        {"user": "u999", "model": "items"},
        404,
        "user",
        "recommends only for the users it was trained on",
    ),
    (
        "interactions for an item model",
        RECOMMEND,
        {"user": "u1", "model": "items", "interactions": [["i1", 4]]},
        422,
        "interactions",
        "model 'items' is item-based",
    ),
    (
        "only unknown items",
        RECOMMEND,
        {"user": 5000, "interactions": [[999, 4], 998]},
        422,
        "interactions",
        "none of its 2 items is known to model 'default'",
    ),
    ("no pairs", "/score", {"pairs": []}, 422, "pairs", "at least 1 item"),
    ("a bad pair", "/score", {"pairs": [[1]]}, 422, "pairs[0]", "must be [user, item]"),
    ("clip not bool", "/score", {"pairs": [[1, 1]], "clip": "no"}, 422, "clip", "boolean"),
    ("score typo", "/score", {"pair": [[1, 1]]}, 422, "pair", "did you mean 'pairs'?"),
]


@pytest.mark.parametrize(
    ("path", "body", "status", "field", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_a_bad_request_is_refused_naming_the_field(client, path, body, status, field, fragment):
    if isinstance(body, bytes | str):
        answer = client.post(path, content=body, headers={"content-type": "application/json"})
    else:
        answer = client.post(path, json=body)
    assert_error(answer, status, field, fragment)
    assert client.get("/health").status_code == 200  # still serving


def test_unknown_endpoints_and_methods(client):
    assert_error(client.get("/nope"), 404, None, "no endpoint /nope; see /docs")
    assert_error(client.get("/recommend"), 405, None, "GET is not allowed on /recommend")
    assert_error(client.post("/health"), 405, None, "POST is not allowed on /health")


def test_oversized_bodies_are_refused(models):
    settings = ServeSettings(models=(("default", ""),), max_body_bytes=1000)
    big = b'{"user": 1, "filter": {"deny": [' + b", ".join([b"1"] * 600) + b"]}}"

    def chunks():  # no Content-Length: the size is counted as the body arrives
        yield big[:500]
        yield big[500:]

    with running(app_module.create_app(models[:1], settings)) as url:
        with httpx.Client(base_url=url) as http:
            assert_error(http.post("/recommend", content=big), 413, "body", "limit of 1,000 bytes")
            answer = http.post("/recommend", content=chunks())
            assert answer.request.headers.get("transfer-encoding") == "chunked"
            assert_error(answer, 413, "body", "larger than the limit of 1,000 bytes")
            assert http.post("/recommend", json={"user": 1}).status_code == 200


def test_a_bug_is_a_500_without_a_traceback_and_the_server_goes_on(models, monkeypatch, caplog):
    def broken(served, batch):
        raise RuntimeError("a bug in ranking")

    monkeypatch.setattr(app_module, "rank_batch", broken)
    settings = ServeSettings(models=(("default", ""),))
    with running(app_module.create_app(models[:1], settings)) as url:
        with httpx.Client(base_url=url) as http:
            answer = http.post("/recommend", json={"user": 1})
            assert_error(answer, 500, None, "internal error; the server logged it")
            assert "a bug in ranking" not in answer.text
            assert http.get("/health").status_code == 200
            assert http.post("/score", json={"pairs": [[1, 1]]}).status_code == 200
            errors = metric(
                http.get("/metrics").text,
                "netcfg_request_errors_total",
                endpoint="/recommend",
                status="500",
            )
    assert errors == 1
    assert "a bug in ranking" in caplog.text  # logged on the server's side
