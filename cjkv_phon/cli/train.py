"""``cjkv train``: one training run (``cjkv_phon.training.trainer.train``) and a metrics table.

Example:
    cjkv train --task panx --pair zh-vi --model phonexl --max-train-sentences 2000 --epochs 1
    cjkv train --recipe my-run.yaml --no-le --phonemes romanized --seed 2
    accelerate launch -m cjkv_phon.cli train --task udpos --pair ja-ko --model phonexl   # several GPUs

The recipe (a ``TrainConfig`` YAML) is read first; flags that are given override it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

import cjkv_phon.cli.names as names
from cjkv_phon.cli.app import app
from cjkv_phon.cli.console import fail, print_table


def metrics_table(record: dict[str, Any]) -> Table:
    """One row per evaluated set (source/target x dev/test): F1, precision, recall, accuracy."""
    table = Table("side", "lang", "split", "F1", "P", "R", "acc",
                  title=f"{record['run_id']} ({record['backbone']}, {record['device']})")
    for side, lang in (("source", record["source_lang"]), ("target", record["target_lang"])):
        for split, m in record["metrics"][side].items():
            table.add_row(side, lang, split, *(f"{m[k]:.2f}" for k in ("f1", "precision", "recall", "accuracy")))
    t = record["timings"]
    table.caption = (f"{record['config'].get('precision', 'fp32')}; train {t['train_s']:.0f}s "
                     f"({t['train_sentences_per_s']:.1f} sent/s), eval "
                     f"{t['eval_s']:.0f}s; peak RSS {record['peak_memory']['rss_mib']:.0f} MiB")
    return table


def data_problem(data_dir: str, task: str) -> str | None:
    """Why ``data_dir`` cannot be the built data of ``task``, or None.

    The default folder is relative to the current folder: run from elsewhere, the data is not
    "not built" but looked for in the wrong place, and the message says so.
    """
    folder = Path(data_dir)
    if (folder / task).is_dir():
        return None
    where = f"{folder} (that is {folder.resolve()})" if not folder.is_absolute() else str(folder)
    if not folder.is_dir():
        hint = (f"; relative paths start at the current folder {Path.cwd()}: run from the repository "
                "root, or pass --data-dir" if not folder.is_absolute() else "")
        return f"no built data folder {where}{hint}; build it with: cjkv build-data"
    return f"{where} has no {task}/ folder; build it with: cjkv build-data --tasks {task}"


def _pair(pair: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    """``"zh-vi"`` -> ``("zh", "vi")``; None leaves both to the recipe."""
    if pair is None:
        return None, None
    names.check_pair(pair)
    src, _, tgt = pair.partition("-")
    return src, tgt


def _off(flag: bool) -> Optional[bool]:
    """A ``--no-x`` flag: given -> False (turn off), absent -> None (the recipe decides)."""
    return False if flag else None


@app.command("train")
def train_cli(
    task: Optional[str] = typer.Option(None, help="panx | udpos [default: the recipe's, else panx]."),
    pair: Optional[str] = typer.Option(None, help="source-target, e.g. zh-vi or ja-ko "
                                       "[default: the recipe's, else zh-vi]."),
    model: Optional[str] = typer.Option(None, help="System: phonexl, finetune, cosda-ml, ... "
                                        "[default: the recipe's, else phonexl]."),
    backbone: Optional[str] = typer.Option(None, help="Hub id, local folder, multilingual-e5-small, "
                                           "tiny-bert, tiny-xlmr [default: the recipe's, else "
                                           "multilingual-e5-small]."),
    seed: Optional[int] = typer.Option(None, help="Random seed [default: the recipe's, else 1]."),
    recipe: Optional[Path] = typer.Option(None, help="TrainConfig YAML; flags override it "
                                          "[default: none, built-in settings]."),
    no_pe: bool = typer.Option(False, "--no-pe", help="Ablation: no phonemic embedding."),
    no_extend_vocab: bool = typer.Option(False, "--no-extend-vocab", help="Ablation: IPA with the original vocabulary."),
    no_le: bool = typer.Option(False, "--no-le", help="Ablation: no language embedding."),
    no_crf: bool = typer.Option(False, "--no-crf", help="Softmax cross-entropy instead of a CRF."),
    phonemes: Optional[str] = typer.Option(None, help="ipa | romanized [default: the recipe's, else ipa]."),
    phoneme_units: Optional[str] = typer.Option(
        None, help="PE symbols: pieces (tokenizer) | segments (panphon, one tone inventory) [default: pieces]."),
    task_loss_norm: Optional[str] = typer.Option(
        None, help="CRF loss per token (Table 5's scale) | per sentence [default: token]."),
    alpha: Optional[float] = typer.Option(None, help="L_align weight [default: paper Table 5]."),
    beta: Optional[float] = typer.Option(None, help="L_MLM weight [default: paper Table 5]."),
    gamma: Optional[float] = typer.Option(None, help="L_XMLM weight [default: paper Table 5]."),
    mu: Optional[float] = typer.Option(None, help="Mask ratio [default: paper Table 5]."),
    r: Optional[float] = typer.Option(None, "--r", help="Code-switch ratio [default: paper Table 5]."),
    max_train_sentences: Optional[int] = typer.Option(None, help="Use at most N training sentences "
                                                      "[default: all]."),
    max_eval_sentences: Optional[int] = typer.Option(None, help="Evaluate dev on at most N sentences "
                                                     "[default: all]."),
    max_test_sentences: Optional[int] = typer.Option(
        None, help="Evaluate test on at most N sentences (a fixed sample; default: full test sets)."),
    epochs: Optional[int] = typer.Option(None, help="Training epochs [default: the recipe's, else 3]."),
    batch_size: Optional[int] = typer.Option(None, help="Sentences per micro-batch "
                                             "[default: the recipe's, else 32]."),
    lr: Optional[float] = typer.Option(None, help="Peak learning rate [default: the recipe's, else 2e-5]."),
    head_lr: Optional[float] = typer.Option(
        None, help="Learning rate of the head, CRF and language embeddings [default: --lr]."),
    max_steps: Optional[int] = typer.Option(None, help="Stop (checkpointed) after N steps; rerun to "
                                            "resume [default: no limit]."),
    device: Optional[str] = typer.Option(None, help="auto | cpu | cuda | cuda:N [default: auto]."),
    precision: Optional[str] = typer.Option(
        None, help="auto | bf16 | fp32: bf16 autocast (weights stay fp32); auto = bf16 where the device has "
                   "bf16 units (CUDA with bf16, a CPU with AVX512-BF16/AMX), else fp32 [default: auto]."),
    no_trim_vocab: bool = typer.Option(False, "--no-trim-vocab",
                                       help="Keep the whole word-embedding table [default: trimmed to the run's data]."),
    freeze_word_embeddings: Optional[bool] = typer.Option(None, "--freeze-word-embeddings",
                                                          help="Do not train E_word [default: trained].",
                                                          show_default=False),
    length_bucket: Optional[int] = typer.Option(None, help="Batches per length-sorted bucket; 1 = random batches "
                                                "[default: the recipe's, else 16]."),
    out: Optional[str] = typer.Option(None, "--out", help="Runs folder [default: runs]."),
    data_dir: Optional[str] = typer.Option(None, help="Built parquet folder (cjkv build-data) "
                                           "[default: releases/xtreme-cjkv-phonemic/data]."),
    dictionary_dir: Optional[str] = typer.Option(None, help="Pivot dictionaries (cjkv build-dict) "
                                                 "[default: build/dictionaries]."),
) -> None:
    """Train one model, evaluate it on source and target dev/test, write results.json."""
    from cjkv_phon.recipes import load_config
    from cjkv_phon.training.config import TrainConfig  # light: no torch

    try:
        src, tgt = _pair(pair)
    except names.UnknownName as err:
        fail(str(err), code=2)
    overrides = dict(task=task, source_lang=src, target_lang=tgt, system=model, backbone=backbone, seed=seed,
                     use_pe=_off(no_pe), extend_vocab=_off(no_extend_vocab), use_le=_off(no_le),
                     use_crf=_off(no_crf), phonemes=phonemes, phoneme_units=phoneme_units,
                     task_loss_norm=task_loss_norm, alpha=alpha, beta=beta, gamma=gamma, mu=mu,
                     r=r, max_train_sentences=max_train_sentences, max_eval_sentences=max_eval_sentences,
                     max_test_sentences=max_test_sentences,
                     epochs=epochs, batch_size=batch_size, lr=lr, head_lr=head_lr, max_steps=max_steps, device=device,
                     precision=precision,
                     out_dir=out, data_dir=data_dir, dictionary_dir=dictionary_dir,
                     trim_vocab=_off(no_trim_vocab), freeze_word_embeddings=freeze_word_embeddings,
                     length_bucket=length_bucket)
    try:  # every name is checked here, before the trainer imports torch and transformers
        cfg = load_config(TrainConfig, recipe, overrides)
        names.check_system(cfg.system)
        names.check_backbone(cfg.backbone)
    except (ValueError, FileNotFoundError) as err:  # a bad setting or unknown name is a usage error
        fail(str(err), code=2)
    problem = data_problem(cfg.data_dir, cfg.task)
    if problem:
        fail(problem)
    from cjkv_phon.training.trainer import train

    try:
        record = train(cfg)
    except (OSError, ValueError, EOFError) as err:  # bad input, a full disk (InputError is a ValueError;
        # EOFError is what an empty file gives torch.load, and click would print only "Aborted!")
        logging.getLogger(__name__).debug("train failed", exc_info=True)
        fail(f"{err.filename}: {err.strerror}" if isinstance(err, OSError) and err.strerror and err.filename
             else f"{type(err).__name__}: {err}" if isinstance(err, EOFError) else str(err))
    if "metrics" in record:
        print_table(metrics_table(record))
    else:
        typer.echo(f"{record['run_id']}: stopped at step {record['step']}; rerun to resume")
