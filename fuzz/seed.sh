#!/usr/bin/env bash
# Fills fuzz/corpus/extract with real records: each sample file's XML, and single records cut
# from the dumps, so the fuzzer starts by mutating real Discogs data.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
corpus=corpus/extract
mkdir -p "$corpus"
for file in ../tests/fixtures/*/*.xml ../tests/fixtures/*/*.xml.gz; do
    name=$(basename "$file" .gz)
    case "$file" in
        # zcat stops early on a closed pipe; that is expected here.
        *.gz) { zcat "$file" || true; } | head -c 20000 >"$corpus/$name" ;;
        *) cp "$file" "$corpus/$name" ;;
    esac
done
for kind in artists labels masters releases; do
    { zcat ../tests/fixtures/xml2db/discogs_20200806_$kind.xml.gz || true; } | sed -n '2,40p' | while IFS= read -r line; do
        printf '<%s>\n%s\n</%s>\n' "$kind" "$line" "$kind" >"$corpus/$kind-$(printf '%s' "$line" | sha1sum | cut -c1-12).xml"
    done
done
echo "seeded $(ls "$corpus" | wc -l) inputs"
