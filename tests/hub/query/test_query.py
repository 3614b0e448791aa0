"""The q language: each operator, precedence, paths, types and errors."""

from __future__ import annotations

from typing import Any

import pytest

from cityos.core.errors import Invalid
from cityos.hub.ngsi.query import compile_regex, parse_instant, parse_q

V = "https://uri.etsi.org/ngsi-ld/default-context/"


def expand(term: str) -> str:
    return term if ":" in term else V + term


def prop(value: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **extra}


ENTITY: dict[str, Any] = {
    "id": "urn:ngsi-ld:Sensor:1",
    "type": V + "Sensor",
    V + "temperature": prop(21.5, observedAt="2024-01-01T10:00:00Z", unitCode="CEL", **{V + "accuracy": prop(0.5)}),
    V + "count": prop(7),
    V + "status": prop("free"),
    V + "active": prop(True),
    V + "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"},
    V + "address": prop({"street": {"name": "Main"}, "city": "Chengdu", "zip": 610000}),
    V + "tags": prop(["red", "blue"]),
    V + "name": {"type": "LanguageProperty", "languageMap": {"en": "Bin", "zh": "垃圾桶"}},
    V + "dateObserved": prop({"@type": "DateTime", "@value": "2024-05-01T08:00:00Z"}),
    V + "reading": [prop(3, datasetId="urn:a"), prop(30, datasetId="urn:b")],
}


def m(q: str, entity: dict[str, Any] | None = None) -> bool:
    return parse_q(q, expand).matches(ENTITY if entity is None else entity)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("temperature==21.5", True),
        ("temperature==21", False),
        ("temperature!=21", True),
        ("temperature!=21.5", False),
        ("temperature>21", True),
        ("temperature>21.5", False),
        ("temperature>=21.5", True),
        ("temperature<22", True),
        ("temperature<21.5", False),
        ("temperature<=21.5", True),
        ("count==7", True),
        ("count==7.0", True),
        ('status=="free"', True),
        ("status==free", True),
        ('status=="occupied"', False),
        ('status>"a"', True),
        ("active==true", True),
        ("active==false", False),
        ("active==1", False),
        ("count==true", False),
        ("status==7", False),
    ],
)
def test_comparisons(q: str, expected: bool) -> None:
    assert m(q) is expected


def test_ranges_and_value_lists() -> None:
    assert m("temperature==20..22")
    assert not m("temperature==22..30")
    assert m("temperature!=22..30")
    assert not m("temperature!=20..22")
    assert m('status=="occupied","free"')
    assert not m('status=="occupied","closed"')
    assert m('status!="occupied","closed"')
    assert m("count==1,7,9")
    assert m('status=="a".."g"')
    assert m("dateObserved==2024-05-01T00:00:00Z..2024-05-02T00:00:00Z")


def test_regex_operators() -> None:
    assert m('status~="^fr"')
    assert not m('status~="^oc"')
    assert m('status!~="^oc"')
    assert not m('status!~="^fr"')
    assert m('name~="垃圾"')  # any string of a LanguageProperty
    assert not m('count~="7"')  # a number is not text
    assert m("status~=(?i)FREE")


@pytest.mark.parametrize("pattern", ["(a+)+", "(a|aa)*b", "(.*a){20}", r"(a)\1", "x" * 300, "([a-z]"])
def test_unsafe_or_broken_regex_is_refused(pattern: str) -> None:
    with pytest.raises(Invalid) as exc:
        compile_regex(pattern)
    assert exc.value.details[0].field == "q"


def test_precedence_and_parentheses() -> None:
    # ";" binds tighter than "|": false;false | true == true
    assert m("count==1;status==free|active==true")
    assert m("active==true|count==1;status==x")
    assert not m("(active==true|count==1);status==x")
    assert m("(status==x|status==free);(count>5;count<10)")
    assert not m("((status==x))")


def test_exists_and_not_exists() -> None:
    assert m("temperature")
    assert not m("missing")
    assert m("!missing")
    assert not m("!temperature")
    assert m("!missing;status==free")
    # a comparison on a missing attribute never matches, != included
    assert not m("missing!=1")


def test_paths_sub_attributes_metadata_compound_members() -> None:
    assert m("temperature.accuracy<1")
    assert not m("temperature.accuracy>1")
    assert m('temperature.unitCode=="CEL"')
    assert m("temperature.observedAt>=2024-01-01T09:00:00Z")
    assert m("temperature.observedAt<2024-01-01T11:00:00+01:00") is False
    assert m('address[city]=="Chengdu"')
    assert m('address[street.name]=="Main"')
    assert m('address[street][name]=="Main"')
    assert m("address[zip]==610000")
    assert not m("address[nothing]==1")
    assert m("address[street]")
    assert not m("address[nothing]")


def test_relationship_language_list_and_multi_instance() -> None:
    assert m('owner=="urn:ngsi-ld:Person:1"')
    assert m("owner==urn:ngsi-ld:Person:1")
    assert not m('owner=="urn:ngsi-ld:Person:2"')
    assert m('name=="Bin"')
    assert m('name[zh]=="垃圾桶"')
    assert not m('name[en]=="垃圾桶"')
    assert m('tags=="blue"')
    assert not m('tags=="green"')
    assert m("reading>20")  # one instance of two
    assert m("reading<5")
    assert not m("reading>50")
    assert m('reading.datasetId=="urn:b"')


def test_datetimes_compare_as_instants() -> None:
    assert m("dateObserved==2024-05-01T10:00:00+02:00")
    assert m("dateObserved>2024-05-01")
    assert m("dateObserved<2024-05-01T08:00:01Z")
    assert not m("dateObserved>2024-05-01T08:00:00Z")
    assert parse_instant("2024-05-01T08:00:00") == parse_instant("2024-05-01T08:00:00Z")
    assert parse_instant("not a date") is None


def test_attributes_are_the_expanded_names_read() -> None:
    predicate = parse_q("(a==1|b.c>2);d[e]==3;!f;sdm:x==1", expand)
    assert predicate.attributes == frozenset({V + "a", V + "b", V + "d", V + "f", "sdm:x"})


def test_names_are_expanded_with_the_callable() -> None:
    calls: list[str] = []

    def recording(term: str) -> str:
        calls.append(term)
        return "https://example.org/" + term

    predicate = parse_q("speed>3", recording)
    assert calls == ["speed"]
    assert predicate.matches({"https://example.org/speed": prop(4)})
    assert not predicate.matches({V + "speed": prop(4)})


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("", "The query is empty."),
        ("   ", "The query is empty."),
        ("a==", "A value is expected at character {position}."),
        ("(a==1", "A closing parenthesis is missing in the query."),
        ("a==1)", "The query is not valid at character {position}."),
        ('a=="x', "A quoted string in the query is not closed."),
        ("==1", "An attribute name is expected at character {position}."),
        ("a==1;;b", "An attribute name is expected at character {position}."),
        ("a==1|", "An attribute name is expected at character {position}."),
        ("a==1..", "A value is expected at character {position}."),
        ("a>1,2", "This operator cannot be used with a list or a range of values."),
        ("a>=1..3", "This operator cannot be used with a list or a range of values."),
        ('a==1.."x"', "A range in the query needs two values of the same kind."),
        ("a[b==1", "The query is not valid at character {position}."),
        ("a==b=c", "A value is expected at character {position}."),
        ("a" * 5000, "The query is longer than {limit} characters."),
        ("(" * 40 + "a" + ")" * 40, "The query is nested too deeply."),
        ('a~="(x+)+"', "The regular expression in the query is not valid or too complex."),
    ],
)
def test_syntax_errors_are_field_errors_on_q(q: str, message: str) -> None:
    with pytest.raises(Invalid) as exc:
        parse_q(q, expand)
    detail = exc.value.details[0]
    assert detail.field == "q"
    assert detail.message == message


def test_error_position_points_at_the_problem() -> None:
    with pytest.raises(Invalid) as exc:
        parse_q("a==1;b==", expand)
    assert exc.value.details[0].params == {"position": 9}
