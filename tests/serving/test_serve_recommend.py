"""POST /recommend answers what ``netcfg predict`` writes, for known users, new and
returning users with interactions, seen items and filters; with and without batching."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from serving_helpers import predict_lists, read_ratings, running

from netcfg.serving.app import create_app
from netcfg.serving.settings import ServeSettings


def assert_same_list(answer: dict, items: list, scores: list) -> None:
    """The same ranked list: scores equal to 1e-5, items equal except that items whose
    scores tie within 1e-5 may trade places (a batch of another size may round the last
    bit differently)."""
    assert answer["scores"] == pytest.approx(scores, abs=1e-5)
    got = answer["items"]
    assert len(got) == len(items)
    start = 0
    for end in range(1, len(items) + 1):
        if end == len(items) or abs(scores[end] - scores[end - 1]) > 1e-5:
            if end < len(items):  # a run of ties inside the list: the same items
                assert set(got[start:end]) == set(items[start:end]), (answer, items)
            start = end


@pytest.mark.parametrize("exclude_seen", [True, False])
@pytest.mark.parametrize("model", ["user", "item"])
def test_known_users_get_the_lists_predict_writes(client, trained, capsys, model, exclude_seen):
    flags = ["--exclude-seen"] if exclude_seen else []
    predicted = predict_lists(capsys, trained[model], "--top-k", 5, *flags)
    name = "default" if model == "user" else "items"
    requests = [
        {"model": name, "user": user, "k": 5, "exclude_seen": exclude_seen} for user in predicted
    ]
    answer = client.post("/recommend", json=requests)
    assert answer.status_code == 200, answer.text
    answers = answer.json()
    assert [a["user"] for a in answers] == list(predicted)
    for found in answers:
        assert found["model"] == name and "warnings" not in found
        assert_same_list(found, *predicted[found["user"]])


def test_one_request_gets_one_object(client, trained, capsys):
    predicted = predict_lists(capsys, trained["user"], "--top-k", 3, "--exclude-seen")
    user = next(iter(predicted))
    answer = client.post("/recommend", json={"user": str(user), "k": 3, "exclude_seen": True})
    assert answer.status_code == 200
    found = answer.json()
    assert found["user"] == user and found["model"] == "default"
    assert_same_list(found, *predicted[user])


def test_new_and_returning_users_are_folded_in_as_predict_input(client, trained, capsys, tmp_path):
    known = read_ratings(trained["user-train"])
    returning = sorted(known, key=int)[:3]
    given = {
        "9001": [("1", 5.0), ("2", 3.0), ("7", 4.0)],
        "9002": [("3", 1.0), ("999", 4.0)],  # item 999 is unknown: ignored and counted
        "9003": [("5", 2.0), ("5", 4.0), ("8", 3.0)],  # item 5 twice: the last value counts
        returning[0]: [("10", 5.0), ("11", 1.0)],  # a known user with other interactions
        returning[1]: [("12", 4.0)],
    }
    lines = [f"{u}\t{i}\t{v:g}" for u, pairs in given.items() for i, v in pairs]
    (tmp_path / "input.tsv").write_text("\n".join(lines) + "\n")
    predicted = predict_lists(
        capsys, trained["user"], "--input", tmp_path / "input.tsv", "--top-k", 6, "--exclude-seen"
    )
    requests = [
        {"user": user, "k": 6, "exclude_seen": True, "interactions": [[i, v] for i, v in pairs]}
        for user, pairs in given.items()
    ]
    answers = client.post("/recommend", json=requests).json()
    for found in answers:
        assert_same_list(found, *predicted[found["user"]])
        assert not {int(i) for i, _ in given[str(found["user"])]} & set(found["items"])
    assert answers[1]["warnings"] == [
        "ignored 1 input interactions with 1 items the model does not know"
    ]
    assert all("warnings" not in a for i, a in enumerate(answers) if i != 1)


def test_bare_items_are_implicit_interactions(client):
    found = client.post("/recommend", json={"user": "new", "interactions": [1, 2, "3"]}).json()
    assert found["user"] == "new" and len(found["items"]) == 10


def test_filters_match_predict_filters(client, trained, capsys, tmp_path):
    (tmp_path / "deny.txt").write_text("1\n2\n3\n4\n5\n")
    (tmp_path / "allow.txt").write_text("\n".join(str(i) for i in range(10, 30)) + "\n")
    for mode, request_filter in (
        ("deny", {"deny": [1, 2, 3, 4, "5"]}),
        ("allow", {"allow": list(range(10, 30))}),
    ):
        predicted = predict_lists(
            capsys, trained["user"], "--top-k", 4, "--filter", f"{mode}:{tmp_path / f'{mode}.txt'}"
        )
        requests = [{"user": u, "k": 4, "filter": request_filter} for u in predicted]
        for found in client.post("/recommend", json=requests).json():
            assert_same_list(found, *predicted[found["user"]])
            if mode == "allow":
                assert all(10 <= item < 30 for item in found["items"])
            else:
                assert not set(found["items"]) & {1, 2, 3, 4, 5}


def test_batching_on_and_off_give_the_same_lists(models, client):
    users = [int(u) for u in models[0].rows.matrix.rows.ids[:20]]
    requests = [{"user": u, "k": 7, "exclude_seen": u % 2 == 0} for u in users]
    batched = client.post("/recommend", json=requests).json()
    alone = ServeSettings(models=(("default", ""),), max_batch=1)
    with running(create_app(models[:1], alone)) as url, httpx.Client(base_url=url) as http:
        for request, found in zip(requests, batched, strict=True):
            single = http.post("/recommend", json=request).json()
            assert_same_list(found, single["items"], single["scores"])


def test_concurrent_requests_are_ranked_in_batches(models):
    settings = ServeSettings(models=(("default", ""),), max_batch=8, batch_window_ms=200)
    users = [int(u) for u in models[0].rows.matrix.rows.ids[:24]]

    async def send(url):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            answers = await asyncio.gather(
                *(http.post("/recommend", json={"user": u, "k": 2}) for u in users)
            )
            return answers, (await http.get("/metrics")).text

    with running(create_app(models[:1], settings)) as url:
        answers, metrics = asyncio.run(send(url))
    assert [a.json()["user"] for a in answers] == users
    batches = [line for line in metrics.splitlines() if line.startswith("netcfg_batch_size_count")]
    (count,) = [float(line.split()[-1]) for line in batches]
    assert 3 <= count < 24  # 24 requests in batches of up to 8, not one by one


_TRAIN_USERS = None


def _training(trained) -> dict[int, set[int]]:
    global _TRAIN_USERS
    if _TRAIN_USERS is None:
        ratings = read_ratings(trained["user-train"])
        _TRAIN_USERS = {int(u): {int(i) for i in items} for u, items in ratings.items()}
    return _TRAIN_USERS


@settings(max_examples=40, deadline=None)
@given(
    known=st.booleans(),
    pick=st.integers(0, 59),
    given_items=st.lists(st.tuples(st.integers(1, 45), st.integers(1, 5)), max_size=15),
    deny=st.lists(st.integers(1, 45), max_size=10),
    k=st.integers(1, 45),
)
def test_exclude_seen_never_recommends_a_seen_item(
    client, trained, known, pick, given_items, deny, k
):
    training = _training(trained)
    user = sorted(training)[pick] if known else 10_000 + pick
    request = {"user": user, "k": k, "exclude_seen": True, "filter": {"deny": deny}}
    input_items = {i for i, _ in given_items if i <= 40}  # items 41..45 are unknown
    if not known or given_items:
        request["interactions"] = [[i, v] for i, v in given_items]
    seen = input_items if "interactions" in request else training[user]
    answer = client.post("/recommend", json=request)
    if "interactions" in request and not input_items:
        assert answer.status_code == 422  # no interaction the model can read
        return
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert not set(items) & seen
    assert not set(items) & set(deny)
    rankable = set(range(1, 41)) - seen - set(deny)
    assert len(items) == min(k, len(rankable)) and set(items) <= rankable
