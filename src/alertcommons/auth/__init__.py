"""Who may do what: organizations, tokens, roles, jurisdictions."""
