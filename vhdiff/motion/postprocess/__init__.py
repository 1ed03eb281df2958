"""vhdiff.motion.postprocess."""
