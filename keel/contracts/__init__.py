"""Data contracts: what each source promises, and what happens to the rows that break it.

    load_contract(path) -> Contract                  policies/contracts/<source>.yaml
    compile_schema(contract) -> pandera DataFrameSchema
    apply_contract(frame, contract, source_file, source_sha256) -> ContractResult
    reconcile(counts) -> (balanced, sentence)

Every received row ends in exactly one of ContractResult.accepted,
.quarantine (with a reason per failed check) or .duplicates (pointing at the
row kept); a file that breaks the contract as a whole is blocked.
"""

from keel.contracts.apply import apply_contract
from keel.contracts.contract import ColumnSpec, Contract, ContractError, DuplicateRule, load_contract
from keel.contracts.result import ContractResult, reconcile
from keel.contracts.schema import compile_schema

__all__ = [
    "ColumnSpec",
    "Contract",
    "ContractError",
    "ContractResult",
    "DuplicateRule",
    "apply_contract",
    "compile_schema",
    "load_contract",
    "reconcile",
]
