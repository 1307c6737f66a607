"""The generated schema validators (load/schema.py `_compile`) agree with the shape walk.

`schema.check` trusts a generated validator when it accepts a resource and asks the shape walk
(`schema.walk`) otherwise, so the two can only disagree if a validator accepts something the
walk rejects. These tests build objects of every kind along the declared shapes, with wrong
types, nulls and subclasses slipped in at random, and compare.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from meshlint.load import schema
from meshlint.load.schema import OBJECTS, ListOf, Map, MapOf, Scalar, Shape


class StrSub(str):
    pass


class DictSub(dict):
    pass


WRONG = st.sampled_from([None, "text", 7, 0, True, False, 1.5, [], {}, [None], {"x": None}, ["a"], {"k": 1},
                         StrSub("s"), DictSub(a=1)])


def value_for(shape: Shape, draw, depth: int = 0):
    if draw(st.integers(0, 9)) == 0:  # one field in ten: anything at all
        return draw(WRONG)
    if isinstance(shape, Scalar):
        choices = {str: st.text(max_size=3), int: st.integers(-3, 70000), float: st.floats(allow_nan=False),
                   bool: st.booleans()}
        return draw(st.one_of(*(choices[t] for t in shape.types)))
    if isinstance(shape, Map):
        keys = draw(st.lists(st.sampled_from(sorted(shape.fields) or ["other"]), unique=True, max_size=4))
        return {k: value_for(shape.fields[k], draw, depth + 1) if k in shape.fields else 1 for k in keys}
    if isinstance(shape, MapOf):
        return {f"k{i}": value_for(shape.values, draw, depth + 1) for i in range(draw(st.integers(0, 2)))}
    if isinstance(shape, ListOf):
        return [value_for(shape.items, draw, depth + 1) for _ in range(draw(st.integers(0, 2)))]
    raise AssertionError(shape)


@settings(max_examples=1000, deadline=None)
@given(kind=st.sampled_from(sorted(OBJECTS) + ["Namespace"]), data=st.data())
def test_generated_validator_agrees_with_the_shape_walk(kind, data):
    shape = Map({"metadata": schema.METADATA, **schema._fields(OBJECTS.get(kind))})
    raw = value_for(shape, data.draw)
    if not isinstance(raw, dict):
        raw = {"metadata": raw}
    assert schema.check(kind, raw) == schema.walk(kind, raw)


def test_validator_rejects_what_the_walk_rejects_and_check_reports_the_path():
    raw = {"metadata": {"name": "x"},
           "spec": {"ports": [{"name": "http", "port": 80}, {"name": "grpc", "port": "eighty"}]}}
    assert schema.check("Service", raw) == (("spec", "ports", 1, "port"), "an integer")
    raw["spec"]["ports"][1]["port"] = True  # YAML `true` is not a port number
    assert schema.check("Service", raw) == (("spec", "ports", 1, "port"), "an integer")
    raw["spec"]["ports"][1]["port"] = 81
    assert schema.check("Service", raw) is None
    raw["spec"]["ports"].append(None)  # `- ` with nothing after it
    assert schema.check("Service", raw) == (("spec", "ports", 2), "a mapping")


def test_subclasses_are_accepted_through_the_walk():
    raw = {"metadata": DictSub(name=StrSub("x"), labels={"app": StrSub("a")})}
    assert schema.check("ConfigMap", raw) is None  # the validator is stricter, the walk decides
    assert not schema._validators["ConfigMap"](raw)
