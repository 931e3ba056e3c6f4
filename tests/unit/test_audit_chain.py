"""The audit hash chain as plain values: hashing, tampering, deletion and pruning."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from bot.audit.chain import (
    HEAD_RECREATED,
    Changed,
    HeadMismatch,
    HeadRecreated,
    Link,
    Missing,
    Point,
    canonical,
    hash_of,
    normal_detail,
    verify,
    walk,
)
from bot.audit.render import as_csv, problem_text, verdict

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
NOTHING = Point(0, "")


def chain(count: int, *, anchor: Point = NOTHING) -> list[Link]:
    """`count` records chained after `anchor`."""
    links: list[Link] = []
    before = anchor
    for n in range(count):
        link = Link(
            seq=before.seq + 1,
            at=START + timedelta(minutes=n),
            actor=f"U0{n}",
            action="incident.declared",
            object=f"INC-{n + 1}",
            source="slack",
            outcome="ok",
            incident_id=n + 1,
            detail={"severity": "P1", "n": n},
            prev_hash=before.hash,
            hash="",
        )
        link = replace(link, hash=hash_of(link))
        links.append(link)
        before = Point(link.seq, link.hash)
    return links


def head_of(links: list[Link]) -> Point:
    """The head a chain of `links` leaves."""
    return Point(links[-1].seq, links[-1].hash)


def prune(links: list[Link], upto: int) -> tuple[list[Link], Point]:
    """What pruning keeps, and the anchor it leaves."""
    gone = [link for link in links if link.seq <= upto]
    return [link for link in links if link.seq > upto], Point(gone[-1].seq, gone[-1].hash)


def test_an_untouched_chain_verifies() -> None:
    """Records chained one after another verify from the start to the head."""
    links = chain(5)
    assert verify(links, NOTHING, head_of(links)) is None


def test_an_empty_chain_verifies_when_its_head_is_at_the_anchor() -> None:
    """No records and a head at the start: nothing is wrong."""
    assert verify([], NOTHING, NOTHING) is None


def test_canonical_form_is_sorted_key_json_of_every_field_but_the_hash() -> None:
    """The hashed bytes are sorted-key JSON with the time in ISO UTC, and no hash."""
    link = chain(1)[0]
    fields = json.loads(canonical(link))
    assert list(fields) == sorted(fields)
    assert "hash" not in fields
    assert fields["at"] == "2026-03-02T10:00:00.000000+00:00"
    assert fields["prev_hash"] == ""


def test_the_same_moment_in_another_zone_hashes_the_same() -> None:
    """A time read back in another zone is the same instant, and the same hash."""
    link = chain(1)[0]
    elsewhere = replace(link, at=link.at.astimezone(timezone(timedelta(hours=2))))
    assert hash_of(elsewhere) == hash_of(link)


def test_detail_is_hashed_as_the_database_gives_it_back() -> None:
    """Tuples become lists and keys strings before hashing, as after a JSON round trip."""
    assert normal_detail({"to": ("U1", "U2"), 3: "x"}) == {"to": ["U1", "U2"], "3": "x"}
    assert normal_detail(None) == {}


def test_a_changed_field_is_found_in_its_record() -> None:
    """Changing the actor of record 3 (and nothing else) names record 3."""
    links = chain(5)
    head = head_of(links)
    links[2] = replace(links[2], actor="U0MALLORY")
    assert verify(links, NOTHING, head) == Changed(3)


def test_a_changed_detail_is_found_in_its_record() -> None:
    """Every field is covered: a changed detail names its record."""
    links = chain(5)
    head = head_of(links)
    links[1] = replace(links[1], detail={"severity": "P3", "n": 1})
    assert verify(links, NOTHING, head) == Changed(2)


def test_a_record_rehashed_after_a_change_breaks_the_next_link() -> None:
    """Recomputing a changed record's own hash shows at the next record's link."""
    links = chain(5)
    head = head_of(links)
    changed = replace(links[2], outcome="refused")
    links[2] = replace(changed, hash=hash_of(changed))
    assert verify(links, NOTHING, head) == Changed(4)


def test_a_deleted_middle_record_is_missing() -> None:
    """Deleting record 3 of 5 shows as a gap between 2 and 4."""
    links = chain(5)
    head = head_of(links)
    del links[2]
    assert verify(links, NOTHING, head) == Missing(2, 4)


def test_a_deleted_first_record_is_missing() -> None:
    """Deleting record 1 shows as a gap between the anchor and record 2."""
    links = chain(5)
    head = head_of(links)
    del links[0]
    assert verify(links, NOTHING, head) == Missing(0, 2)


def test_a_deleted_last_record_shows_at_the_head() -> None:
    """Deleting the last record leaves the head past the records."""
    links = chain(5)
    head = head_of(links)
    del links[-1]
    problem = verify(links, NOTHING, head)
    assert problem == HeadMismatch(head, Point(4, links[-1].hash))
    assert problem_text(problem) == (
        "record 5 is missing at the end (deleted): the chain's head is at seq 5, the last "
        "record kept is seq 4"
    )


def test_every_record_deleted_shows_at_the_head() -> None:
    """Deleting every record leaves a head the anchor does not reach."""
    links = chain(3)
    assert verify([], NOTHING, head_of(links)) == HeadMismatch(head_of(links), NOTHING)


def test_a_duplicated_seq_is_a_changed_record() -> None:
    """A record whose seq repeats the one before is not in the chain's order."""
    links = chain(3)
    links.insert(2, links[1])
    assert verify(links, NOTHING, head_of(chain(3))) == Changed(2)


def test_a_pruned_chain_verifies_from_its_anchor() -> None:
    """After pruning records 1-3 the rest verifies from the anchor record 3 left."""
    links = chain(6)
    kept, anchor = prune(links, 3)
    assert verify(kept, anchor, head_of(links)) is None
    assert verdict(3, anchor, head_of(links), None, 0) == (
        "audit trail intact: 3 records, seq 4..6 (records up to seq 3 pruned); "
        f"head seq 6 hash {links[-1].hash}"
    )


def test_a_pruned_chain_still_finds_a_changed_record() -> None:
    """Pruning does not make the rest tamper-proof: a changed record 5 is found."""
    links = chain(6)
    kept, anchor = prune(links, 3)
    kept[1] = replace(kept[1], action="incident.resolved")
    assert verify(kept, anchor, head_of(links)) == Changed(5)


def test_a_pruned_chain_finds_its_first_kept_record_deleted() -> None:
    """After pruning, deleting the first kept record is a gap after the anchor."""
    links = chain(6)
    kept, anchor = prune(links, 3)
    assert verify(kept[1:], anchor, head_of(links)) == Missing(3, 5)


def test_a_changed_anchor_breaks_the_first_kept_link() -> None:
    """An anchor hash that was altered no longer leads to the first kept record."""
    links = chain(6)
    kept, anchor = prune(links, 3)
    assert verify(kept, Point(anchor.seq, "0" * 64), head_of(links)) == Changed(4)


def test_a_chain_pruned_whole_verifies_at_its_anchor() -> None:
    """Every record pruned: the anchor is the head, and nothing is wrong."""
    links = chain(3)
    kept, anchor = prune(links, 3)
    assert kept == []
    assert verify(kept, anchor, head_of(links)) is None
    assert verdict(0, anchor, head_of(links), None, 0) == (
        f"audit trail intact: 0 records (records up to seq 3 pruned); head seq 3 hash {anchor.hash}"
    )


def test_records_appended_after_a_prune_chain_from_the_anchor() -> None:
    """New records after a prune continue the chain from the head."""
    links = chain(3)
    _, anchor = prune(links, 3)
    more = chain(2, anchor=head_of(links))
    assert verify(more, anchor, head_of(more)) is None


def test_the_verdict_words_each_problem() -> None:
    """Changed, missing and head problems are worded with their seqs."""
    assert "record 3 was changed" in verdict(5, NOTHING, Point(5, "h"), Changed(3), 0)
    assert "records 3 to 4 are missing (deleted)" in verdict(
        5, NOTHING, Point(5, "h"), Missing(2, 5), 0
    )
    assert "record 3 is missing (deleted)" in problem_text(Missing(2, 4))
    assert "2 records not in the chain" in verdict(5, NOTHING, Point(5, "h"), None, 2)
    assert verdict(5, NOTHING, Point(5, "h"), None, 0) == (
        "audit trail intact: 5 records, seq 1..5; head seq 5 hash h"
    )
    assert verdict(5, NOTHING, Point(5, "h"), HeadRecreated(3), 0) == (
        "audit trail BROKEN: the chain's head was deleted and rebuilt at seq 3: records "
        "after it may have been deleted (see its audit.head_recreated record)."
    )


def test_a_csv_export_never_holds_a_cell_a_spreadsheet_would_run() -> None:
    """An actor or detail starting with `=`, `+`, `-` or `@` is exported with a leading
    `'`, so opening the export cannot run a formula; plain values are unchanged."""
    link = replace(chain(1)[0], actor='=HYPERLINK("x")', object="@SUM(A1)", action="incident.note")
    rows = list(csv.DictReader(io.StringIO(as_csv([link]))))
    assert rows[0]["actor"] == '\'=HYPERLINK("x")'
    assert rows[0]["object"] == "'@SUM(A1)"
    assert rows[0]["action"] == "incident.note"
    assert rows[0]["seq"] == "1"


def rebuilt_after(links: list[Link], count: int) -> list[Link]:
    """`links` and, after them, an `audit.head_recreated` record and `count` more, as an
    append that found the head row missing leaves them."""
    head = head_of(links)
    record = Link(
        seq=head.seq + 1,
        at=START,
        actor="firebell",
        action=HEAD_RECREATED,
        object="audit",
        source="slack",
        outcome="failed",
        incident_id=None,
        detail={"resumed_from": head.seq},
        prev_hash=head.hash,
        hash="",
    )
    record = replace(record, hash=hash_of(record))
    return [*links, record, *chain(count, anchor=Point(record.seq, record.hash))]


def test_a_rebuilt_head_is_a_problem_though_every_link_holds() -> None:
    """A chain whose head was rebuilt at seq 4 links up to its head, yet verify reports
    the rebuild: records after seq 4 may have been deleted with the head row."""
    links = rebuilt_after(chain(4), 2)
    assert verify(links, NOTHING, head_of(links)) == HeadRecreated(4)


def test_a_break_after_a_rebuilt_head_is_reported_first() -> None:
    """The walk goes on past the rebuild: a record changed after it is named."""
    links = rebuilt_after(chain(4), 3)
    links[6] = replace(links[6], actor="U0MALLORY")
    assert verify(links, NOTHING, head_of(links)) == Changed(7)


def test_a_walk_keeps_only_the_last_link_it_reached() -> None:
    """`walk` reads its links once, as a stream, and ends at the last one intact."""
    links = chain(5)
    walked = walk(iter(links), NOTHING)
    assert (walked.last, walked.problem) == (head_of(links), None)
    broken = walk(iter(links[:2] + links[3:]), NOTHING)
    assert (broken.last, broken.problem) == (Point(2, links[1].hash), Missing(2, 4))
