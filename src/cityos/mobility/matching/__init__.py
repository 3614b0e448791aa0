"""HMM map matching of probe points onto the road-segment table (地图匹配)."""

from cityos.mobility.matching.hmm import MatchConfig, MatchResult, match, match_traces
from cityos.mobility.matching.index import Projection, SegmentIndex

__all__ = ["MatchConfig", "MatchResult", "Projection", "SegmentIndex", "match", "match_traces"]
