"""The hub's observations store (``sensor_observation``), the NGSI-LD temporal API and the
daily Parquet archive of observations."""
