"""HumanML3D's standard text-to-motion evaluator (Guo et al. 2022, "Generating Diverse and
Natural 3D Human Motions from Text"), loaded from its released files, and its protocol.

    from vhdiff.motion.metrics.t2m import load_t2m_evaluator, evaluate_t2m
    evaluator = load_t2m_evaluator("checkpoints")           # T2M's checkpoints/ (or MDM's root)
    report = evaluate_t2m("HumanML3D", evaluator, generate_fn=fn, stats=stats)
    print(report.table())

Modules: `networks` (the three encoders, official parameter names), `words` (GloVe + POS),
`evaluator` (`T2MEvaluator`), `files` (finding and safely loading the files), `protocol`
(the evaluation of T2M / MDM: batches of 32, 20 replications, 95% intervals).
"""

from .evaluator import T2MEvaluator
from .files import (
    PlainDataUnpickler,
    T2MFiles,
    find_t2m_files,
    load_plain_pickle,
    load_t2m_evaluator,
)
from .protocol import T2MEvalReport, T2MMetrics, evaluate_t2m, load_t2m_clips, metric_statistics
from .words import POS_TAGS, WordVectorizer

__all__ = [
    "POS_TAGS",
    "PlainDataUnpickler",
    "T2MEvalReport",
    "T2MEvaluator",
    "T2MFiles",
    "T2MMetrics",
    "WordVectorizer",
    "evaluate_t2m",
    "find_t2m_files",
    "load_plain_pickle",
    "load_t2m_clips",
    "load_t2m_evaluator",
    "metric_statistics",
]
