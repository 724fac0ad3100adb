"""Which subword tokenisation of character-level tokens does the pretrained encoder read best? (issue 20, item 1)

Intrinsic, no training, no task labels: for MUSE pivot pairs (``dictionary.pivot.pivot_pair``, through
English) of zh->vi and ja->ko, each word is encoded alone by the PRETRAINED backbone under each
tokenisation of ``training.subwords`` (the code the collator uses), its last-layer piece vectors are
mean-pooled, both sides are centred (their own mean subtracted) and every source word retrieves its
nearest target word by cosine among the N targets. Reported: precision@1 with a 95% bootstrap interval
over pairs, and the paired difference of each tokenisation against ``per-token`` (today's).

The source side (zh, ja) is split into character tokens as PAN-X writes it; the target side (vi, ko)
into whitespace words, tokenised identically under every variant (spaced languages are unaffected).
Pairs: entries with a unique source and a unique target, N drawn with a fixed seed.

Run from the repo root (seconds to a minute on one core):

    nice -n 5 python benchmarks/tokenisation_check.py [--backbone PATH] [--pairs 400]

Writes benchmarks/results/tokenisation_check.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from cjkv_phon.atomic import atomic_path
from cjkv_phon.dictionary.pivot import pivot_pair
from cjkv_phon.dictionary.script import convention
from cjkv_phon.training.backbone import load_backbone
from cjkv_phon.training.subwords import TOKENISATIONS, SubwordEncoder

ROOT = Path(__file__).resolve().parent.parent
MUSE = ROOT.parent / "shared" / "data" / "muse"
BACKBONE = Path.home() / ".cache" / "cjkv" / "backbones" / "multilingual-e5-small"
OUT = ROOT / "benchmarks" / "results" / "tokenisation_check.json"
PAIRS = (("zh", "vi"), ("ja", "ko"))
BOOTSTRAP = 2000


def sample_pairs(src: str, tgt: str, n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` pivot pairs whose source and target each occur once, drawn with ``seed`` (deterministic)."""
    entries, _ = pivot_pair(MUSE, f"{src}-{tgt}")
    n_src: dict[str, int] = {}
    n_tgt: dict[str, int] = {}
    for e in entries:
        n_src[e.source] = n_src.get(e.source, 0) + 1
        n_tgt[e.target] = n_tgt.get(e.target, 0) + 1
    unique = [(e.source, e.target) for e in entries if n_src[e.source] == 1 and n_tgt[e.target] == 1]
    return random.Random(seed).sample(unique, min(n, len(unique)))


@torch.no_grad()
def word_vectors(model, encoder: SubwordEncoder, words: list[str], lang: str, batch: int = 64) -> torch.Tensor:
    """[N, H] mean last-layer vector of each word's pieces, the word encoded alone with specials."""
    tok = encoder.tokenizer
    start = tok.cls_token_id if tok.cls_token_id is not None else tok.bos_token_id
    end = tok.sep_token_id if tok.sep_token_id is not None else tok.eos_token_id
    seqs = []
    for word in words:
        tokens = convention(lang).tokens(word)
        seqs.append([start, *encoder.encode(tokens, [lang] * len(tokens)).ids, end])
    out = []
    for k in range(0, len(seqs), batch):
        chunk = seqs[k:k + batch]
        width = max(len(s) for s in chunk)
        ids = torch.full((len(chunk), width), tok.pad_token_id)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for i, s in enumerate(chunk):
            ids[i, :len(s)], mask[i, :len(s)] = torch.tensor(s), 1
        hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state        # [b, S, H]
        pieces = mask.clone()
        pieces[:, 0] = 0
        pieces[torch.arange(len(chunk)), mask.sum(1) - 1] = 0                        # drop the specials
        m = pieces.unsqueeze(-1).float()
        out.append((hidden * m).sum(1) / m.sum(1))
    return torch.cat(out)


def hits_at_1(source: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """Per source row, 1 if its nearest centred-cosine target is its own pair (row-aligned)."""
    s = F.normalize(source - source.mean(0), dim=-1)
    t = F.normalize(target - target.mean(0), dim=-1)
    return (s @ t.T).argmax(1).eq(torch.arange(len(s))).numpy().astype(float)


def interval(values: np.ndarray, rng: np.random.Generator) -> list[float]:
    """95% percentile bootstrap interval of the mean of ``values`` (in percent)."""
    means = values[rng.integers(0, len(values), size=(BOOTSTRAP, len(values)))].mean(1)
    return [round(100 * float(np.percentile(means, 2.5)), 1), round(100 * float(np.percentile(means, 97.5)), 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbone", default=str(BACKBONE))
    parser.add_argument("--pairs", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    backbone = load_backbone(args.backbone)
    model = backbone.model.eval()
    rng = np.random.default_rng(args.seed)
    results: dict[str, dict] = {}
    for src, tgt in PAIRS:
        pairs = sample_pairs(src, tgt, args.pairs, args.seed)
        target = word_vectors(model, SubwordEncoder(backbone.tokenizer, "per-token"), [t for _, t in pairs], tgt)
        hits = {name: hits_at_1(word_vectors(model, SubwordEncoder(backbone.tokenizer, name),
                                             [s for s, _ in pairs], src), target) for name in TOKENISATIONS}
        cell = results.setdefault(f"{src}-{tgt}", {"pairs": len(pairs)})
        for name, h in hits.items():
            delta = h - hits["per-token"]
            cell[name] = {"p_at_1": round(100 * float(h.mean()), 1), "ci95": interval(h, rng),
                          "delta_vs_per_token": round(100 * float(delta.mean()), 1),
                          "delta_ci95": interval(delta, rng)}
    best = {pair: max(TOKENISATIONS, key=lambda n: cell[n]["p_at_1"]) for pair, cell in results.items()}
    record = {"what": "precision@1 of MUSE pivot-pair retrieval, pretrained encoder, per tokenisation of the "
                      "source side's character tokens (training.subwords)",
              "backbone": args.backbone, "layer": "last", "pooling": "mean over the word's pieces",
              "similarity": "cosine after centring each side", "seed": args.seed,
              "pair_selection": "entries whose source and target are unique, random sample",
              "results": results, "best": best, "wall_s": round(time.perf_counter() - t0, 1)}
    with atomic_path(OUT) as tmp:
        Path(tmp).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("| pair | tokenisation | pairs | P@1 [95% CI] | Δ vs per-token [95% CI] |")
    print("|---|---|---|---|---|")
    for pair, cell in results.items():
        for name in TOKENISATIONS:
            r = cell[name]
            print(f"| {pair} | {name} | {cell['pairs']} | {r['p_at_1']} [{r['ci95'][0]}, {r['ci95'][1]}] | "
                  f"{r['delta_vs_per_token']:+.1f} [{r['delta_ci95'][0]}, {r['delta_ci95'][1]}] |")
    print(f"\nbest: {best}; wrote {OUT} ({record['wall_s']} s)")


if __name__ == "__main__":
    main()
