"""DIDs: the inventory (admin), assignment within a reseller's subtree, inbound rating.
Spyne-free. See docs/dids.md."""
