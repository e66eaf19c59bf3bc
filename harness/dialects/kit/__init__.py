"""What every dialect shares (imports no concrete dialect): rule registration (``rules``),
request placement and path matching (``request``), and the checks the formats repeat."""
