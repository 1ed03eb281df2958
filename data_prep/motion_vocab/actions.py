"""The procedural action vocabulary: 14 families, each with sampled parameters.

Every family is a pair of functions registered in :data:`FAMILIES`:
``sample(rng) -> params`` (a dict of plain values; the captions are written from it) and
``build(params, fps) -> Track``. All segments start and end in a relaxed standing pose
(except ``sit_down``, which ends seated, and ``stand_up``, which starts seated), so
they chain with :func:`vhdiff.data_prep.motion_vocab.track.concatenate`.

Angles follow :mod:`vhdiff.data_prep.motion_vocab.poses` (written for the left side,
mirrored); walk, run and turn are footstep-planned gaits (:mod:`.gait`). The root
translation always comes from the planted foot
(:func:`vhdiff.data_prep.motion_vocab.track.solve_root`). Turning left = positive yaw =
counter-clockwise seen from above.

Families (parameters): walk (speed, direction forward/backward, curve, duration), run
(speed, duration; a grounded run, always one foot down), jump (repetitions, height, in
place or forward), wave (side, repetitions), raise_arm
(side left/right/both, height shoulder/overhead), squat (repetitions, depth), kick (side,
height, repetitions), turn (side, angle), punch (side, repetitions), clap (repetitions),
bow (depth), sit_down, stand_up, stand_still (duration).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from vhdiff.data_prep.motion_vocab.gait import plan_gait
from vhdiff.data_prep.motion_vocab.poses import PoseTrack, joint
from vhdiff.data_prep.motion_vocab.shapes import envelope, keyframes
from vhdiff.data_prep.motion_vocab.track import FLIGHT, LEFT, RIGHT, Track

__all__ = [
    "FAMILIES",
    "GRAVITY",
    "Family",
    "build_segment",
    "nominal_distance",
    "nominal_speed",
    "sample_segment",
]

GRAVITY = 9.81
SETTLE_SECONDS = 0.6  # standing time after a gait stops, while the feet come together
SIDES = ("left", "right")

# Walking / running speeds (m/s) and cadences (steps/s) per speed word.
WALK_SPEEDS = {"slow": (0.7, 1.5), "normal": (1.15, 1.8), "fast": (1.6, 2.1)}
RUN_SPEEDS = {"jog": (2.0, 2.9), "fast": (2.6, 3.3)}


@dataclass(frozen=True)
class Family:
    """An action family: parameter sampler and track builder."""

    name: str
    sample: Callable[[np.random.Generator], dict[str, Any]]
    build: Callable[[dict[str, Any], float], Track]


def _frames(duration: float, fps: float) -> int:
    return round(duration * fps) + 1


def _track(pose: PoseTrack) -> Track:
    track = Track.still(pose.frames)
    track.angles = pose.angles
    return track


def _flat_feet(track: Track, sides: tuple[str, ...] = SIDES) -> None:
    """Ankle flexion that keeps each foot's sole level: ankle_x = -(pitch + hip_x + knee_x)."""
    for side in sides:
        hip, knee, ankle = (joint(n, side) for n in ("hip", "knee", "ankle"))
        a = track.angles
        a[:, ankle, 0] = -(track.pitch + a[:, hip, 0] + a[:, knee, 0]) + a[:, ankle, 0]


def _idle(pose: PoseTrack, fps: float, seed: float) -> None:
    """Breathing and a little head motion, so still frames are not frozen."""
    t = np.arange(pose.frames) / fps
    pose.add("spine3", x=0.02 * np.sin(2 * math.pi * 0.3 * t + seed))
    pose.add("head", y=0.05 * np.sin(2 * math.pi * 0.17 * t + 2 * seed))


# ---------------------------------------------------------------- locomotion


def _sample_walk(rng: np.random.Generator) -> dict[str, Any]:
    direction = "backward" if rng.random() < 0.2 else "forward"
    speed = str(rng.choice(["slow", "normal"] if direction == "backward" else list(WALK_SPEEDS)))
    curve = "none" if direction == "backward" or rng.random() < 0.6 else str(rng.choice(SIDES))
    duration = float(rng.uniform(3.0, 8.0))
    return {"speed": speed, "direction": direction, "curve": curve, "duration": round(duration, 2)}


def nominal_speed(segment: dict[str, Any]) -> float:
    """Nominal speed (m/s) of a walk or run segment (backward steps are 70% as long)."""
    table = WALK_SPEEDS if segment["family"] == "walk" else RUN_SPEEDS
    speed = table[segment["speed"]][0]
    return speed * (0.7 if segment.get("direction") == "backward" else 1.0)


def nominal_distance(segment: dict[str, Any]) -> float:
    """Nominal path length of a walk/run: speed x (duration - 0.5 s): the 0.5 s start
    and stop ramps each count half."""
    return nominal_speed(segment) * (segment["duration"] - 0.5)


def _locomotion(
    frames: int,
    fps: float,
    *,
    speed: float,
    yaw_total: float,
    cadence: float,
    duty: float,
    clearance: float,
    reach: float,
    lean: float,
    arm_swing: float,
    elbow: float,
    ramp: float = 0.5,
) -> Track:
    """A gait whose speed and turning ramp up over ``ramp`` s and down at the end, then
    SETTLE_SECONDS more in which the feet finish their last steps and stand together."""
    env = envelope(frames, fps, ramp)
    settle = round(SETTLE_SECONDS * fps)
    env = np.concatenate((env, np.zeros(settle)))
    frames += settle
    track = plan_gait(
        frames, fps,
        speed=speed * env, yaw_rate=yaw_total * env / max(env.sum(), 1e-9), cadence=cadence,
        duty=duty, clearance=clearance, reach=reach, lean=lean * env,
        arm_swing=arm_swing, elbow=elbow,
    )  # fmt: skip
    pose = PoseTrack(frames)
    _idle(pose, fps, seed=cadence)
    track.angles += pose.angles
    return track


def _build_walk(params: dict[str, Any], fps: float) -> Track:
    cadence = WALK_SPEEDS[params["speed"]][1]
    backward = params["direction"] == "backward"
    curve = {"none": 0.0, "left": 1.0, "right": -1.0}[params["curve"]]
    return _locomotion(
        _frames(params["duration"], fps), fps,
        speed=nominal_speed({"family": "walk", **params}) * (-1.0 if backward else 1.0),
        yaw_total=curve * math.pi / 2 * min(1.0, params["duration"] / 5.0),
        cadence=cadence * (0.9 if backward else 1.0), duty=0.62, clearance=0.07, reach=0.97,
        lean=-0.02 if backward else 0.05, arm_swing=0.35, elbow=0.25,
    )  # fmt: skip


def _sample_run(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "speed": str(rng.choice(list(RUN_SPEEDS))),
        "duration": round(float(rng.uniform(2.0, 6.0)), 2),
    }


def _build_run(params: dict[str, Any], fps: float) -> Track:
    speed, cadence = RUN_SPEEDS[params["speed"]]
    return _locomotion(
        _frames(params["duration"], fps), fps,
        speed=speed, yaw_total=0.0, cadence=cadence, duty=0.5, clearance=0.13, reach=0.95,
        lean=0.2, arm_swing=0.6, elbow=1.4,
    )  # fmt: skip


def _sample_turn(rng: np.random.Generator) -> dict[str, Any]:
    angle = int(rng.choice([90, 180]))
    return {
        "side": str(rng.choice(SIDES)),
        "angle": angle,
        "duration": round(float(rng.uniform(2.0, 3.0)) + angle / 180, 2),
    }


def _build_turn(params: dict[str, Any], fps: float) -> Track:
    sign = 1.0 if params["side"] == "left" else -1.0  # positive yaw = left (counter-clockwise)
    return _locomotion(
        _frames(params["duration"], fps), fps,
        speed=0.0, yaw_total=sign * math.radians(params["angle"]), cadence=2.0, duty=0.6,
        clearance=0.06, reach=0.97, lean=0.0, arm_swing=0.0, elbow=0.2, ramp=0.4,
    )  # fmt: skip


# ---------------------------------------------------------------- jumps and legs


def _sample_jump(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "repetitions": int(rng.integers(1, 4)),
        "height": str(rng.choice(["low", "high"])),
        "forward": bool(rng.random() < 0.4),
    }


JUMP_HEIGHTS = {"low": 0.15, "high": 0.35}  # metres the feet leave the ground
JUMP_DISTANCE = 0.6  # metres per forward jump


def _build_jump(params: dict[str, Any], fps: float) -> Track:
    height = JUMP_HEIGHTS[params["height"]]
    flight = 2 * math.sqrt(2 * height / GRAVITY)  # time in the air, ballistic
    cycle = 0.6 + flight + 0.5  # crouch, flight, land and rise
    reps = params["repetitions"]
    duration = 0.5 + reps * cycle + 0.5
    frames = _frames(duration, fps)
    t = np.arange(frames) / fps
    pose = PoseTrack(frames)
    pose.rest_arms()
    track = Track.still(frames)
    crouch = np.zeros(frames)
    arms = np.zeros(frames)
    for k in range(reps):
        t0 = 0.5 + k * cycle  # crouch starts
        up = t0 + 0.6  # take-off
        down = up + flight  # landing
        crouch += keyframes(frames, fps, [t0, t0 + 0.45, up, up + 0.1, down - 0.1, down, down + 0.15, down + 0.5],
                            [0, 1, 0, 0.25, 0.25, 0, 0.6, 0])  # fmt: skip
        arms += keyframes(
            frames, fps, [t0, t0 + 0.45, up, down, down + 0.5], [0, -0.8, 1.0, 0.6, 0]
        )
        air = (t > up) & (t < down)  # the first airborne frame is already off the ground
        s = (t[air] - up) / flight
        track.lift[air] = 4 * height * s * (1 - s)
        track.stance[air] = FLIGHT
        if params["forward"]:
            # The feet travel JUMP_DISTANCE along smoothstep(s): they leave and meet the
            # ground without horizontal speed (d/dt of D (3s^2 - 2s^3) = D 6 s (1 - s) / flight).
            track.flight_velocity[air, 1] = JUMP_DISTANCE * 6 * s * (1 - s) / flight
    track.pitch = 0.45 * crouch
    pose.both("hip", x=-1.45 * crouch)  # thighs 1.0 rad forward of vertical at full crouch
    pose.both("knee", x=1.5 * crouch)
    pose.both("shoulder", x=-1.2 * arms)
    pose.add("spine1", x=0.1 * crouch)
    track.angles = pose.angles
    _flat_feet(track)
    # Toes point down in the air.
    for side in SIDES:
        track.angles[track.stance == FLIGHT, joint("ankle", side), 0] += 0.3
    return track


def _sample_squat(rng: np.random.Generator) -> dict[str, Any]:
    return {"repetitions": int(rng.integers(1, 4)), "depth": str(rng.choice(["shallow", "deep"]))}


def _build_squat(params: dict[str, Any], fps: float) -> Track:
    depth = {"shallow": 0.55, "deep": 1.0}[params["depth"]]
    reps = params["repetitions"]
    keys_t, keys_v = [0.0, 0.4], [0.0, 0.0]
    for k in range(reps):
        start = 0.4 + k * 2.2
        keys_t += [start + 1.0, start + 1.4, start + 2.2]
        keys_v += [depth, depth, 0.0]
    frames = _frames(keys_t[-1] + 0.5, fps)
    down = keyframes(frames, fps, keys_t, keys_v)
    pose = PoseTrack(frames)
    pose.rest_arms(1.0 - down)
    pose.both("shoulder", x=-1.4 * down, z=-1.5 * down)  # arms forward for balance
    track = _track(pose)
    track.pitch = 0.5 * down
    pose.both("hip", x=-1.85 * down)
    pose.both("knee", x=2.0 * down)
    _flat_feet(track)
    return track


def _sample_kick(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "side": str(rng.choice(SIDES)),
        "height": str(rng.choice(["low", "high"])),
        "repetitions": int(rng.integers(1, 3)),
    }


def _build_kick(params: dict[str, Any], fps: float) -> Track:
    lift = {"low": 0.8, "high": 1.35}[params["height"]]
    side, other = params["side"], "right" if params["side"] == "left" else "left"
    keys_t, chamber, extend = [0.0, 0.3], [0.0, 0.0], [0.0, 0.0]
    for k in range(params["repetitions"]):
        s = 0.3 + k * 1.6
        keys_t += [s + 0.5, s + 0.75, s + 1.0, s + 1.6]
        chamber += [0.7, 1.0, 0.6, 0.0]
        extend += [0.0, 1.0, 0.0, 0.0]
    frames = _frames(keys_t[-1] + 0.4, fps)
    ch = keyframes(frames, fps, keys_t, chamber)
    ex = keyframes(frames, fps, keys_t, extend)
    pose = PoseTrack(frames)
    pose.rest_arms()
    # While the foot is low the thigh comes forward half as fast as the knee bends, which
    # lifts the ankle straight up (the shank's swing back cancels the thigh's swing
    # forward); the sole stays level until the snap.
    hip = np.maximum(0.52 * 1.4 * ch, lift * ch**2)
    knee = 1.4 * ch * (1 - ex)
    pose.add("hip", side, x=-hip)
    pose.add("knee", side, x=knee)
    pose.add("ankle", side, x=(hip - knee) * (1 - ex) + 0.4 * ex)
    pose.add("knee", other, x=0.15 * ch)
    pose.add("hip", other, x=-0.1 * ch)
    pose.both("shoulder", z=0.6 * ch)  # arms out for balance
    track = _track(pose)
    track.pitch = -0.12 * ch
    track.stance[:] = LEFT if other == "left" else RIGHT
    _flat_feet(track, (other,))
    return track


# ---------------------------------------------------------------- arms and torso


def _sample_wave(rng: np.random.Generator) -> dict[str, Any]:
    return {"side": str(rng.choice(SIDES)), "repetitions": int(rng.integers(2, 6))}


def _build_wave(params: dict[str, Any], fps: float) -> Track:
    reps, side = params["repetitions"], params["side"]
    period = 0.5
    hold = reps * period
    frames = _frames(0.8 + hold + 0.8, fps)
    t = np.arange(frames) / fps
    up = keyframes(frames, fps, [0.0, 0.8, 0.8 + hold, 1.6 + hold], [0.0, 1.0, 1.0, 0.0])
    osc = np.where((t > 0.8) & (t < 0.8 + hold), np.sin(2 * math.pi * (t - 0.8) / period), 0.0)
    pose = PoseTrack(frames)
    pose.rest_arms()
    pose.add("shoulder", side, z=1.6 * up)  # from hanging (-1.25) to above horizontal (+0.35)
    pose.add("elbow", side, y=0.15 * up, z=(1.35 + 0.45 * osc) * up)
    pose.add("wrist", side, z=0.2 * osc * up)
    _idle(pose, fps, seed=reps)
    return _track(pose)


def _sample_raise(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "side": str(rng.choice(["left", "right", "both"])),
        "height": str(rng.choice(["shoulder", "overhead"])),
        "hold": round(float(rng.uniform(0.5, 2.5)), 2),
    }


def _build_raise(params: dict[str, Any], fps: float) -> Track:
    hold = params["hold"]
    frames = _frames(1.0 + hold + 1.0 + 0.3, fps)
    up = keyframes(frames, fps, [0.0, 1.0, 1.0 + hold, 2.0 + hold], [0.0, 1.0, 1.0, 0.0])
    target = {"shoulder": 1.25, "overhead": 2.6}[params["height"]]
    pose = PoseTrack(frames)
    pose.rest_arms()
    sides = SIDES if params["side"] == "both" else (params["side"],)
    for side in sides:
        pose.add("shoulder", side, z=target * up)
        pose.add("elbow", side, y=0.15 * up)
    _idle(pose, fps, seed=hold)
    return _track(pose)


def _sample_punch(rng: np.random.Generator) -> dict[str, Any]:
    return {"side": str(rng.choice(SIDES)), "repetitions": int(rng.integers(1, 5))}


def _build_punch(params: dict[str, Any], fps: float) -> Track:
    side, reps = params["side"], params["repetitions"]
    keys_t, keys_v = [0.0], [0.0]
    for k in range(reps):
        s = 0.8 + k * 0.7
        keys_t += [s, s + 0.2, s + 0.55]
        keys_v += [0.0, 1.0, 0.0]
    frames = _frames(keys_t[-1] + 0.9, fps)
    guard = keyframes(frames, fps, [0.0, 0.7, keys_t[-1], keys_t[-1] + 0.7], [0, 1, 1, 0])
    hit = keyframes(frames, fps, keys_t, keys_v)
    pose = PoseTrack(frames)
    pose.rest_arms()
    for s in SIDES:  # fists up in front of the chest
        pose.add("shoulder", s, x=-0.7 * guard, z=0.15 * guard)
        pose.add("elbow", s, y=-1.9 * guard)
    # The punching arm straightens forward at shoulder height; the torso turns into it.
    pose.add("shoulder", side, x=-0.85 * hit, z=-0.35 * hit)
    pose.add("elbow", side, y=1.85 * hit)
    pose.add("spine2", y=-0.25 * hit if side == "left" else 0.25 * hit)
    return _track(pose)


def _sample_clap(rng: np.random.Generator) -> dict[str, Any]:
    return {"repetitions": int(rng.integers(2, 7))}


def _build_clap(params: dict[str, Any], fps: float) -> Track:
    reps, period = params["repetitions"], 0.45
    frames = _frames(0.7 + reps * period + 0.8, fps)
    t = np.arange(frames) / fps
    up = keyframes(frames, fps, [0.0, 0.7, 0.7 + reps * period, 1.4 + reps * period], [0, 1, 1, 0])
    active = (t > 0.7) & (t < 0.7 + reps * period)
    open_ = np.where(active, 0.5 - 0.5 * np.cos(2 * math.pi * (t - 0.7) / period), 0.0)
    pose = PoseTrack(frames)
    pose.rest_arms()
    pose.both("shoulder", x=-1.1 * up, z=-0.1 * up, y=(-0.5 + 0.42 * open_) * up)
    pose.both("elbow", y=-0.7 * up)
    return _track(pose)


def _sample_bow(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "depth": str(rng.choice(["slight", "deep"])),
        "hold": round(float(rng.uniform(0.5, 1.5)), 2),
    }


def _build_bow(params: dict[str, Any], fps: float) -> Track:
    depth = {"slight": 0.45, "deep": 1.0}[params["depth"]]
    hold = params["hold"]
    frames = _frames(1.0 + hold + 1.2 + 0.3, fps)
    down = keyframes(frames, fps, [0.0, 1.0, 1.0 + hold, 2.2 + hold], [0.0, depth, depth, 0.0])
    pose = PoseTrack(frames)
    pose.rest_arms()
    for name in ("spine1", "spine2", "spine3"):
        pose.add(name, x=0.15 * down)
    pose.add("head", x=0.2 * down)
    track = _track(pose)
    track.pitch = 0.75 * down
    pose.both("hip", x=-0.75 * down)  # legs stay vertical under the tilted pelvis
    _flat_feet(track)
    return track


def _seated_keys(frames: int, fps: float, sit_time: float, standing_first: bool) -> np.ndarray:
    ends = [0.0, 0.0, 1.0, 1.0] if standing_first else [1.0, 1.0, 0.0, 0.0]
    return keyframes(frames, fps, [0.0, 0.4, 0.4 + sit_time, 0.4 + sit_time + 1.0], ends)


def _seat(pose: PoseTrack, track: Track, seated: np.ndarray) -> None:
    """Seated weight 0..1: thighs horizontal, shanks vertical, hands on the thighs; the
    trunk leans forward most half-way (when the weight moves over the feet)."""
    mid = np.sin(np.pi * seated)  # 0 at both ends, 1 half-way
    track.pitch = 0.1 * seated + 0.45 * mid
    pose.both("hip", x=-(1.5 * seated + track.pitch))
    pose.both("knee", x=1.5 * seated)
    pose.both("shoulder", x=-0.45 * seated, z=-0.1 * seated)
    pose.both("elbow", y=-0.5 * seated)
    _flat_feet(track)


def _sample_sit(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "speed": str(rng.choice(["slowly", "normal"])),
        "hold": round(float(rng.uniform(1.0, 2.5)), 2),
    }


def _build_sit(params: dict[str, Any], fps: float, *, standing_first: bool = True) -> Track:
    sit_time = 2.0 if params["speed"] == "slowly" else 1.2
    frames = _frames(0.4 + sit_time + params["hold"], fps)
    pose = PoseTrack(frames)
    pose.rest_arms()
    track = _track(pose)
    _seat(pose, track, _seated_keys(frames, fps, sit_time, standing_first))
    return track


def _build_stand_up(params: dict[str, Any], fps: float) -> Track:
    return _build_sit(params, fps, standing_first=False)


def _sample_still(rng: np.random.Generator) -> dict[str, Any]:
    return {"duration": round(float(rng.uniform(2.0, 5.0)), 2)}


def _build_still(params: dict[str, Any], fps: float) -> Track:
    frames = _frames(params["duration"], fps)
    pose = PoseTrack(frames)
    pose.rest_arms()
    _idle(pose, fps, seed=params["duration"])
    track = _track(pose)
    t = np.arange(frames) / fps
    track.roll = 0.02 * np.sin(2 * math.pi * 0.2 * t)  # weight shifts
    return track


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("walk", _sample_walk, _build_walk),
        Family("run", _sample_run, _build_run),
        Family("turn", _sample_turn, _build_turn),
        Family("jump", _sample_jump, _build_jump),
        Family("squat", _sample_squat, _build_squat),
        Family("kick", _sample_kick, _build_kick),
        Family("wave", _sample_wave, _build_wave),
        Family("raise_arm", _sample_raise, _build_raise),
        Family("punch", _sample_punch, _build_punch),
        Family("clap", _sample_clap, _build_clap),
        Family("bow", _sample_bow, _build_bow),
        Family("sit_down", _sample_sit, _build_sit),
        Family("stand_up", _sample_sit, _build_stand_up),
        Family("stand_still", _sample_still, _build_still),
    )
}


def sample_segment(family: str, rng: np.random.Generator) -> dict[str, Any]:
    """Parameters of one segment of ``family`` (a dict with a "family" key)."""
    return {"family": family, **FAMILIES[family].sample(rng)}


def build_segment(params: dict[str, Any], fps: float) -> Track:
    """The track of one sampled segment."""
    return FAMILIES[params["family"]].build({k: v for k, v in params.items() if k != "family"}, fps)
