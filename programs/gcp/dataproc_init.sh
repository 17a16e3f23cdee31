#!/bin/bash
# Dataproc initialisation action (runs as root on every node before the cluster is ready).
# The stream job and its Kafka connector are built for one Flink major.minor (metadata
# ``flink-version``): refuse a node whose image ships another one, and make PyFlink of exactly
# the image's Flink version importable by the cluster's Python (Dataproc images do not carry it).
set -euo pipefail

metadata() { "${GET_METADATA:-/usr/share/google/get_metadata_value}" "attributes/$1"; }
python_bin="${DATAPROC_PYTHON:-/opt/conda/default/bin/python}"

want="$(metadata flink-version)"
full="$(flink --version 2>/dev/null | sed -n 's/^Version: \([0-9][0-9.]*\),.*/\1/p')"
if [ -z "$full" ]; then
  echo "ecomctl: no Flink on this image (optional component FLINK missing?)" >&2
  exit 1
fi
case "$full" in
  "$want" | "$want".*) ;;
  *) echo "ecomctl: the image ships Flink $full, the job is built for Flink $want" >&2; exit 1 ;;
esac

if ! "$python_bin" -c 'import pyflink' 2>/dev/null; then
  "$python_bin" -m pip install --no-cache-dir "apache-flink==$full"
fi
have="$("$python_bin" -c 'from pyflink.version import __version__; print(__version__)')"
if [ "$have" != "$full" ]; then
  echo "ecomctl: PyFlink $have does not match Flink $full" >&2
  exit 1
fi
echo "ecomctl: Flink $full with PyFlink $have"
