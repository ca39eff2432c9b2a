"""Benchmark: engine steps per second walking the Nantong survey on one core.

    python bench/engine.py [--seconds 5] [--rounds 10] [--profile]

Loads ``surveys/nantong-midterm-2023.yaml`` once, then walks it again and again
with a fixed script of actions that touches every question: typed answers,
buttons, a back, toggles of a multiple choice, an "other (name)", long texts in
several parts, an upload, the review, a change from the review and the
submission. One step is one ``engine.start`` or ``engine.resume`` call.

As a same-run baseline it also times ``SessionState.copy()`` + ``to_dict()``
alone, the bookkeeping every step pays (the engine copies the state, a service
serialises it), so the reader sees how much of a step is the engine's own work.
The target is at least 20,000 steps/s.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.core import engine
from bot.core.actions import (
    Action,
    AnswerText,
    Back,
    ChooseOption,
    Finish,
    GoTo,
    ShowReview,
    Submit,
    ToggleOption,
    Upload,
)
from bot.core.events import Rejected, Submitted
from bot.core.state import SessionState
from bot.core.survey import Survey
from bot.survey_files import load_survey

SURVEY_PATH = ROOT / "surveys" / "nantong-midterm-2023.yaml"
TODAY = date(2023, 4, 25)
TARGET_STEPS_PER_SECOND = 20_000

#: One complete response; every action is expected to be accepted.
SCRIPT: tuple[Action, ...] = (
    AnswerText("如东县科学技术协会"),  # unit
    AnswerText("张三"),  # filled_by
    AnswerText("+86 198 5002 8855"),  # contact_phone
    AnswerText("2023年4月26日"),  # filled_on
    ChooseOption("yes", question_id="q1_econ_plan"),
    AnswerText("否"),  # q2_tech_plan
    Back(),  # from q3_regulation back to q2_tech_plan
    AnswerText("是"),  # q2_tech_plan changed
    AnswerText("1"),  # q3_regulation: yes by number
    ChooseOption("yes", question_id="q4_assessment"),
    ToggleOption("party_committee", question_id="q4_by"),
    ToggleOption("government", question_id="q4_by"),
    ToggleOption("party_committee", question_id="q4_by"),
    ToggleOption("party_committee", question_id="q4_by"),
    Finish(question_id="q4_by"),
    ChooseOption("other", question_id="q5_body"),
    AnswerText("全民科学素质工作联席会议"),  # the other's name
    AnswerText("是"),  # q6_meetings
    AnswerText("１２ 个"),  # q7_members
    AnswerText("减少 3"),  # q7_change
    AnswerText("一、成立了领导小组，", part_id="m1"),  # r1_organization, two parts
    AnswerText("明确了分管领导。", part_id="m2"),
    Finish(question_id="r1_organization"),
    AnswerText("各项任务按计划推进。"),
    Finish(question_id="r1_tasks"),
    AnswerText("经验：部门协同。"),
    Finish(question_id="r2_experience"),
    AnswerText("问题：基层力量薄弱。"),
    Finish(question_id="r3_problems"),
    AnswerText("建议：加大经费投入。"),
    Finish(question_id="r4_suggestions"),
    Upload(name="盖章调查表.pdf", size=812_345, mime="application/pdf", ref="bench"),
    ShowReview(),
    GoTo(12),  # q7_members
    AnswerText("15"),
    Submit(),
)
#: Steps in one walk: ``start`` plus one ``resume`` per scripted action.
STEPS_PER_WALK = len(SCRIPT) + 1


def walk(survey: Survey) -> SessionState:
    """One full response; returns the final state."""
    step = engine.start(survey, language="zh", today=TODAY)
    resume = engine.resume
    for action in SCRIPT:
        step = resume(survey, step.state, action, today=TODAY)
    return step.state


def check_script(survey: Survey) -> None:
    """Fail loudly if the script no longer walks the survey as intended."""
    step = engine.start(survey, language="zh", today=TODAY)
    for action in SCRIPT:
        step = engine.resume(survey, step.state, action, today=TODAY)
        rejected = [event for event in step.events if isinstance(event, Rejected)]
        if rejected:
            raise SystemExit(f"bench script broken: {action!r} was rejected: {rejected[0].reason}")
    if not any(isinstance(event, Submitted) for event in step.events):
        raise SystemExit("bench script broken: the walk did not end with a submission")


def time_walks(survey: Survey, seconds: float) -> tuple[int, float, float]:
    """Walk for about ``seconds`` of CPU time; returns (steps, CPU seconds, wall seconds).

    Rates are computed from this process's CPU time, so that other work on a busy
    machine does not count against the engine; the wall time is reported beside it.
    """
    walks = 0
    wall_started, cpu_started = time.perf_counter(), time.process_time()
    deadline = cpu_started + seconds
    while True:
        walk(survey)
        walks += 1
        cpu = time.process_time()
        if cpu >= deadline:
            return walks * STEPS_PER_WALK, cpu - cpu_started, time.perf_counter() - wall_started


def time_rounds(survey: Survey, seconds: float, rounds: int) -> list[tuple[int, float, float]]:
    """``time_walks`` in ``rounds`` slices of ``seconds / rounds``: the best slice is the one
    least disturbed by other processes, the median is the typical one."""
    return [time_walks(survey, seconds / rounds) for _ in range(rounds)]


def time_bookkeeping(state: SessionState, steps: int) -> float:
    """CPU seconds that ``steps`` rounds of ``copy()`` + ``to_dict()`` take."""
    started = time.process_time()
    for _ in range(steps):
        state.copy().to_dict()
    return time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to walk (default 5)")
    parser.add_argument("--rounds", type=int, default=10, help="slices the time is measured in (default 10)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one second of walking")
    args = parser.parse_args(argv)

    survey = load_survey(SURVEY_PATH)
    check_script(survey)
    final_state = walk(survey)
    time_walks(survey, min(0.5, args.seconds / 10))  # warm up

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        time_walks(survey, 1.0)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)

    results = time_rounds(survey, args.seconds, args.rounds)
    steps = sum(result[0] for result in results)
    elapsed = sum(result[1] for result in results)
    wall = sum(result[2] for result in results)
    rates = sorted(result[0] / result[1] for result in results)
    best, median = rates[-1], statistics.median(rates)
    count = max(1, min(steps, 200_000) // 5)
    baseline_us = min(time_bookkeeping(final_state, count) for _ in range(5)) / count * 1e6

    print(f"survey: {survey.id} ({len(survey.questions)} questions), {STEPS_PER_WALK} steps per walk")
    print(
        f"engine: {steps:,} steps in {elapsed:.2f} s of CPU on one core ({wall:.2f} s wall), "
        f"{args.rounds} rounds"
    )
    print(f"  best round:   {best:,.0f} steps/s, {1e6 / best:.1f} µs/step")
    print(f"  median round: {median:,.0f} steps/s, {1e6 / median:.1f} µs/step")
    print(f"  overall:      {steps / elapsed:,.0f} steps/s")
    print(
        f"baseline: SessionState.copy() + to_dict() alone: {baseline_us:.1f} µs/step "
        f"({baseline_us * best / 1e6:.0%} of a step in the best round)"
    )
    verdict = "meets" if best >= TARGET_STEPS_PER_SECOND else "BELOW"
    print(f"target: {TARGET_STEPS_PER_SECOND:,} steps/s (best round): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
