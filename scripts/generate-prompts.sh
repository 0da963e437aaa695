#!/usr/bin/env bash
# Renders every IVR prompt of prompts/prompts.json to speech, in Mandarin and English, as the
# files Asterisk plays: 8 kHz, mono, 16-bit signed PCM WAV.
#
#   scripts/generate-prompts.sh [-o OUT_DIR] [-c CATALOG] [-j JOBS]
#
#   OUT_DIR   default prompts/sounds   → OUT_DIR/zh/<id>.wav and OUT_DIR/en/<id>.wav
#   CATALOG   default prompts/prompts.json
#   JOBS      parallel renders, default: number of CPUs
#
# Needs espeak-ng (voices cmn and en), sox and node. The synthetic voice is a stand-in: replace
# any file with a studio recording of the same id and format (see docs-snippets/asterisk.md).
# Asterisk finds them through the channel language: install OUT_DIR/zh/* as
# /var/lib/asterisk/sounds/zh/hotline/ and OUT_DIR/en/* as /var/lib/asterisk/sounds/en/hotline/;
# the service plays media `sound:hotline/<id>` and Asterisk picks sounds/<language>/hotline/<id>.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out_dir="$repo_root/prompts/sounds"
catalog="$repo_root/prompts/prompts.json"
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)

while getopts 'o:c:j:h' opt; do
  case $opt in
    o) out_dir=$OPTARG ;;
    c) catalog=$OPTARG ;;
    j) jobs=$OPTARG ;;
    h) sed -n '2,17p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) exit 2 ;;
  esac
done

for tool in espeak-ng sox node; do
  command -v "$tool" >/dev/null 2>&1 || { echo "generate-prompts: $tool is not installed (apt-get install espeak-ng sox)" >&2; exit 1; }
done
[ -f "$catalog" ] || { echo "generate-prompts: no catalog at $catalog" >&2; exit 1; }

# Emit NUL-separated records "voice, output file, text" from the catalog. Ids and languages are
# checked again here because they become file names. Numbers such as 12345 and 110 are spoken
# digit by digit, as callers know them (Mandarin reads 1 as 幺 in phone numbers).
records() {
  node - "$catalog" "$out_dir" <<'EOF'
const fs = require('node:fs');
const path = require('node:path');
const [catalogPath, outDir] = process.argv.slice(2);
const catalog = JSON.parse(fs.readFileSync(catalogPath, 'utf8'));
const ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const VOICES = { zh: 'cmn', en: 'en' };
const ZH_DIGITS = ['零', '幺', '二', '三', '四', '五', '六', '七', '八', '九'];
const spoken = (lang, text) => text.replace(/\d{3,}/g, (run) =>
  lang === 'zh' ? [...run].map((d) => ZH_DIGITS[Number(d)]).join('') : [...run].join(' '));
const out = [];
for (const prompt of catalog.prompts) {
  if (typeof prompt.id !== 'string' || !ID.test(prompt.id)) throw new Error(`bad prompt id ${JSON.stringify(prompt.id)}`);
  for (const [lang, voice] of Object.entries(VOICES)) {
    const text = prompt[lang];
    if (typeof text !== 'string' || text.trim() === '' || /[\0\r\n]/.test(text)) throw new Error(`bad ${lang} text for ${prompt.id}`);
    out.push(voice, path.join(outDir, lang, `${prompt.id}.wav`), spoken(lang, text));
  }
}
process.stdout.write(out.join('\0') + '\0');
EOF
}

render_one() {
  local voice=$1 target=$2 text=$3
  local raw="$target.raw.wav" tmp="$target.tmp.wav"
  # Slightly slower than the default rate: telephone audio is narrow-band and callers are not
  # all young.
  espeak-ng -v "$voice" -s 150 -w "$raw" -- "$text"
  # Normalise to -3 dBFS before resampling (espeak peaks clip otherwise), mono, 8 kHz, 16-bit,
  # with a little silence around the words so prompts do not sound clipped when chained.
  sox -V1 "$raw" -b 16 -e signed-integer "$tmp" remix - gain -n -3 rate 8000 pad 0.15 0.25
  rm -f "$raw"
  mv -f "$tmp" "$target"
}
export -f render_one

mkdir -p "$out_dir/zh" "$out_dir/en"
records | xargs -0 -n 3 -P "$jobs" bash -c 'render_one "$@"' _
count=$(find "$out_dir/zh" "$out_dir/en" -name '*.wav' | wc -l)
echo "generate-prompts: $count files in $out_dir"
