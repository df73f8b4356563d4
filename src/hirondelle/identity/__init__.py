"""X accounts, accounts on other networks, and the consented links between them."""
