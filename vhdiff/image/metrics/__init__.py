"""Image metrics: lossless-codec bits per dimension (a baseline beside a model's NLL)."""

from vhdiff.image.metrics.codecs import CODECS, codec_bits_per_dim

__all__ = ["CODECS", "codec_bits_per_dim"]
