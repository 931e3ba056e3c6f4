"""Runbook steps: task-list items as checkboxes, with keys that survive edits."""

from __future__ import annotations

from bot.runbooks import CheckboxGroup, Step, checkbox_groups, clicked, runbook_steps
from bot.runbooks.steps import step_key


def test_task_list_items_become_steps_with_their_lines() -> None:
    """`- [ ]`, `- [x]`, `* [ ]` and numbered items are steps; other lines are not."""
    text = (
        "# Failover\n"
        "- [ ] Page the DBA\n"
        "* [x] Freeze deploys\n"
        "  + [X] Nested step\n"
        "1. [ ] Numbered step\n"
        "- plain item\n"
        "- [] not a box\n"
    )
    steps = runbook_steps(text, first_line=5)
    assert [(s.text, s.line) for s in steps] == [
        ("Page the DBA", 6),
        ("Freeze deploys", 7),
        ("Nested step", 8),
        ("Numbered step", 9),
    ]


def test_items_in_code_blocks_are_not_steps() -> None:
    """A task list shown as an example inside a fence is not a step."""
    assert runbook_steps("```markdown\n- [ ] example\n```\n- [ ] real\n")[0].text == "real"


def test_keys_survive_edits_elsewhere_in_the_runbook() -> None:
    """Adding a step above keeps the key of every existing step."""
    before = runbook_steps("- [ ] Drain the node\n- [ ] Restart\n")
    after = runbook_steps("# New heading\n\n- [ ] Check the dashboard\n- [ ] Drain the node\n")
    assert before[0].key == after[1].key


def test_keys_ignore_case_and_spacing_but_not_words() -> None:
    """Reflowing a step keeps its key; changing its words makes a new step."""
    assert step_key("Drain  the node") == step_key("drain the node")
    assert step_key("Drain the node") != step_key("Drain the other node")


def test_duplicate_steps_get_distinct_keys_by_occurrence() -> None:
    """The same text twice: the second key carries `-2`; all keys fit Slack's option value."""
    steps = runbook_steps("- [ ] Verify\n- [ ] Roll back\n- [ ] Verify\n")
    assert steps[2].key == steps[0].key + "-2"
    assert len({s.key for s in steps}) == 3
    assert all(len(s.key) <= 32 for s in steps)


def test_checkbox_groups_hold_ten_steps_each_with_their_ticks() -> None:
    """25 steps make groups of 10, 10 and 5; each group knows its own ticked keys."""
    steps = [Step(f"k{i}", f"step {i}", i) for i in range(25)]
    groups = checkbox_groups(steps, {"k3", "k12", "gone"})
    assert [len(g.steps) for g in groups] == [10, 10, 5]
    assert [g.ticked for g in groups] == [frozenset({"k3"}), frozenset({"k12"}), frozenset()]
    assert groups[2] == CheckboxGroup(tuple(steps[20:]), frozenset())
    assert groups[0].keys == tuple(f"k{i}" for i in range(10))


def test_click_is_the_difference_from_what_the_clicker_saw() -> None:
    """Ticking step b in a view that showed a: ticked {b}, unticked nothing."""
    assert clicked({"a", "b"}, {"a"}, ["a", "b", "c"]) == ({"b"}, set())
    assert clicked(set(), {"a"}, ["a", "b"]) == (set(), {"a"})


def test_stale_view_does_not_untick_a_step_ticked_by_someone_else() -> None:
    """Ann ticked a; Bob's view still showed nothing ticked; his tick of b keeps a ticked."""
    stored = {"a"}
    ticked, unticked = clicked({"b"}, set(), ["a", "b"])
    assert (ticked, unticked) == ({"b"}, set())
    assert (stored | ticked) - unticked == {"a", "b"}


def test_click_is_restricted_to_the_elements_keys() -> None:
    """Keys of other elements in the message are never ticked or unticked by this one."""
    assert clicked({"a", "x"}, {"y"}, ["a", "b"]) == ({"a"}, set())
