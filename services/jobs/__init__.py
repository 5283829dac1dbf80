"""The job worker (`siptar worker`): periodic jobs with database leases and run records.
Spyne-free. See docs/recurring.md."""
