"""Resolve ``--backbone`` to a Hugging Face encoder and its fast tokenizer.

Four kinds of names, tried in this order:

* ``tiny-bert`` / ``tiny-xlmr``: a randomly initialised 2-layer, hidden-32 ``BertModel`` /
  ``XLMRobertaModel`` with a tokenizer made in milliseconds, deterministically (one corpus, one
  tokenizer, byte for byte), from the text the caller passes (the run's own sentences): WordPiece for the BERT family, Unigram with a ``▁`` metaspace
  (SentencePiece-style) for XLM-R. Built once per corpus and cached under
  ``<cache>/<name>-<corpus hash>``; for tests and smoke runs, offline.
* ``multilingual-e5-small``: the project's default, the folder written by ``../shared/tools/make-backbone``
  (``~/.cache/cjkv/backbones/multilingual-e5-small``).
* an existing local folder (``save_pretrained`` layout).
* anything else that does not look like a file path (``bert-base-multilingual-cased``,
  ``xlm-roberta-base``, ``org/model``) is a Hugging Face Hub id and goes to ``from_pretrained``
  unchanged, which downloads it for online users. This is the only place that can touch the network.

``<cache>`` is ``$CJKV_CACHE_DIR/backbones`` if that variable is set, else ``~/.cache/cjkv/backbones``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import (AutoModel, AutoTokenizer, BertConfig, BertModel, PreTrainedTokenizerFast,
                          XLMRobertaConfig, XLMRobertaModel)

from cjkv_phon.errors import InputError

log = logging.getLogger(__name__)

TINY_BACKBONES = ("tiny-bert", "tiny-xlmr")
DEFAULT_BACKBONE = "multilingual-e5-small"
# Tiny models: small enough that a training step on 20 sentences takes milliseconds on a CPU.
TINY_SHAPE = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
              "intermediate_size": 64, "max_position_embeddings": 256}
TINY_VOCAB = 3000
# Special tokens in id order; XLM-R's order (pad = 1) matches the real XLM-R vocabulary.
_BERT_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
_XLMR_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


@dataclass
class Backbone:
    """A loaded encoder, its tokenizer and where they came from (recorded in results)."""

    model: torch.nn.Module
    tokenizer: PreTrainedTokenizerFast
    source: str


def cache_root() -> Path:
    """Folder for built or unpacked backbones."""
    base = os.environ.get("CJKV_CACHE_DIR")
    return (Path(base) if base else Path.home() / ".cache" / "cjkv") / "backbones"


def resolve_backbone(name: str) -> str:
    """The local folder or hub id ``name`` stands for (tiny names are handled by ``load_backbone``).

    Raises:
        InputError: ``name`` is the default backbone or a path, and the folder does not exist; the
            message says what was looked for and how to make it.
    """
    if name == DEFAULT_BACKBONE:
        path = cache_root() / DEFAULT_BACKBONE
        if not (path / "config.json").is_file():
            raise InputError(f"backbone {name!r} not found: looked for {path}/config.json. Make it with "
                             f"`../shared/tools/make-backbone {path}` (needs numpy and safetensors)",
                             path=path)
        return str(path)
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path)
    if name.startswith(("/", "./", "../", "~")) or path.suffix or path.exists():
        raise InputError(f"backbone folder {path} does not exist: pass a Hugging Face model folder "
                         "(save_pretrained layout), a hub id such as xlm-roberta-base, or one of "
                         f"{DEFAULT_BACKBONE}, {', '.join(TINY_BACKBONES)}", path=path)
    return name  # a hub id: from_pretrained downloads it (online users only)


def load_backbone(name: str, corpus: Iterable[str] = (), cache_dir: str | Path | None = None) -> Backbone:
    """Load ``name``'s encoder (without a pooler) and fast tokenizer.

    Args:
        name: see the module docstring.
        corpus: lines of text to train a tiny backbone's tokenizer on (ignored for real backbones).
        cache_dir: where tiny backbones are cached (default ``cache_root()``).
    """
    if name in TINY_BACKBONES:
        path = build_tiny_backbone(name, list(corpus), Path(cache_dir) if cache_dir else cache_root())
    else:
        path = resolve_backbone(name)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(f"backbone {name!r}: a fast tokenizer is needed for word alignment")
    # No pooler: nothing here uses it, and unused parameters break DistributedDataParallel.
    model = AutoModel.from_pretrained(path, add_pooling_layer=False)
    log.info("backbone %s: %s, %d layers, hidden %d, vocab %d", name, type(model).__name__,
             model.config.num_hidden_layers, model.config.hidden_size, len(tokenizer))
    return Backbone(model, tokenizer, str(path))


def build_tiny_backbone(name: str, corpus: list[str], cache: Path) -> Path:
    """Train a tokenizer on ``corpus``, initialise a tiny model, save both; reuse a cached build.

    The folder name carries a hash of the corpus, so different data never share a tokenizer.
    """
    if not corpus:
        raise ValueError(f"{name} needs a text corpus to train its tokenizer on; got none")
    digest = hashlib.sha256("\n".join(corpus).encode("utf-8")).hexdigest()[:12]
    path = cache / f"{name}-{digest}"
    if (path / "config.json").is_file():
        return path
    family = "bert" if name == "tiny-bert" else "xlmr"
    fast = _train_tokenizer(family, corpus)
    model = _init_tiny_model(family, len(fast))
    tmp = cache / f".{path.name}.{os.getpid()}.tmp"
    fast.save_pretrained(tmp)
    model.save_pretrained(tmp)
    if path.exists():          # another process built the same backbone meanwhile: keep theirs
        shutil.rmtree(tmp)
    else:
        os.replace(tmp, path)
    log.info("built %s (vocab %d) at %s", name, len(fast), path)
    return path


def _counts(tok: Tokenizer, corpus: list[str]) -> tuple[Counter[str], Counter[str]]:
    """Word and character counts of ``corpus``, normalised and pre-tokenized as ``tok`` does."""
    words: Counter[str] = Counter()
    for line in corpus:
        words.update(w for w, _ in tok.pre_tokenizer.pre_tokenize_str(tok.normalizer.normalize_str(line)))
    chars: Counter[str] = Counter()
    for word, n in words.items():
        for ch in word:
            chars[ch] += n
    return words, chars


def _by_count(counts: Counter[str]) -> list[str]:
    """Keys by decreasing count, ties by the text itself: an order that no hash seed can change."""
    return sorted(counts, key=lambda k: (-counts[k], k))


def _train_tokenizer(family: str, corpus: list[str]) -> PreTrainedTokenizerFast:
    """WordPiece (BERT) or Unigram + metaspace (XLM-R) over ``corpus``, the same for the same corpus.

    The ``tokenizers`` trainers are not deterministic (their tie-breaking follows Rust hash maps,
    seeded per process: four builds from one corpus gave four vocabularies, so a tiny backbone's
    results and checkpoints depended on which process built its cache). The vocabulary is therefore
    chosen here, by counts with ties broken by the text: every character (and, for WordPiece, every
    character as a continuation piece), then the most frequent whole words, up to ``TINY_VOCAB``.
    Unigram pieces are scored by their log relative frequency.
    """
    if family == "bert":
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        words, chars = _counts(tok, corpus)
        pieces = [*_by_count(chars), *(f"##{c}" for c in _by_count(chars)),
                  *(w for w in _by_count(words) if len(w) > 1)]
        vocab = list(dict.fromkeys([*_BERT_SPECIALS, *pieces]))[:TINY_VOCAB]
        tok.model = models.WordPiece({p: i for i, p in enumerate(vocab)}, unk_token="[UNK]")
        tok.decoder = decoders.WordPiece()
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
        return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]",
                                       cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    words, chars = _counts(tok, corpus)
    n_words, n_chars = sum(words.values()), sum(chars.values())
    scored = [*((c, math.log(chars[c] / n_chars)) for c in _by_count(chars)),
              *((w, math.log(words[w] / n_words)) for w in _by_count(words) if len(w) > 1)]
    scored = [(p, 0.0) for p in _XLMR_SPECIALS] + [(p, x) for p, x in scored if p not in _XLMR_SPECIALS]
    tok.model = models.Unigram(scored[:TINY_VOCAB], unk_id=_XLMR_SPECIALS.index("<unk>"))
    tok.decoder = decoders.Metaspace()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                   cls_token="<s>", sep_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>", mask_token="<mask>")


def _init_tiny_model(family: str, vocab_size: int) -> torch.nn.Module:
    """A randomly initialised tiny encoder; the init is seeded so a cached build is reproducible."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        if family == "bert":
            return BertModel(BertConfig(vocab_size=vocab_size, pad_token_id=0, **TINY_SHAPE),
                             add_pooling_layer=False)
        return XLMRobertaModel(XLMRobertaConfig(vocab_size=vocab_size, pad_token_id=1, bos_token_id=0,
                                                eos_token_id=2, **TINY_SHAPE), add_pooling_layer=False)
