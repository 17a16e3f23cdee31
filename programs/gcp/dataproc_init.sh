#!/bin/bash
# Dataproc initialisation action (runs as root on every node before the cluster is ready).
# The stream job and its Kafka connector are built for one Flink major.minor (metadata
# ``flink-version``): refuse a node whose image ships another one, and make PyFlink of exactly
# the image's Flink version importable by the cluster's Python (Dataproc images do not carry it).
# Then it writes the Kafka SCRAM password (Secret Manager secret named by metadata
# ``kafka-password-secret``, read with the node's service account) to the file the job's Kafka
# clients read it from (stream/kafka_secret.py): every node, since TaskManagers run on the
# workers. The file is readable by root (the job's driver) and the ``yarn`` group (the
# TaskManagers' containers) only; the password is never in a job argument, option or log.
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

secret="$(metadata kafka-password-secret)"
secret_dir="${ECOMCTL_SECRET_DIR:-/etc/ecomctl}"
secret_group="${ECOMCTL_SECRET_GROUP:-yarn}"
password="$(gcloud secrets versions access "$secret/versions/latest")"
# written as is: a generated password has letters, digits and -_.~ only, which need no quoting in
# a JAAS string or a properties file; anything else is refused rather than written wrongly
if ! [[ "$password" =~ ^[A-Za-z0-9._~-]+$ ]]; then
  echo "ecomctl: the Kafka password in $secret has characters the node does not quote" >&2
  exit 1
fi
install -d -m 0750 -g "$secret_group" "$secret_dir"
umask 077
partial="$secret_dir/.kafka-client.properties.$$"
printf 'password=%s\n' "$password" > "$partial"
chgrp "$secret_group" "$partial"
chmod 0640 "$partial"
mv -f "$partial" "$secret_dir/kafka-client.properties"
echo "ecomctl: Kafka password from $secret in $secret_dir/kafka-client.properties"
