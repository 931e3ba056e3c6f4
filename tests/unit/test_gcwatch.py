"""Garbage-collector pauses are timed, reported, and start-up objects are frozen."""

from __future__ import annotations

import gc
import logging

import pytest

from bot import gcwatch
from bot.gcwatch import GcWatch, settle


def test_a_full_collection_is_counted_and_timed() -> None:
    """gc.collect() shows up in the counts, the total and the longest pause of generation 2."""
    watch = GcWatch().install()
    try:
        gc.collect()
    finally:
        watch.uninstall()
    assert watch.collections[2] >= 1
    assert watch.total[2] > 0
    assert 0 < watch.longest[2] <= watch.total[2]
    lines = watch.metrics()
    assert f'firebell_gc_pause_seconds_count{{generation="2"}} {watch.collections[2]}' in lines
    assert any(line.startswith('firebell_gc_pause_seconds_max{generation="2"}') for line in lines)


def test_a_slow_collection_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A pause at or over SLOW_PAUSE is a warning naming the generation and the duration."""
    monkeypatch.setattr(gcwatch, "SLOW_PAUSE", 0.0)
    watch = GcWatch().install()
    try:
        with caplog.at_level(logging.WARNING, logger="bot.gcwatch"):
            gc.collect()
    finally:
        watch.uninstall()
    assert "garbage collection of generation 2 stalled the process" in caplog.text


def test_installing_twice_times_each_collection_once() -> None:
    """install() is idempotent: one callback, one count per collection."""
    watch = GcWatch().install().install()
    try:
        gc.collect()
    finally:
        watch.uninstall()
    assert watch.collections[2] == 1
    assert watch._callback not in gc.callbacks


def test_settle_freezes_what_survives_start_up() -> None:
    """After settle() the surviving objects sit in the permanent generation."""
    try:
        frozen = settle()
        assert frozen == gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
