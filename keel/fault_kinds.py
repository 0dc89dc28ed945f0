"""The kinds of faulty file `keel land --fault` writes (keel.faults), named without importing pandas for the CLI's help."""

FAULT_KINDS: tuple[str, ...] = (
    "renamed_column",
    "added_column",
    "missing_required_column",
    "type_change",
    "unparseable_values",
    "duplicate_rows",
    "required_nulls",
    "out_of_range",
    "unknown_category",
    "empty_file",
    "header_only",
    "truncated_file",
    "wrong_delimiter",
    "non_utf8_bytes",
)
