#!/usr/bin/env bash
# Loads the day's numbers into the "BI tool" (a report file) and prints it.
# Usage: bi_import.sh DATE
set -euo pipefail
date="$1"
players=$(tail -n 1 "data/player_entry/$date.csv" | cut -d, -f3)
sessions=$(tail -n 1 "data/sessions/$date.csv" | cut -d, -f2)
revenue=$(tail -n 1 "data/revenue/$date.csv")
mkdir -p data/bi
{
  echo "BI report for $date"
  echo "  players:  $players"
  echo "  sessions: $sessions"
  echo "  revenue:  $(echo "$revenue" | cut -d, -f2) cents today, $(echo "$revenue" | cut -d, -f3) cents so far ($(echo "$revenue" | cut -d, -f4))"
} | tee "data/bi/$date.txt"
