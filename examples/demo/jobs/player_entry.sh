#!/usr/bin/env bash
# Counts the players who entered the game on a day (fake numbers derived from the date).
# Usage: player_entry.sh DATE REGION
set -euo pipefail
date="$1" region="$2"
seed=$(printf '%s' "$date" | cksum | cut -d' ' -f1)
players=$((100 + seed % 900))
mkdir -p data/player_entry
printf 'date,region,players\n%s,%s,%d\n' "$date" "$region" "$players" > "data/player_entry/$date.csv"
echo "player_entry $date: $players players entered in region $region"
# Leave the done marker ourselves, with metadata and a param for the jobs downstream.
# Write then rename, so nobody ever reads half a marker.
printf '{"rows": 1, "params": {"players": "%d"}}' "$players" > "$CASCADE_MARKER.tmp"
mv "$CASCADE_MARKER.tmp" "$CASCADE_MARKER"
