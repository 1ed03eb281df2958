"""Metrics that no modality owns (each modality's own are in vhdiff.<modality>.metrics).

    from vhdiff.metrics.frechet import fid, frechet_distance, embedding_statistics
"""
