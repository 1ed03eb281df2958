"""Animated glTF export, read back with pygltflib (an independent reader): the file's
structure is what glTF 2.0 asks for, forward kinematics of its nodes and animation gives
the body model's joints at every frame, and skinning its mesh with its own inverse bind
matrices gives the body model's vertices (the mannequin exactly; SMPL up to its pose
correctives, which glTF cannot hold)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vhdiff.body import SMPLMotion, load_body_model
from vhdiff.body.gltf import write_glb, write_motion_glb
from vhdiff.body.posing import pose_motion
from vhdiff.body.rotations_np import quaternion_to_matrix
from vhdiff.body.synthetic import synthetic_model_arrays

pygltflib = pytest.importorskip("pygltflib")

COMPONENTS = {5121: np.uint8, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
WIDTHS = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}


def clip(frames: int = 5, seed: int = 0) -> SMPLMotion:
    """Large rotations (0.6 rad per axis), a wandering root and a non-mean shape."""
    rng = np.random.default_rng(seed)
    pose = 0.6 * rng.normal(size=(frames, 22, 3))
    return SMPLMotion(
        global_orient=pose[:, 0], body_pose=pose[:, 1:],
        transl=np.cumsum(rng.normal(scale=0.2, size=(frames, 3)), axis=0) + [0.0, 0.9, 0.0],
        betas=rng.normal(scale=0.8, size=10), fps=25.0,
    )  # fmt: skip


class Glb:
    """A .glb read with pygltflib, with its accessors as numpy arrays."""

    def __init__(self, path) -> None:
        self.gltf = pygltflib.GLTF2().load(str(path))
        self.blob = self.gltf.binary_blob()

    def array(self, index: int) -> np.ndarray:
        accessor = self.gltf.accessors[index]
        view = self.gltf.bufferViews[accessor.bufferView]
        width = WIDTHS[accessor.type]
        dtype = np.dtype(COMPONENTS[accessor.componentType])
        start = view.byteOffset + (accessor.byteOffset or 0)
        data = np.frombuffer(self.blob, dtype, accessor.count * width, start)
        return data.reshape(accessor.count, width) if width > 1 else data

    def primitive(self):
        return self.gltf.meshes[0].primitives[0]

    def keys(self) -> tuple[np.ndarray, dict[int, np.ndarray], np.ndarray]:
        """(key times [T], {node: quaternions [T, 4] xyzw}, root translations [T, 3])."""
        animation = self.gltf.animations[0]
        rotations, translation, times = {}, None, None
        for channel in animation.channels:
            sampler = animation.samplers[channel.sampler]
            assert sampler.interpolation == "LINEAR"
            times = self.array(sampler.input)
            if channel.target.path == "rotation":
                rotations[channel.target.node] = self.array(sampler.output)
            else:
                assert channel.target.path == "translation" and translation is None
                translation = (channel.target.node, self.array(sampler.output))
        root = self.gltf.skins[0].joints[0]
        assert translation[0] == root
        return times, rotations, translation[1]

    def joint_transforms(self, frame: int) -> np.ndarray:
        """[J, 4, 4] world transforms of the skin's joints at key `frame`, by forward
        kinematics over the node tree (rest translations + the animation's keys)."""
        _, rotations, root_translation = self.keys()
        nodes = self.gltf.nodes
        parent = {child: i for i, node in enumerate(nodes) for child in node.children}
        world: dict[int, np.ndarray] = {}

        def transform(index: int) -> np.ndarray:
            if index not in world:
                local = np.eye(4)
                xyzw = rotations[index][frame].astype(np.float64)
                local[:3, :3] = quaternion_to_matrix(np.concatenate((xyzw[3:], xyzw[:3])))
                local[:3, 3] = nodes[index].translation
                if index == self.gltf.skins[0].joints[0]:
                    local[:3, 3] = root_translation[frame]
                above = transform(parent[index]) if index in parent else np.eye(4)
                world[index] = above @ local
            return world[index]

        return np.stack([transform(node) for node in self.gltf.skins[0].joints])

    def skinned_vertices(self, frame: int) -> np.ndarray:
        """[V, 3]: glTF skinning, sum_k w_k (jointWorld_jk @ inverseBind_jk) @ position."""
        attributes = self.primitive().attributes
        positions = self.array(attributes.POSITION).astype(np.float64)
        joints = self.array(attributes.JOINTS_0).astype(np.int64)
        weights = self.array(attributes.WEIGHTS_0).astype(np.float64)
        inverse_bind = self.array(self.gltf.skins[0].inverseBindMatrices)
        inverse_bind = inverse_bind.reshape(-1, 4, 4).transpose(0, 2, 1).astype(np.float64)
        matrices = self.joint_transforms(frame) @ inverse_bind  # [J, 4, 4]
        skin = np.einsum("vk,vkij->vij", weights, matrices[joints])
        return (skin[:, :3, :3] @ positions[..., None])[..., 0] + skin[:, :3, 3]


def check_structure(glb: Glb, model, motion: SMPLMotion) -> None:
    """What glTF 2.0 requires of the file, and what this export promises."""
    gltf = glb.gltf
    assert gltf.asset.version == "2.0" and gltf.asset.generator == "vhdiff"
    assert len(gltf.buffers) == 1 and gltf.buffers[0].byteLength == len(glb.blob)
    for view in gltf.bufferViews:
        assert view.byteOffset % 4 == 0 and view.byteOffset + view.byteLength <= len(glb.blob)
    skin = gltf.skins[0]
    num_joints, num_vertices = len(model.joint_names), model.num_vertices
    assert [gltf.nodes[j].name for j in skin.joints] == list(model.joint_names)
    assert gltf.scenes[gltf.scene].nodes == [0, skin.joints[0]] and gltf.nodes[0].skin == 0

    attributes = glb.primitive().attributes
    positions = glb.array(attributes.POSITION)
    assert positions.shape == (num_vertices, 3) and positions.dtype == np.float32
    position_accessor = gltf.accessors[attributes.POSITION]
    assert position_accessor.min == positions.min(0).tolist()
    assert position_accessor.max == positions.max(0).tolist()
    normals = glb.array(attributes.NORMAL)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-6)
    joints, weights = glb.array(attributes.JOINTS_0), glb.array(attributes.WEIGHTS_0)
    assert joints.shape == weights.shape == (num_vertices, 4) and joints.dtype == np.uint8
    assert weights.dtype == np.float32 and weights.min() >= 0 and joints.max() < num_joints
    np.testing.assert_allclose(weights.sum(axis=1, dtype=np.float64), 1.0, atol=2e-7)
    assert np.all(joints[weights == 0] == 0)  # unused influences point at joint 0
    indices = glb.array(glb.primitive().indices)
    assert indices.dtype == (np.uint16 if num_vertices <= 65535 else np.uint32)
    np.testing.assert_array_equal(indices.reshape(-1, 3), model.faces.numpy())
    for index in (*vars(attributes).values(), glb.primitive().indices):
        if isinstance(index, int):
            view = gltf.bufferViews[gltf.accessors[index].bufferView]
            assert view.target == (34963 if index == glb.primitive().indices else 34962)
    assert glb.array(skin.inverseBindMatrices).shape == (num_joints, 16)

    times, rotations, root = glb.keys()
    frames = motion.num_frames
    np.testing.assert_allclose(times, np.arange(frames) / motion.fps, rtol=1e-6)
    time_accessor = gltf.accessors[gltf.animations[0].samplers[0].input]
    assert (time_accessor.min, time_accessor.max) == ([float(times[0])], [float(times[-1])])
    assert sorted(rotations) == sorted(skin.joints) and root.shape == (frames, 3)
    quaternions = np.stack(list(rotations.values()))  # [J, T, 4]
    np.testing.assert_allclose(np.linalg.norm(quaternions, axis=-1), 1.0, atol=1e-6)
    assert np.all(np.einsum("jtc,jtc->jt", quaternions[:, 1:], quaternions[:, :-1]) >= 0)


def exported(tmp_path, model, motion: SMPLMotion):
    path = write_motion_glb(tmp_path / "clip.glb", model, motion)
    glb = Glb(path)
    check_structure(glb, model, motion)
    vertices, joints, _ = pose_motion(model, motion)
    return glb, vertices, joints


def test_mannequin_file_reproduces_the_mannequin(tmp_path):
    model = load_body_model(kind="mannequin")
    motion = clip()
    glb, vertices, joints = exported(tmp_path, model, motion)
    # Y up, metres: the bind mesh stands ~1.7 m tall along +Y, head above feet
    positions = glb.array(glb.primitive().attributes.POSITION)
    extent = positions.max(0) - positions.min(0)
    assert 1.5 < extent[1] < 2.0 and extent[2] < 0.5
    bind = -glb.array(glb.gltf.skins[0].inverseBindMatrices)[:, 12:15]  # translation column
    assert bind[15, 1] - bind[10, 1] > 1.3  # head over the left foot
    for frame in range(motion.num_frames):
        # measured 1.2e-7 m (joints) and 3.8e-7 m (vertices): float32 storage (both the
        # file and the model's output) of ~1 m values; 1e-5 leaves a 25x margin
        kinematics = glb.joint_transforms(frame)[:, :3, 3]
        assert np.abs(kinematics - joints[frame]).max() < 1e-5
        assert np.abs(glb.skinned_vertices(frame) - vertices[frame]).max() < 1e-5
    assert glb.gltf.animations[0].name == "clip"


def synthetic_smpl(tmp_path, kind: str, *, correctives: bool):
    arrays = synthetic_model_arrays(kind)
    if not correctives:
        arrays["posedirs"] = np.zeros_like(arrays["posedirs"])
    path = tmp_path / f"{kind.upper()}_NEUTRAL{'' if correctives else '_flat'}.npz"
    np.savez(path, **arrays)
    return load_body_model(path=path)


@pytest.mark.parametrize("kind", ["smpl", "smplx"])
def test_smpl_file_reproduces_smpl_up_to_pose_correctives(tmp_path, kind):
    motion = clip(frames=4, seed=1)
    flat = synthetic_smpl(tmp_path, kind, correctives=False)
    glb, vertices, joints = exported(tmp_path, flat, motion)
    smpl = synthetic_smpl(tmp_path, kind, correctives=True)
    with_correctives, smpl_joints, _ = pose_motion(smpl, motion)
    np.testing.assert_allclose(smpl_joints, joints, atol=1e-6)  # correctives move no joint
    largest = 0.0
    for frame in range(motion.num_frames):
        # measured 2.6e-7 m (joints), 3.9e-7 m (vertices): float32, as for the mannequin
        np.testing.assert_allclose(glb.joint_transforms(frame)[:, :3, 3], joints[frame], atol=1e-5)
        skinned = glb.skinned_vertices(frame)
        assert np.abs(skinned - vertices[frame]).max() < 1e-5  # LBS without correctives
        largest = max(largest, np.abs(skinned - with_correctives[frame]).max())
    # what glTF cannot carry: the synthetic model's (noise) pose correctives, 2.6 cm here
    assert 1e-3 < largest < 0.1


def test_one_frame_and_errors(tmp_path):
    model = load_body_model(kind="mannequin")
    motion = clip(frames=1)
    glb, _, joints = exported(tmp_path, model, motion)
    assert np.abs(glb.joint_transforms(0)[:, :3, 3] - joints[0]).max() < 1e-5
    rig = model.skinning_rig(motion.betas)
    pose = model.rig_pose(**motion.to_torch())
    with pytest.raises(ValueError, match=r"end in \.glb"):
        write_glb(tmp_path / "clip.gltf", rig, pose, fps=20.0)
    with pytest.raises(ValueError, match="fps must be a positive number"):
        write_glb(tmp_path / "clip.glb", rig, pose, fps=0.0)
    pose.root[0, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        write_glb(tmp_path / "clip.glb", rig, pose, fps=20.0)
    with pytest.raises(ValueError, match="one body shape"):
        model.skinning_rig(torch.zeros(2, 10))
    from vhdiff.body.mannequin_body import MannequinBody

    with pytest.raises(ValueError, match="design='wooden'"):
        MannequinBody(design="convex").skinning_rig()
