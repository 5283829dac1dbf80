"""Credit control and routing (docs/design.md, "Credit control", "Routes"): Authorize,
reservations, route plans, settlement and expiry. Spyne-free: the SOAP services, the
FastAGI server and the CDR use cases all call these."""
