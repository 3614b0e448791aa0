"""智慧出行: the traffic operations centre — road network, multi-source ingest, map matching,
fusion, five vital signs, alerts, forecasts, commute corridors, hub passenger flow."""
