"""How close prompts come to a motion model's training captions: the out-of-vocabulary warning.

    python benchmarks/prompt_coverage.py [--checkpoint DIR] [--data data/motion_synthetic]

A text-to-motion model trained on a caption vocabulary can only do what that vocabulary
names. `MotionPipeline` measures each prompt's cosine similarity (the pipeline's own text
encoder) to its nearest training caption and warns when it is below the pipeline's
`prompt_warning` threshold (vhdiff.motion.pipeline). This script prints the nearest-caption
cosine of three groups:

- in-vocabulary captions the model was never trained on: the test split's held-out
  templates (with --data; the model scores R@3 0.91 on them),
- free-text paraphrases the model follows (tests/motion/test_bundled_model.py: 40 of 44
  motions as asked),
- prompts asking for what the built-in vocabulary has no family for (a cartwheel, dancing,
  picking something up, swimming, ...), other languages, emoji and non-motion text,

and, for candidate thresholds, the share of each group that would be warned about.
"""

from __future__ import annotations

import argparse

import numpy as np

PARAPHRASES = (
    "somebody strolls ahead", "someone ambles forward", "a person paces forward",
    "a man wanders forward", "a woman treks ahead", "a person marches forward",
    "an individual hops repeatedly", "a man keeps hopping in one spot", "a person bounds up",
    "someone bounces up and down", "a person springs into the air",
    "a person greets someone with a wave of the left hand", "somebody sits on a chair",
    "a person boxes with the right fist", "someone applauds", "a woman takes a bow",
    "a man turns around to the left", "a person jogs forward", "someone does squats",
    "a person kicks with the left foot", "a person lifts both arms up high",
)
OUT_OF_VOCABULARY = (
    "a person does a cartwheel", "someone dances", "a person picks something up from the floor",
    "a person swims", "a man plays the guitar", "a woman does a handstand", "someone climbs a ladder",
    "a person throws a ball", "a person rides a bicycle", "a person crawls on the floor",
    "someone does a backflip", "a person lies down on the floor", "a person drinks from a cup",
    "a man juggles", "a person skips rope", "someone does push-ups", "a person swings a golf club",
    "a person kneels down", "a person talks on the phone", "a person brushes their teeth",
    "一个人在跳舞", "一个人向前走", "une personne danse", "eine Person tanzt",
    "💃🕺", "🏃‍♂️➡️", "the weather is nice today", "asdf qwer zxcv", "42", "blue",
)
THRESHOLDS = (0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=None, help="motion pipeline folder (default: bundled)")
    parser.add_argument("--data", default=None, help="dataset folder: also score its test split's captions")
    args = parser.parse_args()
    from vhdiff.motion.pipeline import MotionPipeline

    pipe = MotionPipeline.from_pretrained(args.checkpoint)
    if pipe.caption_index is None:
        raise SystemExit("this model has no caption index; nothing to measure")
    groups = {"paraphrases that work": list(PARAPHRASES), "out of vocabulary": list(OUT_OF_VOCABULARY)}
    if args.data:
        from vhdiff.motion.data import open_motion_dataset

        test = open_motion_dataset(args.data, "test", representation=pipe.representation)
        held_out = sorted({c for item in test.captions for c in item} - set(pipe.caption_index.texts))
        groups = {"held-out test captions": held_out[:2000], **groups}
    print(f"model: {args.checkpoint or 'bundled'}; {len(pipe.caption_index)} training captions; "
          f"threshold in use: {pipe.prompt_warning}")
    scores = {}
    for name, prompts in groups.items():
        matches = pipe.match_prompts(prompts)
        scores[name] = np.array([m.similarity for m in matches])
        s = scores[name]
        print(f"{name} ({len(s)}): nearest-caption cosine min {s.min():.3f}, 5% {np.quantile(s, 0.05):.3f}, "
              f"median {np.median(s):.3f}, max {s.max():.3f}")
        if name != "held-out test captions":
            for prompt, m in zip(prompts, matches):
                print(f"    {m.similarity:.3f}  {prompt!r} -> {m.nearest[0][0]!r}")
    print("share warned about at each threshold:")
    for threshold in THRESHOLDS:
        shares = ", ".join(f"{name} {np.mean(s < threshold):.0%}" for name, s in scores.items())
        print(f"  < {threshold:.2f}: {shares}")


if __name__ == "__main__":
    main()
