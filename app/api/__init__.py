"""The read-only JSON API (``/api/v1``): the network's public offer, nothing personal."""
