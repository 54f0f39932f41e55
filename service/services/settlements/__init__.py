"""Settlement records for the ERP: the exactly-once file export and the paged list."""
