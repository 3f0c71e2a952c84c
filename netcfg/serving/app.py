"""The FastAPI application: endpoints over the served models.

- ``POST /recommend``: one request object, or a list of them (answered in order);
- ``POST /score``: scores of (user, item) pairs;
- ``GET /health`` (the process answers), ``GET /ready`` (models loaded, not draining),
  ``GET /models``, ``GET /metrics`` (Prometheus text), ``/openapi.json`` and ``/docs``.

Bodies are parsed and validated by `schemas` (not by FastAPI's parameter machinery), so
every refusal is one line of JSON naming the field (`errors.RequestError`). Model work
runs in one executor thread: /recommend through each model's `MicroBatcher`, /score
directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from netcfg import __version__
from netcfg.serving.batching import MicroBatcher
from netcfg.serving.errors import RequestError, error_body
from netcfg.serving.guard import Guard
from netcfg.serving.metrics import Metrics
from netcfg.serving.openapi import describe
from netcfg.serving.recommending import prepare, rank_batch
from netcfg.serving.schemas import (
    MAX_REQUESTS,
    RecommendRequest,
    ScoreRequest,
    parse_body,
    validate,
)
from netcfg.serving.scoring import score
from netcfg.serving.served import ServedModel
from netcfg.serving.settings import ServeSettings

__all__ = ["ENDPOINTS", "ServerState", "create_app"]

ENDPOINTS = ("/recommend", "/score", "/health", "/ready", "/models", "/metrics")
_DOCS = ("/openapi.json", "/docs", "/docs/oauth2-redirect")
_JSON = "application/json"


@dataclass
class ServerState:
    """What the endpoints share: the models, their batchers, the metrics.

    Attributes:
        models: served models by name; ``default`` answers requests that name none.
        ready: the models are loaded and the batchers run.
        draining: SIGTERM arrived; requests in flight are being finished.
        arriving: /recommend requests being read, not yet queued for a batch.
    """

    models: dict[str, ServedModel]
    default: str
    metrics: Metrics
    executor: ThreadPoolExecutor
    batchers: dict[str, MicroBatcher] = field(default_factory=dict)
    ready: bool = False
    draining: bool = False
    arriving: int = 0

    def model(self, name: str | None, prefix: str = "") -> ServedModel:
        """The model a request names (None: the default).

        Raises:
            RequestError: 404 for a name no served model has.
        """
        if name is None:
            return self.models[self.default]
        if name not in self.models:
            served = ", ".join(sorted(self.models))
            raise RequestError(
                404, f"{prefix}model", f"no model '{name}' is served here (served: {served})"
            )
        return self.models[name]


def create_app(
    models: Sequence[ServedModel], settings: ServeSettings, token: str | None = None
) -> FastAPI:
    """The application serving ``models`` (the first is the default).

    Args:
        models: loaded models (`served.load_served_model`), names unique.
        settings: batching and limits.
        token: the bearer token every request must carry, or None.
    """
    metrics = Metrics(ENDPOINTS + _DOCS)
    state = ServerState(
        {m.name: m for m in models},
        models[0].name,
        metrics,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="netcfg-model"),
    )
    for served in models:
        metrics.model(served.name, served.orientation, served.item_count)
        state.batchers[served.name] = MicroBatcher(
            partial(rank_batch, served),
            state.executor,
            max_batch=settings.max_batch,
            window=settings.batch_window_ms / 1000,
            arriving=lambda: state.arriving,
            on_batch=partial(metrics.batch, served.name),
        )

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        for batcher in state.batchers.values():
            batcher.start()
        state.ready = True
        try:
            yield
        finally:
            state.ready = False
            for batcher in state.batchers.values():
                await batcher.stop()
            state.executor.shutdown(wait=True)

    app = FastAPI(
        title="netcfg",
        version=__version__,
        description="Recommendations from trained netcfg models.",
        lifespan=lifespan,
        redoc_url=None,
    )
    app.state.netcfg = state
    _add_error_handlers(app)
    _add_routes(app, state)
    app.openapi = partial(describe, app)
    app.add_middleware(Guard, metrics=metrics, token=token, max_body_bytes=settings.max_body_bytes)
    return app


def _json(value, status: int = 200) -> Response:
    return JSONResponse(value, status_code=status)


def _add_routes(app: FastAPI, state: ServerState) -> None:
    @app.get("/health", summary="the process answers")
    async def health() -> dict:
        return {"status": "ok"}

    @app.get("/ready", summary="models loaded and not draining", responses={503: {}})
    async def ready() -> Response:
        up = state.ready and not state.draining
        return _json({"ready": up, "models": sorted(state.models)}, 200 if up else 503)

    @app.get("/models", summary="the served models")
    async def models() -> dict:
        return {
            "default": state.default,
            "netcfg": __version__,
            "models": [m.info(m.name == state.default) for m in state.models.values()],
        }

    @app.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(
            state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    async def recommend(request: Request) -> Response:
        state.arriving += 1
        try:
            jobs, single = await _jobs(request)
        finally:
            state.arriving -= 1
        if single:
            name, job = jobs[0]
            return _json(await state.batchers[name].submit(job))
        answers = await asyncio.gather(*(state.batchers[n].submit(job) for n, job in jobs))
        return _json(answers)

    async def _jobs(request: Request) -> tuple[list, bool]:
        """The prepared requests of a /recommend body, and whether it held one object."""
        body = parse_body(await request.body())
        single = not isinstance(body, list)
        items = [body] if single else body
        if not items or len(items) > MAX_REQUESTS:
            raise RequestError(
                422, "body", f"give 1 to {MAX_REQUESTS:,} requests (got {len(items):,})"
            )
        jobs = []
        for at, item in enumerate(items):
            prefix = "" if single else f"[{at}]."
            wanted = validate(RecommendRequest, item, () if single else (at,))
            served = state.model(wanted.model, prefix)
            jobs.append((served.name, prepare(served, wanted, prefix)))
        return jobs, single

    async def score_pairs(request: Request) -> Response:
        wanted = validate(ScoreRequest, parse_body(await request.body()))
        served = state.model(wanted.model)
        loop = asyncio.get_running_loop()
        return _json(await loop.run_in_executor(state.executor, score, served, wanted))

    # plain Starlette routes: FastAPI's parameter machinery would double the cost of a
    # request; `openapi.describe` documents them
    app.add_route("/recommend", recommend, methods=["POST"])
    app.add_route("/score", score_pairs, methods=["POST"])


def _add_error_handlers(app: FastAPI) -> None:
    async def refused(_request: Request, err: RequestError) -> Response:
        return Response(err.body(), status_code=err.status, media_type=_JSON)

    async def http_error(request: Request, err: HTTPException) -> Response:
        if err.status_code == 404:
            message = f"no endpoint {request.url.path}; see /docs"
        elif err.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; see /docs"
        else:
            message = str(err.detail)
        return Response(
            error_body(None, message),
            status_code=err.status_code,
            media_type=_JSON,
            headers=getattr(err, "headers", None),
        )

    async def invalid(_request: Request, err: RequestValidationError) -> Response:
        first = err.errors()[0] if err.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"]) or None
        return Response(error_body(where, first["msg"]), status_code=422, media_type=_JSON)

    app.add_exception_handler(RequestError, refused)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
