"""The shared pipeline base every modality builds on (see `vhdiff.pipelines.base`).

    from vhdiff.pipelines import GenerationConfig, Pipeline
"""

from vhdiff.pipelines.base import (
    FORMAT,
    MODEL_DIR,
    PIPELINE_FILE,
    PIPELINE_FOLDER,
    SEED_MAX,
    Pipeline,
    make_generator,
)
from vhdiff.pipelines.generation import GenerationConfig

__all__ = ["FORMAT", "MODEL_DIR", "PIPELINE_FILE", "PIPELINE_FOLDER", "SEED_MAX", "GenerationConfig", "Pipeline", "make_generator"]
