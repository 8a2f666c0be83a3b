"""Moderations: Llama Guard's verdict on a conversation."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from attrs import field, frozen

from ._wire import WireObject

__all__ = ["ModerationResult", "Moderation"]


@frozen
class ModerationResult(WireObject):
    """The verdict on the conversation.

    Attributes:
        flagged: whether any hazard category applies.
        flagged_categories: the categories that apply, such as ``"privacy"``.
    """

    flagged: bool
    flagged_categories: Sequence[str] = field(default=())


@frozen
class Moderation(WireObject):
    """The answer of ``moderations.create``.

    ``moderation.flagged`` tells whether any result is flagged; iterate it for
    the results themselves.

    Attributes:
        model: the safety model that judged, such as ``"Llama-Guard"``.
        results: the verdicts (one per request, as the API behaves today).
    """

    model: str
    results: Sequence[ModerationResult]

    @property
    def flagged(self) -> bool:
        """Whether any result is flagged."""
        return any(result.flagged for result in self.results)

    @property
    def flagged_categories(self) -> list[str]:
        """Every flagged category across the results, each once, in order."""
        seen: dict[str, None] = {}
        for result in self.results:
            seen.update(dict.fromkeys(result.flagged_categories))
        return list(seen)

    def __iter__(self) -> Iterator[ModerationResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)
