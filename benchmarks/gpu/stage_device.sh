#!/usr/bin/env bash
# benchmarks/gpu/stage_device.sh: prepare, HERE, what this workplace's device tool must carry for run.sh,
# since its H200 has no package index, gets no ../shared, and one call carries at most 64 MiB.
# The e5-small source alone is 85 MB, so the transfer takes two calls (benchmarks/gpu/README.md):
#
#   .gpu-stage/a/            the first 58 MiB of e5-small-q4.bin         (call 1 carries it; kept there)
#   .gpu-stage/b/shared/     the rest of it, tokenizer.json, tools/make-backbone, PAN-X zh/vi, MUSE en-zh/en-vi
#   .whl/                    cp312 wheels of the pins the image lacks (stage_wheels.py)
#
# Then, with nothing in between (the machine stays warm 30 s after a call):
#   run  carry=[".gpu-stage/a"]          command="du -sh .gpu-stage/a"
#   run  carry=[".gpu-stage/b", ".whl"]  command="bash benchmarks/gpu/stage_device.sh --join && \
#        CJKV_SHARED=$PWD/.gpu-stage/b/shared WHEELS=$PWD/.whl bash benchmarks/gpu/run.sh"
# `--join` (on the device) rebuilds e5-small-q4.bin from the two parts and checks its sha256.
set -euo pipefail
cd "$(dirname "$0")/../.."
STAGE=.gpu-stage
E5=shared/backbones/multilingual-e5-small
if [ "${1:-}" = "--join" ]; then
  cat "$STAGE/a/e5-small-q4.bin.part1" "$STAGE/b/$E5/e5-small-q4.bin.part2" > "$STAGE/b/$E5/e5-small-q4.bin"
  (cd "$STAGE/b/$E5" && sha256sum -c e5-small-q4.bin.sha256)
  exit 0
fi
SHARED=${CJKV_SHARED:-$PWD/../shared}
grep -qx "/$STAGE/" .git/info/exclude 2>/dev/null || grep -qx "/$STAGE/" .gitignore || {
  echo "error: /$STAGE/ must be gitignored (it is in .gitignore on this branch)" >&2; exit 2; }
rm -rf "$STAGE" && mkdir -p "$STAGE/a" "$STAGE/b/$E5" "$STAGE/b/shared/tools" \
  "$STAGE/b/shared/data/xtreme/panx" "$STAGE/b/shared/data/muse"
src="$SHARED/backbones/multilingual-e5-small"
head -c $((58 * 1024 * 1024)) "$src/e5-small-q4.bin" > "$STAGE/a/e5-small-q4.bin.part1"
tail -c +$((58 * 1024 * 1024 + 1)) "$src/e5-small-q4.bin" > "$STAGE/b/$E5/e5-small-q4.bin.part2"
(cd "$src" && sha256sum e5-small-q4.bin) > "$STAGE/b/$E5/e5-small-q4.bin.sha256"
cp "$src/tokenizer.json" "$STAGE/b/$E5/"
cp "$SHARED/tools/make-backbone" "$STAGE/b/shared/tools/"
for lang in zh vi; do
  for split in train dev test; do cp "$SHARED/data/xtreme/panx/$split-$lang.tsv" "$STAGE/b/shared/data/xtreme/panx/"; done
  cp "$SHARED/data/muse/en-$lang.txt" "$STAGE/b/shared/data/muse/"
done
[ -d .whl ] && [ -n "$(ls .whl/*.whl 2>/dev/null)" ] || "${PYTHON:-python3}" benchmarks/gpu/stage_wheels.py --dest .whl
tree_mib=$(( $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1) / 1048576 ))
for part in "$STAGE/a" "$STAGE/b .whl"; do
  # shellcheck disable=SC2086  # two folders in the second call
  mib=$(( $(du -cb $part | tail -1 | cut -f1) / 1048576 ))
  echo "call carrying $part: ${mib} MiB + ~${tree_mib} MiB of tracked files (limit 64 MiB)"
done
