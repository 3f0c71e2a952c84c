"""``netcfg serve``: an HTTP service over trained models, a thin layer over
`netcfg.inference` (the code ``netcfg predict`` runs).

- `settings`: what the command line chose (models, address, batching, limits, token).
- `served`: a model loaded once per worker, read-only, with its known users' rows.
- `schemas`: the JSON requests, validated with one-line errors naming the field.
- `recommending`: a request prepared as one input row; a batch of them ranked at once.
- `scoring`: (user, item) pairs scored as ``predict --pairs`` scores them.
- `batching`: concurrent requests gathered into micro-batches (an asyncio queue).
- `metrics`: counters and histograms in Prometheus' text format.
- `guard`: the ASGI middleware: bearer token, body size limit, metrics, no tracebacks.
- `app`: the FastAPI application and its endpoints; `openapi`: their description.
- `server`: uvicorn, one process or several workers, draining on SIGTERM.

FastAPI and uvicorn are the ``serve`` extra (``pip install 'netcfg[serve]'``); only
`settings` may be imported without them.
"""
