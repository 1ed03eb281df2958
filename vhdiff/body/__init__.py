"""Bodies: rotations, the SMPL kinematic tree, motion files and body models.

Importing this package loads only torch and numpy; smplx and mannequin-x load when a
body model is created.
"""

from vhdiff.body.body_model import BodyModel, BodyOutput
from vhdiff.body.models import load_body_model
from vhdiff.body.smpl_motion import SMPLMotion

__all__ = ["BodyModel", "BodyOutput", "SMPLMotion", "load_body_model"]
