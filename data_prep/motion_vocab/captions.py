"""Captions for procedural clips: several paraphrases per clip that state its parameters.

Each family has a list of predicate templates (third-person verb phrases). The LAST
template of every family, the last subject and the last connector are HELD OUT: they
appear only in test-split captions (every test clip gets one caption built from held-out
templates; train and val captions never use them), so a test can ask whether a model
generalises to unseen wordings. The held-out wordings are listed in
:data:`HELD_OUT_TEMPLATES` (and written to the dataset's ``dataset.json``).

Caption = subject + predicate, for a sequence the predicates joined by a connector
("a person walks forward slowly, then turns left").
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from vhdiff.data_prep.motion_vocab.actions import nominal_distance

__all__ = ["CONNECTORS", "HELD_OUT_TEMPLATES", "SUBJECTS", "TEMPLATES", "clip_captions"]

SUBJECTS = (
    "a person", "someone", "a man", "a woman", "the person", "a figure", "somebody", "a human",
    "an individual",
)  # fmt: skip
CONNECTORS = ("{a}, then {b}", "{a} and then {b}", "{a}, after that {b}", "first {a}, and next {b}")

_TIMES = {1: "once", 2: "twice", 3: "three times", 4: "four times", 5: "five times", 6: "six times"}
_COUNT = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}

# Placeholders are filled by _words(); the last template of each family is held out.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "walk": (
        "walks {dir} {speed_adv} {curve}",
        "{speed_pre} walks {dir} for about {dist} meters {curve}",
        "takes steps {dir} {speed_adv} {curve}",
        "is walking {dir} {speed_adv} {curve}",
        "goes {dir} at a {speed_word} walking pace {curve}",
    ),
    "run": (
        "{run_verb} forward",
        "{run_verb} forward for about {dist} meters",
        "{run_verb} straight ahead",
        "{run_verb} forward, covering about {dist} meters",
        "goes for a {run_word} run forward",
    ),
    "turn": (
        "turns {turn_amount} to the {side}",
        "turns {angle} degrees to the {side}",
        "steps around to face {turn_face} on the {side}",
        "rotates {angle} degrees {clock} on the spot",
    ),
    "jump": (
        "jumps {jump_where} {times}",
        "does {count_word} {height_small} {jump_noun} {jump_where}",
        "jumps {height_adv} {jump_where} {times}",
        "leaps {jump_where} {times}",
        "hops {height_adv} {jump_where} {times}",
    ),
    "squat": (
        "squats {times}",
        "does {count_word} {depth} {squat_noun}",
        "bends the knees and squats down {depth_adv} {times}",
        "performs {count_word} {depth} {squat_noun}",
        "crouches down {depth_adv} and stands back up {times}",
    ),
    "kick": (
        "kicks with the {side} leg {times}",
        "kicks {height_kick} with the {side} foot {times}",
        "does {count_word} {side} {kick_noun}",
        "swings the {side} leg up in a {height_kick} kick {times}",
    ),
    "wave": (
        "waves the {side} hand",
        "waves with the {side} hand {count_word} times",
        "raises the {side} hand and waves",
        "waves {count_word} times with the {side} hand",
        "greets someone by waving the {side} hand",
    ),
    "raise_arm": (
        "raises {arms} {arm_height}",
        "lifts {arms} {arm_height} and lowers {arm_pronoun} again",
        "puts {arms} up {arm_height}",
        "holds {arms} up {arm_height} for a moment",
    ),
    "punch": (
        "punches with the {side} hand {times}",
        "throws {count_word} {side} {punch_noun}",
        "punches forward with the {side} fist {times}",
        "throws a {side} punch {times}",
        "jabs {times} with the {side} arm",
    ),
    "clap": (
        "claps {times}",
        "claps the hands {count_word} times",
        "claps hands in front of the chest {times}",
        "claps their hands {times}",
        "applauds, clapping {times}",
    ),
    "bow": (
        "bows {bow_adv}",
        "bends forward in a {bow_word} bow",
        "takes a {bow_word} bow",
        "leans the upper body forward to bow {bow_adv}",
    ),
    "sit_down": (
        "sits down {sit_adv}",
        "sits down on a chair {sit_adv}",
        "lowers themselves {sit_adv} into a seated position",
        "takes a seat {sit_adv}",
    ),
    "stand_up": (
        "stands up from a chair {sit_adv}",
        "gets up from sitting {sit_adv}",
        "rises {sit_adv} from a seated position",
        "gets to their feet {sit_adv}",
    ),
    "stand_still": (
        "stands still",
        "stands in place without moving",
        "stands and waits",
        "remains standing in place",
    ),
}

HELD_OUT_TEMPLATES: dict[str, Any] = {
    "predicates": {family: templates[-1] for family, templates in TEMPLATES.items()},
    "subject": SUBJECTS[-1],
    "connector": CONNECTORS[-1],
}


def _words(segment: dict[str, Any], rng: np.random.Generator) -> dict[str, str]:
    """Slot values for one segment's templates (random synonyms where there are some)."""
    pick = lambda *options: str(rng.choice(options))
    family = segment["family"]
    reps = int(segment.get("repetitions", 1))
    words = {
        "side": segment.get("side", ""),
        "times": _TIMES.get(reps, f"{reps} times"),
        "count_word": _COUNT.get(reps, str(reps)),
    }
    if family in ("walk", "run"):
        words["dist"] = str(max(1, round(nominal_distance(segment))))
    if family == "walk":
        speed = segment["speed"]
        words["dir"] = (
            "forward" if segment["direction"] == "forward" else pick("backward", "backwards")
        )
        words["speed_adv"] = {"slow": pick("slowly", "at a slow pace"), "normal": pick("", "at a normal pace", "at a steady pace"), "fast": pick("quickly", "briskly", "at a fast pace")}[speed]  # fmt: skip
        words["speed_pre"] = {"slow": "slowly", "normal": "", "fast": "quickly"}[speed]
        words["speed_word"] = {"slow": "slow", "normal": "normal", "fast": "fast"}[speed]
        curve = segment["curve"]
        words["curve"] = "" if curve == "none" else pick(f"curving to the {curve}", f"while turning {curve}", f"along a curve to the {curve}")  # fmt: skip
    elif family == "run":
        jog = segment["speed"] == "jog"
        words["run_verb"] = (
            pick("jogs", "runs at an easy pace") if jog else pick("runs fast", "sprints")
        )
        words["run_word"] = "slow" if jog else "fast"
    elif family == "turn":
        quarter = segment["angle"] == 90
        words["angle"] = str(segment["angle"])
        words["turn_amount"] = (
            pick("a quarter turn", "90 degrees") if quarter else pick("around", "180 degrees")
        )
        words["turn_face"] = "the side" if quarter else "the other way"
        words["clock"] = "counter-clockwise" if segment["side"] == "left" else "clockwise"
    elif family == "jump":
        high = segment["height"] == "high"
        words["jump_where"] = "forward" if segment["forward"] else pick("in place", "on the spot")
        words["height_small"] = "high" if high else "small"
        words["height_adv"] = "high" if high else pick("a little", "lightly")
        words["jump_noun"] = "jump" if reps == 1 else "jumps"
    elif family == "squat":
        deep = segment["depth"] == "deep"
        words["depth"] = "deep" if deep else "shallow"
        words["depth_adv"] = "deeply" if deep else "slightly"
        words["squat_noun"] = "squat" if reps == 1 else "squats"
    elif family == "kick":
        words["height_kick"] = segment["height"]
        words["kick_noun"] = "legged kick" if reps == 1 else "legged kicks"
    elif family == "raise_arm":
        both = segment["side"] == "both"
        words["arms"] = "both arms" if both else f"the {segment['side']} arm"
        words["arm_pronoun"] = "them" if both else "it"
        words["arm_height"] = pick("above the head", "overhead") if segment["height"] == "overhead" else pick("to shoulder height", "out to the side")  # fmt: skip
    elif family == "punch":
        words["punch_noun"] = "punch" if reps == 1 else "punches"
    elif family == "bow":
        deep = segment["depth"] == "deep"
        words["bow_adv"] = "deeply" if deep else "slightly"
        words["bow_word"] = "deep" if deep else "slight"
    elif family in ("sit_down", "stand_up"):
        words["sit_adv"] = "slowly" if segment["speed"] == "slowly" else ""
    return words


def _fill(template: str, words: dict[str, str]) -> str:
    text = template.format(**words)
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r" ,", ",", text)


def _predicate(segment: dict[str, Any], rng: np.random.Generator, held_out: bool) -> str:
    templates = TEMPLATES[segment["family"]]
    template = templates[-1] if held_out else templates[int(rng.integers(len(templates) - 1))]
    return _fill(template, _words(segment, rng))


def _caption(segments: list[dict[str, Any]], rng: np.random.Generator, held_out: bool) -> str:
    subject = SUBJECTS[-1] if held_out else SUBJECTS[int(rng.integers(len(SUBJECTS) - 1))]
    predicates = [_predicate(s, rng, held_out) for s in segments]
    text = predicates[0]
    for nxt in predicates[1:]:
        connector = (
            CONNECTORS[-1] if held_out else CONNECTORS[int(rng.integers(len(CONNECTORS) - 1))]
        )
        text = connector.format(a=text, b=nxt)
    return f"{subject} {text}"


def clip_captions(
    segments: list[dict[str, Any]],
    rng: np.random.Generator,
    *,
    count: int = 3,
    held_out: bool = False,
) -> list[str]:
    """``count`` distinct captions (fewer if the wordings run out) of a clip made of
    ``segments``; with ``held_out`` the first caption uses the held-out templates."""
    captions: list[str] = []
    if held_out:
        captions.append(_caption(segments, rng, held_out=True))
    for _ in range(count * 6):
        if len(captions) >= count:
            break
        text = _caption(segments, rng, held_out=False)
        if text not in captions:
            captions.append(text)
    return captions
