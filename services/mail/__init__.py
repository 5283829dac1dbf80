"""E-mail: the SMTP connection and the outbox job. Spyne-free."""
