"""What a motion model sees: per-frame feature representations of a motion, and back."""
