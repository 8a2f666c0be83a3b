"""What the run_tools tests share: the weather tools, their arguments and the turns they make."""

from __future__ import annotations

import asyncio
import datetime
import enum
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import attrs

from llama_models.testing import ChatReply

MODEL = "Llama-4-Maverick-17B-128E-Instruct-FP8"
HELLO = [{"role": "user", "content": "What is the weather in Paris, and the time in Lyon?"}]
ANSWER = "It is 21.5 °C in Paris, and 14:05 in Lyon."
TODAY = datetime.date(2024, 5, 1)


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


@attrs.frozen
class Place:
    city: str
    country: str = "FR"


@attrs.frozen
class Forecast:
    place: Place
    day: datetime.date
    unit: Unit
    temperature: float


Seen = list[tuple[str, tuple[Any, ...]]]
WEATHER_ARGS = {"place": {"city": "Paris"}, "unit": "celsius", "detail": "full"}
TIME_ARGS = {"place": {"city": "Lyon", "country": "FR"}}
FORECAST_JSON = {
    "place": {"city": "Paris", "country": "FR"},
    "day": "2024-05-01",
    "unit": "celsius",
    "temperature": 21.5,
}


def weather_tools(
    seen: Seen, threads: dict[str, int] | None = None
) -> tuple[Callable[..., Forecast], Callable[..., Awaitable[str]]]:
    """A sync and an async tool that note each call in *seen*, and their thread in *threads*."""
    threads = {} if threads is None else threads

    def get_weather(
        place: Place, unit: Unit, detail: Literal["brief", "full"] = "brief"
    ) -> Forecast:
        """Look up today's weather somewhere.

        Args:
            place: the city and country to look up.
            unit: the unit of the temperature.
            detail: how much to say.
        """
        seen.append(("get_weather", (place, unit, detail)))
        threads["get_weather"] = threading.get_ident()
        return Forecast(place, TODAY, unit, 21.5)

    async def local_time(place: Place) -> str:
        """Tell the local time somewhere."""
        asyncio.get_running_loop()  # an async tool runs on an event loop
        seen.append(("local_time", (place,)))
        threads["local_time"] = threading.get_ident()
        return "14:05"

    return get_weather, local_time


def both_calls() -> ChatReply:
    return ChatReply.tool_calls(("get_weather", WEATHER_ARGS), ("local_time", TIME_ARGS))


def tool_results(body: dict[str, Any]) -> list[tuple[str, str]]:
    """The (tool_call_id, content) of every tool message in a request body."""
    return [(m["tool_call_id"], m["content"]) for m in body["messages"] if m["role"] == "tool"]
