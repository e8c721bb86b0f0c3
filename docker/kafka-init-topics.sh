#!/bin/bash
# Creates every topic in /opt/fte/kafka-topics.txt (mounted from docker/kafka-topics.txt) on the
# compose Kafka broker. Idempotent: existing topics are left alone, so `docker compose up` can run
# it every time.
#
# Environment: KAFKA_BOOTSTRAP_SERVERS (default kafka:9092), KAFKA_TOPIC_PARTITIONS (default 3),
# KAFKA_TOPIC_REPLICATION_FACTOR (default 1: a single-node broker).
set -euo pipefail

bootstrap="${KAFKA_BOOTSTRAP_SERVERS:-kafka:9092}"
partitions="${KAFKA_TOPIC_PARTITIONS:-3}"
replication="${KAFKA_TOPIC_REPLICATION_FACTOR:-1}"
topics_file="${KAFKA_TOPICS_FILE:-/opt/fte/kafka-topics.txt}"
kafka_topics=/opt/kafka/bin/kafka-topics.sh

for attempt in $(seq 1 30); do
  if "${kafka_topics}" --bootstrap-server "${bootstrap}" --list >/dev/null 2>&1; then
    break
  fi
  echo "waiting for Kafka at ${bootstrap} (attempt ${attempt}/30)"
  sleep 2
done

grep -Ev '^[[:space:]]*(#|$)' "${topics_file}" | while read -r topic; do
  # The dead-letter topic keeps poison messages for two weeks so a person can look at them.
  retention_ms=604800000
  if [[ "${topic}" == "fte.dlq" ]]; then
    retention_ms=1209600000
  fi
  "${kafka_topics}" --bootstrap-server "${bootstrap}" --create --if-not-exists \
    --topic "${topic}" --partitions "${partitions}" --replication-factor "${replication}" \
    --config "retention.ms=${retention_ms}"
done

echo "topics on ${bootstrap}:"
"${kafka_topics}" --bootstrap-server "${bootstrap}" --list
