"""Figures: counts for an organisation, a location and the network, with charts and exports."""
