"""vhdiff.motion.training."""
