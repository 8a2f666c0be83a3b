"""Structuring JSON: the generated fast path agrees with cattrs, and falls back when unsure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import cattrs
import pytest

from llama_models import ChatCompletion, Model, ModelList, _converter
from llama_models._fastpath import Mismatch, fast_structure_fn


@attrs.frozen
class Inner:
    name: str
    score: float = 0.0


@attrs.frozen(kw_only=True)
class Outer:
    items: Sequence[Inner]
    tags: Sequence[str] = ()
    note: str | None = None
    extra: Mapping[str, Any] | None = None
    inner: Inner | None = None
    flag: bool = False


CONVERTER = cattrs.Converter()
FAST = fast_structure_fn(Outer, CONVERTER)


@pytest.mark.parametrize(
    "data",
    [
        {"items": []},
        {"items": [{"name": "a"}, {"name": "b", "score": 2}], "tags": ["x"], "note": "n"},
        {"items": [{"name": "a", "score": 0.5}], "note": None, "extra": {"k": [1]}},
        {"items": [], "inner": {"name": "i"}, "flag": True},
    ],
)
def test_fast_path_matches_cattrs(data: dict[str, Any]) -> None:
    """On JSON of the exact form, the fast path builds what cattrs builds."""
    assert FAST(data) == CONVERTER.structure(data, Outer)


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"items": "nope"},
        {"items": [{"name": 1}]},
        {"items": [{"name": "a", "score": "high"}]},
        {"items": [], "tags": [1]},
        {"items": [], "flag": 1},
        {"items": [], "note": 3},
    ],
)
def test_fast_path_refuses_what_it_does_not_expect(data: Any) -> None:
    """Anything but the exact form raises Mismatch (or a lookup error) instead of guessing."""
    with pytest.raises((Mismatch, KeyError, TypeError)):
        FAST(data)


def test_fast_path_refuses_factory_defaults() -> None:
    """A class with a factory default gets no fast path (it would share the default)."""

    @attrs.frozen
    class WithFactory:
        values: list[int] = attrs.Factory(list)

    with pytest.raises(TypeError, match="no fast path"):
        fast_structure_fn(WithFactory, CONVERTER)


def test_structure_falls_back_to_cattrs_when_lenient() -> None:
    """Outside strict mode, data the fast path refuses still structures when cattrs accepts it."""
    _converter.set_strict(False)
    try:
        models = _converter.structure(
            {"data": [{"id": "m", "created": 1.0, "unknown": True}]}, ModelList
        )
    finally:
        _converter.set_strict(True)
    assert models == ModelList(data=(Model(id="m", created=1, object="model", owned_by=""),))


def test_structure_explains_failures_by_path() -> None:
    """A failure names the class, the path and the expected type."""
    with pytest.raises(
        _converter.StructureError, match=r"expected int @ ModelList\.data\[0\]\.created"
    ):
        _converter.structure({"data": [{"id": "m", "created": "soon"}]}, ModelList)


def test_strict_mode_forbids_unknown_keys() -> None:
    """The test suite's strict mode rejects keys the classes do not know."""
    with pytest.raises(_converter.StructureError, match="extra fields"):
        _converter.structure({"id": "m", "created": 1, "colour": "red"}, Model)


def test_unstructure_gives_the_wire_shape() -> None:
    """Unstructuring returns the JSON the API sends."""
    model = Model(id="m", created=1, object="model", owned_by="Meta")
    assert _converter.unstructure(model) == {
        "id": "m",
        "created": 1,
        "object": "model",
        "owned_by": "Meta",
    }


def test_classes_with_hooks_are_built_through_init() -> None:
    """A class with a validator or a post-init hook is constructed by calling it."""
    calls: list[str] = []

    @attrs.frozen
    class Checked:
        name: str = attrs.field(validator=attrs.validators.min_len(1))

        def __attrs_post_init__(self) -> None:
            calls.append(self.name)

    structure = fast_structure_fn(Checked, CONVERTER)
    assert structure({"name": "ok"}) == Checked("ok")
    assert calls == ["ok", "ok"]
    with pytest.raises(ValueError, match="Length of 'name'"):
        structure({"name": ""})


def test_objects_built_through_slots_stay_frozen() -> None:
    """The fast path's objects are as immutable and hashable as constructed ones."""
    built = FAST({"items": [{"name": "a"}]})
    assert hash(built) == hash(Outer(items=(Inner("a"),)))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.note = "changed"


# Answers from a server newer than this SDK: a new assistant role; a metric that is
# not a whole number next to one that is.
NEW_ROLE = {
    "completion_message": {"role": "assistant_v2", "content": {"type": "text", "text": "Hi"}}
}
FRACTIONAL = {
    "completion_message": {"role": "assistant", "content": {"type": "text", "text": "Hi"}},
    "metrics": [
        {"metric": "num_completion_tokens", "value": 2.5, "unit": "tokens"},
        {"metric": "num_prompt_tokens", "value": 3, "unit": "tokens"},
    ],
}
COMPLETION_PATHS = {
    "fast path": fast_structure_fn(ChatCompletion, _converter._lenient, _converter.UNIONS),
    "cattrs": lambda data: _converter._lenient.structure(data, ChatCompletion),
    "strict cattrs": lambda data: _converter._strict.structure(data, ChatCompletion),
}


@pytest.mark.parametrize("path", COMPLETION_PATHS.values(), ids=COMPLETION_PATHS.keys())
def test_an_unknown_assistant_role_is_kept(path: Any) -> None:
    """A role newer than this SDK structures on every path, and the message reports it."""
    completion = path(NEW_ROLE)
    assert completion.completion_message.role == "assistant_v2"
    assert completion.text == "Hi"


@pytest.mark.parametrize("path", COMPLETION_PATHS.values(), ids=COMPLETION_PATHS.keys())
def test_metric_values_keep_the_number_the_server_sent(path: Any) -> None:
    """On every path a fraction stays a float and an integer stays an int."""
    values = [metric.value for metric in path(FRACTIONAL).metrics]
    assert values == [2.5, 3]
    assert [type(value) for value in values] == [float, int]


def test_a_metric_value_that_is_not_a_number_is_explained() -> None:
    """A metric value that is no number fails with the path and the expected type."""
    data = {"completion_message": {}, "metrics": [{"metric": "n", "value": "lots"}]}
    with pytest.raises(
        _converter.StructureError,
        match=r"expected int \| float @ ChatCompletion\.metrics\[0\]\.value",
    ):
        _converter.structure(data, ChatCompletion)


@attrs.frozen
class Reading:
    value: int | float | None = None


@pytest.mark.parametrize(
    ("data", "expected"),
    [({"value": 1}, 1), ({"value": 0.5}, 0.5), ({"value": None}, None), ({}, None)],
)
def test_an_optional_number_keeps_none_and_numbers(data: dict[str, Any], expected: Any) -> None:
    """An ``int | float | None`` field keeps None and the number's own type, on both paths."""
    converter = _converter._register_hooks(cattrs.Converter())
    fast = fast_structure_fn(Reading, converter)
    for structured in (fast(data), converter.structure(data, Reading)):
        assert structured == Reading(expected)
        assert type(structured.value) is type(expected)
