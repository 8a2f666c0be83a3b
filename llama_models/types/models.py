"""Models: the Llama models the API serves."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import overload

from attrs import frozen

from ._wire import WireObject

__all__ = ["Model", "ModelList"]


@frozen
class Model(WireObject):
    """One model the API can serve.

    Attributes:
        id: the identifier to pass as ``model`` in other calls.
        created: when the model was created, in Unix seconds.
        object: the object type, always ``"model"``.
        owned_by: the owner of the model, such as ``"Meta"``.
    """

    id: str
    created: int
    object: str = "model"
    owned_by: str = ""

    @property
    def created_at(self) -> datetime:
        """`created` as an aware UTC :class:`~datetime.datetime`."""
        return datetime.fromtimestamp(self.created, tz=timezone.utc)


@frozen
class ModelList(WireObject, Sequence[Model]):
    """The answer of ``models.list()``: the models, in the server's order.

    It is a ``Sequence[Model]``, so ``for model in client.models.list()``,
    ``len(...)``, indexing and slicing work directly.

    Attributes:
        data: the models.
        object: the object type, ``"list"``.
    """

    data: Sequence[Model]
    object: str = "list"

    def __iter__(self) -> Iterator[Model]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    @overload
    def __getitem__(self, index: int) -> Model: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Model]: ...

    def __getitem__(self, index: int | slice) -> Model | Sequence[Model]:
        return self.data[index]

    @property
    def ids(self) -> list[str]:
        """The ids of the models, in order."""
        return [model.id for model in self.data]
