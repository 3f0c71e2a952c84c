"""Counters and histograms, exposed at ``GET /metrics`` in Prometheus' text format.

- ``netcfg_requests_total{endpoint,status}``: answered requests;
- ``netcfg_request_errors_total{endpoint,status}``: those answered with a 4xx or 5xx;
- ``netcfg_request_duration_seconds{endpoint}``: a histogram of the time to answer;
- ``netcfg_batch_size{model}``: a histogram of the requests ranked per forward pass;
- ``netcfg_model_info{model,orientation,items}``: 1 per served model.

Endpoints outside the application's own are counted as ``other``, so a scan of random
paths cannot grow the label set. Each worker process counts its own requests (Prometheus
sums the workers it scrapes).
"""

from __future__ import annotations

import threading
from collections import defaultdict

__all__ = ["BATCH_BUCKETS", "LATENCY_BUCKETS", "Metrics"]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class _Histogram:
    def __init__(self, buckets: tuple):
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.total = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
                break
        self.total += value
        self.count += 1

    def lines(self, name: str, labels: str) -> list[str]:
        out, cumulative = [], 0
        sep = "," if labels else ""
        for bound, count in zip(self.buckets, self.counts, strict=True):
            cumulative += count
            out.append(f'{name}_bucket{{{labels}{sep}le="{_number(bound)}"}} {cumulative}')
        out.append(f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.count}')
        out.append(f"{name}_sum{{{labels}}} {_number(self.total)}")
        out.append(f"{name}_count{{{labels}}} {self.count}")
        return out


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """The server's counters (safe to update from any thread).

    Args:
        endpoints: the paths counted by name; any other path counts as ``other``.
    """

    def __init__(self, endpoints: tuple[str, ...]):
        self.endpoints = frozenset(endpoints)
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, int], int] = defaultdict(int)
        self._latency: dict[str, _Histogram] = {}
        self._batches: dict[str, _Histogram] = {}
        self._models: dict[str, tuple[str, int]] = {}

    def endpoint(self, path: str) -> str:
        """The label of a request path."""
        return path if path in self.endpoints else "other"

    def request(self, path: str, status: int, seconds: float) -> None:
        """Count an answered request."""
        endpoint = self.endpoint(path)
        with self._lock:
            self._requests[endpoint, status] += 1
            if endpoint not in self._latency:
                self._latency[endpoint] = _Histogram(LATENCY_BUCKETS)
            self._latency[endpoint].observe(seconds)

    def batch(self, model: str, size: int) -> None:
        """Count a batch of ``size`` requests ranked together for ``model``."""
        with self._lock:
            if model not in self._batches:
                self._batches[model] = _Histogram(BATCH_BUCKETS)
            self._batches[model].observe(size)

    def model(self, name: str, orientation: str, items: int) -> None:
        """Declare a served model."""
        with self._lock:
            self._models[name] = (orientation, items)

    def render(self) -> str:
        """Every metric in Prometheus' text exposition format (version 0.0.4)."""
        with self._lock:
            lines = [
                "# HELP netcfg_requests_total Requests answered, by endpoint and status code.",
                "# TYPE netcfg_requests_total counter",
            ]
            for (endpoint, status), count in sorted(self._requests.items()):
                lines.append(
                    f'netcfg_requests_total{{endpoint="{_escape(endpoint)}",status="{status}"}} '
                    f"{count}"
                )
            lines += [
                "# HELP netcfg_request_errors_total Requests answered with a 4xx or 5xx status.",
                "# TYPE netcfg_request_errors_total counter",
            ]
            for (endpoint, status), count in sorted(self._requests.items()):
                if status >= 400:
                    lines.append(
                        f'netcfg_request_errors_total{{endpoint="{_escape(endpoint)}",'
                        f'status="{status}"}} {count}'
                    )
            lines += [
                "# HELP netcfg_request_duration_seconds Time to answer a request.",
                "# TYPE netcfg_request_duration_seconds histogram",
            ]
            for endpoint, histogram in sorted(self._latency.items()):
                labels = f'endpoint="{_escape(endpoint)}"'
                lines += histogram.lines("netcfg_request_duration_seconds", labels)
            lines += [
                "# HELP netcfg_batch_size Recommendation requests ranked in one forward pass.",
                "# TYPE netcfg_batch_size histogram",
            ]
            for model, histogram in sorted(self._batches.items()):
                lines += histogram.lines("netcfg_batch_size", f'model="{_escape(model)}"')
            lines += [
                "# HELP netcfg_model_info A served model (always 1).",
                "# TYPE netcfg_model_info gauge",
            ]
            for name, (orientation, items) in sorted(self._models.items()):
                lines.append(
                    f'netcfg_model_info{{model="{_escape(name)}",orientation="{orientation}",'
                    f'items="{items}"}} 1'
                )
        return "\n".join(lines) + "\n"
