"""With a token, every request needs ``Authorization: Bearer <token>``; else 401."""

from __future__ import annotations

import hmac

import httpx
import pytest
from serving_helpers import assert_error, metric, running

from netcfg.errors import UsageError
from netcfg.serving import guard
from netcfg.serving.app import create_app
from netcfg.serving.settings import ServeSettings, read_token

TOKEN = "s3cret-Token_42"


@pytest.fixture(scope="module")
def guarded(models):
    settings = ServeSettings(models=(("default", ""),))
    with running(create_app(models[:1], settings, token=TOKEN)) as url:
        with httpx.Client(base_url=url) as http:
            yield http


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer wrong", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN],
    ids=["none", "empty", "no token", "wrong", "longer", "basic", "no scheme"],
)
@pytest.mark.parametrize("path", ["/health", "/models", "/metrics", "/recommend", "/docs"])
def test_requests_without_the_token_are_refused(guarded, header, path):
    headers = {} if header is None else {"Authorization": header}
    if path == "/recommend":
        answer = guarded.post(path, json={"user": 1}, headers=headers)
    else:
        answer = guarded.get(path, headers=headers)
    assert_error(answer, 401, "Authorization", "needs 'Authorization: Bearer <token>'")
    assert answer.headers["www-authenticate"] == "Bearer"
    assert TOKEN not in answer.text


def test_the_token_lets_requests_in(guarded):
    for scheme in ("Bearer", "bearer"):
        headers = {"Authorization": f"{scheme} {TOKEN}"}
        assert guarded.get("/health", headers=headers).status_code == 200
        assert guarded.post("/recommend", json={"user": 1}, headers=headers).status_code == 200
    metrics = guarded.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert metric(metrics, "netcfg_requests_total", endpoint="/health", status="401") >= 1


def test_the_token_is_compared_in_constant_time(guarded, monkeypatch):
    calls, compare = [], hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(guard.hmac, "compare_digest", spy)
    assert guarded.get("/health", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert calls == [(b"nope", TOKEN.encode())]


def test_token_files(tmp_path):
    (tmp_path / "ok").write_text(f"  {TOKEN}\n")
    assert read_token(tmp_path / "ok") == TOKEN
    (tmp_path / "spaced").write_text("two words\n")
    with pytest.raises(UsageError, match="printable ASCII without spaces"):
        read_token(tmp_path / "spaced")
