"""数据中台: the city data hub — NGSI-LD entities and their history, IoT ingest over HTTP and MQTT,
isolated subscriptions, a data catalogue with governed sharing, and the open platform for apps."""
