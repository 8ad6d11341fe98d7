"""Customer identity resolution: who is who across CRM contacts, web customers and store loyalty members."""
