"""Training without a run: the learning-rate schedule, the step plan, the event log's reader."""

from __future__ import annotations

import json

import pytest

from lyrictui.core.errors import LyricError
from lyrictui.core.train.events import EventLog
from lyrictui.core.train.events import read_events as read_new_events


def test_events_reader_takes_whole_lines_and_a_torn_tail_is_cut(tmp_path):
    log = EventLog(tmp_path / "events.jsonl")
    log.emit("start", config={}, total_steps=2, epochs=1)
    log.close()
    with open(tmp_path / "events.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"type": "step", "step": 1, "lo')  # killed mid-write
    events, offset = read_new_events(tmp_path, 0)
    assert [e["type"] for e in events] == ["start"]
    assert read_new_events(tmp_path, offset) == ([], offset)
    log = EventLog(tmp_path / "events.jsonl")  # the run resumes: the torn line goes
    log.emit("end", status="completed", model_id=None, best_val_loss=None)
    log.close()
    events, _ = read_new_events(tmp_path, offset)
    assert [e["type"] for e in events] == ["end"]
    assert all(json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines())


def test_schedule_warms_up_then_decays_once_to_its_floor():
    from lyrictui.core.train.config import TrainConfig
    from lyrictui.core.train.setup import lr_at

    config = TrainConfig(lr=1e-3, warmup=0.1, min_lr_ratio=0.1)
    lrs = [lr_at(step, 100, config) for step in range(100)]
    assert lrs[9] == pytest.approx(1e-3) and lrs[0] == pytest.approx(1e-4)
    assert all(a < b for a, b in zip(lrs[:10], lrs[1:10], strict=False))
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:], strict=False))
    assert lrs[-1] == pytest.approx(1e-4, rel=0.01)


def test_plan_shrinks_the_batch_for_a_tiny_corpus_and_refuses_an_empty_one():
    from lyrictui.core.train.config import TrainConfig
    from lyrictui.core.train.loop import make_plan

    plan = make_plan(5, 32, TrainConfig(batch_size=8, epochs=3))
    assert plan.batch_size == 5 and plan.total_steps == 3
    plan = make_plan(100, 32, TrainConfig(batch_size=8, epochs=2, grad_accum=2), world=2)
    assert plan.steps_per_epoch == 3 and plan.tokens_per_step == 8 * 2 * 2 * 32
    with pytest.raises(LyricError, match="too few"):
        make_plan(1, 32, TrainConfig(batch_size=8), world=2)
