"""Reading request bodies: one orjson pass with the nesting limit, the strict path for every refusal."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.json_text import ORJSON_MAX_DEPTH, TooDeep, UnrepresentableJson, json_depth, loads, strict_loads

JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False,
                    allow_infinity=False) | st.text(), lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(JSON, st.integers(1, 80))
def test_the_fast_path_reads_what_the_strict_path_reads_and_the_same_depth(value, limit) -> None:
    raw = json.dumps(value).encode()
    if json_depth(raw) > limit:
        with pytest.raises(TooDeep):
            loads(raw, max_depth=limit)
    else:
        assert loads(raw, max_depth=limit) == strict_loads(raw) == value


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40) | st.text(max_size=40).map(str.encode))
def test_arbitrary_bytes_are_never_accepted_unless_the_strict_path_accepts_them(raw) -> None:
    try:
        fast = loads(raw, max_depth=5)
    except ValueError:
        return
    assert fast == strict_loads(raw)


@pytest.mark.parametrize("raw", [b"1,2", b"1],[2", b"1]]", b"]", b"[1]]][[[1", b"{}]"])
def test_text_that_would_close_the_depth_wrappers_is_not_json(raw) -> None:
    with pytest.raises(ValueError):
        loads(raw, max_depth=ORJSON_MAX_DEPTH - 2)


def test_depth_at_the_limit_is_read_and_one_more_is_refused() -> None:
    assert loads(b"[" * 64 + b"]" * 64, max_depth=64) is not None
    with pytest.raises(TooDeep):
        loads(b"[" * 65 + b"]" * 65, max_depth=64)
    with pytest.raises(TooDeep):  # beyond orjson's own limit too
        loads(b'{"a":' * 5000 + b"1" + b"}" * 5000, max_depth=64)


def test_refusals_say_exactly_what_is_wrong() -> None:
    with pytest.raises(UnrepresentableJson) as caught:
        loads(b'{"dose": {"value": 1e999}}', max_depth=64)
    assert caught.value.problems[0][0] == "dose.value"
    with pytest.raises(UnrepresentableJson):
        loads(b'{"name": "\\ud800"}', max_depth=64)
    with pytest.raises(ValueError, match="NaN is not a JSON number"):
        loads(b'{"t": NaN}', max_depth=64)
    with pytest.raises(UnicodeDecodeError):
        loads(b'{"t": "\xff"}', max_depth=64)
    with pytest.raises(json.JSONDecodeError):
        loads(b'{"t": 1', max_depth=64)
    assert loads(b"\xef\xbb\xbf{}", max_depth=64) == {}  # a UTF-8 BOM is tolerated, as before
