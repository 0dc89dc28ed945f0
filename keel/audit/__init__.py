"""The audit trail read back: one application's whole story from the ledger and the warehouse."""
