"""Bundles: free seconds or calls per period, sold by a level to the level below
(docs/bundles.md). Spyne-free."""
