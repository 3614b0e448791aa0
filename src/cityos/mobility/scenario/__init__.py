"""Traffic scenarios: SUMO builder, fast built-in generator, the real Los-loop week."""
