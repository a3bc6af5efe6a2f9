#!/usr/bin/env bash
# Debian packages the suite needs: MathJax for offline equations, Fashion-MNIST for the CNN experiments, Chromium
# to print report.pdf and drive the browser test, poppler-utils (pdftotext) to read the PDF back.
# As root it installs what is missing; otherwise it prints the exact command.
set -euo pipefail
packages=(libjs-mathjax fonts-mathjax dataset-fashion-mnist chromium poppler-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
else
  echo "missing Debian packages: ${missing[*]}" >&2
  echo "run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  echo "(the report still builds; equations need libjs-mathjax, CNN claims need dataset-fashion-mnist, report.pdf" >&2
  echo " and the browser test need chromium and poppler-utils)" >&2
fi
