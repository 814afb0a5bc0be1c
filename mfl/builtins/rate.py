"""Sending-rate limits."""
from .registry import planned

D = "rate"

planned("number rate(string key, number sample_interval; number min_samples, number threshold)",
        domain=D, doc="Mail sending rate for KEY, in messages per SAMPLE_INTERVAL seconds.")
planned("boolean tbf_rate(string key, number cost, number sample_interval, number burst_size)",
        domain=D, doc="Token bucket filter: true if KEY may send a message of COST.")
