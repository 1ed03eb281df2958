"""Rotation conversions: round trips, agreement with roma, edge angles, bad input."""

import pytest
import roma
import torch

from vhdiff.body import rotations as R

DTYPES = [torch.float32, torch.float64]


def _tol(dtype):
    return 1e-5 if dtype == torch.float32 else 1e-10


def _random_axis_angle(shape, dtype, max_angle=3.0):
    g = torch.Generator().manual_seed(1)
    axis = torch.randn(*shape, 3, generator=g, dtype=torch.float64)
    axis = axis / axis.norm(dim=-1, keepdim=True)
    angle = torch.rand(*shape, 1, generator=g, dtype=torch.float64) * max_angle
    return (axis * angle).to(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_roma(dtype):
    aa = _random_axis_angle((4, 7), dtype)
    mat = R.axis_angle_to_matrix(aa)
    assert mat.shape == (4, 7, 3, 3) and mat.dtype == dtype
    tol = _tol(dtype)
    torch.testing.assert_close(mat, roma.rotvec_to_rotmat(aa), atol=tol * 10, rtol=0)
    torch.testing.assert_close(
        R.matrix_to_axis_angle(mat), roma.rotmat_to_rotvec(mat), atol=tol * 50, rtol=0
    )
    quat = R.axis_angle_to_quaternion(aa)
    roma_wxyz = roma.quat_xyzw_to_wxyz(roma.rotvec_to_unitquat(aa))
    roma_wxyz = torch.where(roma_wxyz[..., :1] < 0, -roma_wxyz, roma_wxyz)
    torch.testing.assert_close(quat, roma_wxyz, atol=tol * 10, rtol=0)
    torch.testing.assert_close(R.matrix_to_quaternion(mat), roma_wxyz, atol=tol * 50, rtol=0)
    torch.testing.assert_close(
        R.quaternion_to_matrix(quat),
        roma.unitquat_to_rotmat(roma.quat_wxyz_to_xyzw(quat)),
        atol=tol * 10,
        rtol=0,
    )
    six = torch.randn(4, 7, 6, dtype=dtype)
    expected = roma.special_gramschmidt(torch.stack((six[..., :3], six[..., 3:]), dim=-1))
    torch.testing.assert_close(R.rotation_6d_to_matrix(six), expected, atol=tol * 10, rtol=0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trips(dtype):
    tol = _tol(dtype) * 100
    aa = _random_axis_angle((3, 2, 5), dtype)
    mat = R.axis_angle_to_matrix(aa)
    torch.testing.assert_close(R.matrix_to_axis_angle(mat), aa, atol=tol, rtol=0)
    torch.testing.assert_close(
        R.quaternion_to_axis_angle(R.axis_angle_to_quaternion(aa)), aa, atol=tol, rtol=0
    )
    torch.testing.assert_close(
        R.rotation_6d_to_matrix(R.matrix_to_rotation_6d(mat)), mat, atol=tol, rtol=0
    )
    torch.testing.assert_close(
        R.rotation_6d_to_axis_angle(R.axis_angle_to_rotation_6d(aa)), aa, atol=tol, rtol=0
    )
    torch.testing.assert_close(
        R.quaternion_to_matrix(R.matrix_to_quaternion(mat)), mat, atol=tol, rtol=0
    )


def test_six_d_is_first_two_columns():
    mat = R.axis_angle_to_matrix(_random_axis_angle((5,), torch.float64))
    six = R.matrix_to_rotation_6d(mat)
    torch.testing.assert_close(six[:, :3], mat[:, :, 0])
    torch.testing.assert_close(six[:, 3:], mat[:, :, 1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_edge_angles(dtype):
    """Zero, tiny and near-pi angles convert accurately (no acos blow-up, no NaN)."""
    axis = torch.tensor([0.48, -0.6, 0.64], dtype=dtype)
    for angle in (0.0, 1e-7, 1e-3, torch.pi - 1e-4, torch.pi - 1e-2):
        aa = axis * angle
        mat = R.axis_angle_to_matrix(aa)
        assert torch.isfinite(mat).all()
        torch.testing.assert_close(mat, roma.rotvec_to_rotmat(aa[None])[0], atol=1e-5, rtol=0)
        back = R.matrix_to_axis_angle(mat)
        torch.testing.assert_close(back, aa, atol=2e-3 if dtype == torch.float32 else 1e-7, rtol=0)


def test_gradients_finite_at_identity():
    aa = torch.zeros(4, 3, dtype=torch.float64, requires_grad=True)
    R.axis_angle_to_matrix(aa).sum().backward()
    assert torch.isfinite(aa.grad).all()
    assert torch.autograd.gradcheck(
        R.axis_angle_to_matrix, (torch.randn(2, 3, dtype=torch.float64, requires_grad=True),)
    )
    q = R.axis_angle_to_quaternion(torch.zeros(2, 3, dtype=torch.float64)).requires_grad_(True)
    R.quaternion_to_axis_angle(q).sum().backward()
    assert torch.isfinite(q.grad).all()


def test_six_d_of_any_input_is_a_rotation():
    mat = R.rotation_6d_to_matrix(torch.randn(100, 6, dtype=torch.float64) * 5)
    eye = torch.eye(3, dtype=torch.float64).expand(100, 3, 3)
    torch.testing.assert_close(mat.transpose(-1, -2) @ mat, eye, atol=1e-10, rtol=0)
    torch.testing.assert_close(torch.linalg.det(mat), torch.ones(100, dtype=torch.float64))


def test_quaternion_product_composes_rotations():
    a = R.axis_angle_to_quaternion(_random_axis_angle((6,), torch.float64))
    b = R.axis_angle_to_quaternion(_random_axis_angle((6,), torch.float64, max_angle=1.0).flip(0))
    torch.testing.assert_close(
        R.quaternion_to_matrix(R.quaternion_multiply(a, b)),
        R.quaternion_to_matrix(a) @ R.quaternion_to_matrix(b),
    )
    assert (R.matrix_to_quaternion(R.quaternion_to_matrix(-a))[..., 0] >= 0).all()


def test_bad_input_messages():
    with pytest.raises(ValueError, match=r"axis_angle must have shape \[\.\.\., 3\], got \[2, 4\]"):
        R.axis_angle_to_matrix(torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"matrix must have shape \[\.\.\., 3, 3\]"):
        R.matrix_to_rotation_6d(torch.zeros(3, 3, 2))
    with pytest.raises(ValueError, match="floating-point.*int64"):
        R.axis_angle_to_quaternion(torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(TypeError, match="torch.Tensor"):
        R.rotation_6d_to_matrix([0.0] * 6)
