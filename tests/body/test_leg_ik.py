"""Two-bone leg IK (vhdiff.body.leg_ik): the ankle lands where asked, the foot keeps its
orientation, nothing but the leg moves, and knees bend forwards."""

from __future__ import annotations

import numpy as np
import pytest

from vhdiff.body import rotations_np as nr
from vhdiff.body.leg_ik import LEFT_LEG, RIGHT_LEG, reach
from vhdiff.body.skeleton import BODY_PARENTS, SMPL_NEUTRAL_REST_JOINTS

REST = np.asarray(SMPL_NEUTRAL_REST_JOINTS, dtype=np.float64)


def _pose(frames: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random local rotations [T, 22, 3, 3] with both knees bent 0.1-1.5 rad, and transl."""
    rng = np.random.default_rng(seed)
    rotations = nr.axis_angle_to_matrix(rng.normal(size=(frames, 22, 3)) * 0.3)
    for knee in (4, 5):
        flexion = np.zeros((frames, 3))
        flexion[:, 0] = rng.uniform(0.1, 1.5, frames)
        rotations[:, knee] = nr.axis_angle_to_matrix(flexion)
    return rotations, rng.normal(size=(frames, 3))


def _solve(rotations, transl, leg, delta):
    positions, global_rotations = nr.forward_kinematics(rotations, REST, BODY_PARENTS, transl)
    new = rotations.copy()
    new[:, list(leg)] = reach(positions, global_rotations, leg, delta)
    after, after_global = nr.forward_kinematics(new, REST, BODY_PARENTS, transl)
    return positions, global_rotations, after, after_global, new


@pytest.mark.parametrize("leg", [LEFT_LEG, RIGHT_LEG])
def test_a_reachable_ankle_target_is_met_exactly_and_only_the_leg_moves(leg):
    rotations, transl = _pose(200, seed=1)
    delta = np.random.default_rng(2).normal(size=(200, 3)) * 0.05
    before, before_global, after, after_global, new = _solve(rotations, transl, leg, delta)
    hip, knee, ankle = leg
    foot = ankle + 3  # SMPL feet 10 / 11 hang off ankles 7 / 8
    thigh = np.linalg.norm(before[:, knee] - before[:, hip], axis=-1)
    shin = np.linalg.norm(before[:, ankle] - before[:, knee], axis=-1)
    wanted = np.linalg.norm(before[:, ankle] + delta - before[:, hip], axis=-1)
    inside = wanted < 0.99 * (thigh + shin)
    assert inside.mean() > 0.7  # most targets are reachable
    np.testing.assert_allclose(
        after[inside, ankle], before[inside, ankle] + delta[inside], atol=1e-9
    )
    # the foot keeps its world orientation, so the foot joint moves with the ankle
    np.testing.assert_allclose(after_global[:, ankle], before_global[:, ankle], atol=1e-9)
    np.testing.assert_allclose(after[inside, foot], before[inside, foot] + delta[inside], atol=1e-9)
    # bones keep their lengths; nothing outside the leg moves
    np.testing.assert_allclose(np.linalg.norm(after[:, knee] - after[:, hip], axis=-1), thigh)
    others = [j for j in range(22) if j not in (knee, ankle, foot)]
    np.testing.assert_array_equal(after[:, others], before[:, others])
    np.testing.assert_array_equal(
        np.delete(new, list(leg), axis=1), np.delete(rotations, list(leg), axis=1)
    )


def test_an_out_of_reach_target_straightens_the_leg_towards_it():
    rotations, transl = _pose(50, seed=3)
    positions, _ = nr.forward_kinematics(rotations, REST, BODY_PARENTS, transl)
    hip, knee, ankle = LEFT_LEG
    away = positions[:, ankle] - positions[:, hip]
    away /= np.linalg.norm(away, axis=-1, keepdims=True)
    delta = away * 0.5  # half a metre further from the hip than the ankle is
    _, _, after, _, _ = _solve(rotations, transl, LEFT_LEG, delta)
    target = positions[:, ankle] + delta
    reach_max = np.linalg.norm(positions[:, knee] - positions[:, hip], axis=-1) + np.linalg.norm(
        positions[:, ankle] - positions[:, knee], axis=-1
    )
    got = after[:, ankle] - after[:, hip]
    np.testing.assert_allclose(np.linalg.norm(got, axis=-1), reach_max, rtol=1e-3)
    wanted = (target - after[:, hip]) / np.linalg.norm(
        target - after[:, hip], axis=-1, keepdims=True
    )
    np.testing.assert_allclose(got / np.linalg.norm(got, axis=-1, keepdims=True), wanted, atol=1e-9)


def test_a_straight_leg_bends_its_knee_forwards():
    rotations = np.tile(np.eye(3), (1, 22, 1, 1))  # the rest pose: legs (almost) straight
    transl = np.zeros((1, 3))
    delta = np.array([[0.0, 0.15, 0.0]])  # lift the ankle 15 cm: the knee must bend
    before, _, after, _, new = _solve(rotations, transl, LEFT_LEG, delta)
    np.testing.assert_allclose(after[0, 7], before[0, 7] + delta[0], atol=1e-9)
    assert after[0, 4, 2] > before[0, 4, 2] + 0.05  # the knee went forwards (+z), not back
    assert nr.matrix_to_axis_angle(new[0, 4])[0] > 0.5  # SMPL flexion: + about x
