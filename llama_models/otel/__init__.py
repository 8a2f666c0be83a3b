"""OpenTelemetry tracing and metrics for llama-models: ``pip install llama-models-client[otel]``.

Importing this module imports ``opentelemetry-api``; ``import llama_models``
does not. See `Telemetry` and the observability guide.
"""

from __future__ import annotations

from ._telemetry import CAPTURE_CONTENT_ENV, Telemetry

__all__ = ["CAPTURE_CONTENT_ENV", "Telemetry"]
