"""``python -m cjkv_phon.cli`` (also what ``accelerate launch -m cjkv_phon.cli train ...`` runs)."""

from cjkv_phon.cli import main

main()
