"""Which runbooks fit an incident, and in which order."""

from __future__ import annotations

from pathlib import Path

from bot.config.model import Config
from bot.runbooks import Runbook, RunbookMeta, matching_runbooks

SEVERITY = {"name": "x", "respond_within": "1h", "notify": "owner"}
CONFIG = Config.model_validate(
    {
        "severities": dict.fromkeys(("P0", "P1", "P2", "P3"), SEVERITY),
        "teams": {"ml": {"name": "ML"}},
        "areas": {"model": {"name": "Model", "responsible": "ml", "accountable": "U01LEAD"}},
        "services": {
            "checkout": {"area": "model", "runbooks": ["listed-second", "listed-first"]},
            "search": {"area": "model"},
        },
    }
)


def runbook(name: str, **meta: list[str]) -> Runbook:
    """A runbook with front matter `meta`."""
    return Runbook(name, name, Path(f"{name}.md"), "", meta=RunbookMeta(**meta))  # type: ignore[arg-type]


def index(*books: Runbook) -> dict[str, Runbook]:
    """Runbooks by name, as `load_runbooks` gives them."""
    return {book.name: book for book in sorted(books, key=lambda b: b.name)}


def names(found: list[Runbook]) -> list[str]:
    """The names of runbooks, in order."""
    return [book.name for book in found]


def match(books: dict[str, Runbook], **incident: object) -> list[str]:
    """The names of the runbooks that fit an incident of service checkout, area model, P1."""
    values: dict[str, object] = {"service": "checkout", "area": "model", "severity": "P1"}
    values.update(incident)
    return names(matching_runbooks(books, CONFIG, **values))  # type: ignore[arg-type]


def test_service_listed_runbooks_come_first_in_config_order() -> None:
    """The config's `runbooks:` of the service lead, in its order, whatever they say."""
    books = index(
        runbook("listed-first", severities=["P3"]),
        runbook("listed-second"),
        runbook("alert-one", alerts=["HighErrorRate"]),
    )
    assert match(books, alerts=["HighErrorRate"]) == ["listed-second", "listed-first", "alert-one"]


def test_rank_is_alert_then_service_then_area_then_severity_then_general() -> None:
    """Each runbook ranks by the most specific thing it matches; general ones come last."""
    books = index(
        runbook("a-general"),
        runbook("b-severity", severities=["P1"]),
        runbook("c-area", areas=["model"]),
        runbook("d-service", services=["checkout"]),
        runbook("e-alert", alerts=["HighErrorRate"]),
    )
    assert match(books, alerts=["HighErrorRate"]) == [
        "e-alert",
        "d-service",
        "c-area",
        "b-severity",
        "a-general",
    ]


def test_within_a_rank_runbooks_are_ordered_by_name() -> None:
    """Two area runbooks come in name order."""
    books = index(runbook("zeta", areas=["model"]), runbook("alpha", areas=["model"]))
    assert match(books) == ["alpha", "zeta"]


def test_a_runbook_must_fit_on_everything_it_names() -> None:
    """`services: [search]` with `severities: [P1]` is not for a P1 of checkout."""
    books = index(
        runbook("search-p1", services=["search"], severities=["P1"]),
        runbook("model-p0", areas=["model"], severities=["P0"]),
        runbook("model-p1-or-p2", areas=["model"], severities=["P1", "P2"]),
    )
    assert match(books) == ["model-p1-or-p2"]


def test_alert_runbooks_need_the_alert() -> None:
    """A runbook for an alert does not fit an incident without that alert."""
    books = index(runbook("latency", alerts=["HighLatency"]))
    assert match(books) == []
    assert match(books, alerts=["Other", "HighLatency"]) == ["latency"]


def test_incident_without_service_skips_service_runbooks() -> None:
    """Declared by area only: no listed runbooks, none that name services."""
    books = index(runbook("listed-first"), runbook("svc", services=["checkout"]))
    assert match(books, service=None) == ["listed-first"]
    books = index(runbook("svc", services=["checkout"]), runbook("area", areas=["model"]))
    assert match(books, service=None) == ["area"]


def test_no_runbook_is_shown_twice() -> None:
    """A listed runbook that also matches its front matter appears once, as listed."""
    books = index(runbook("listed-first", services=["checkout"]), runbook("b", areas=["model"]))
    assert match(books) == ["listed-first", "b"]


def test_listed_runbooks_missing_from_the_folder_are_skipped() -> None:
    """A name the folder lacks (the config check reports it) is left out."""
    assert match(index(runbook("listed-second"))) == ["listed-second"]


def test_an_area_runbook_that_also_names_alerts_fits_an_incident_declared_by_hand() -> None:
    """`alerts:` ranks a runbook first when its alert fires; it never hides it otherwise."""
    books = index(runbook("infra", areas=["model"], alerts=["HighErrorRate"]))
    assert match(books) == ["infra"]
    assert match(books, area="other") == []


def test_an_alert_of_the_incident_brings_its_runbook_whatever_else_it_names() -> None:
    """The incident's own alert names the runbook: area and severity are not asked."""
    books = index(runbook("latency", areas=["other"], alerts=["HighLatency"]))
    assert match(books, alerts=["HighLatency"]) == ["latency"]
