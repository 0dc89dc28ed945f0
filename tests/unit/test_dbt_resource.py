import re
import subprocess

from keel.executables import venv_tool
from resources.dbt import dbt_resource, installed_dbt_version


def test_the_version_dagster_dbt_gets_is_what_the_dbt_executable_reports():
    reported = subprocess.run([venv_tool("dbt"), "--version"], capture_output=True, text=True, check=True).stdout
    core_line = next(line for line in reported.splitlines() if "installed" in line.lower())
    assert str(installed_dbt_version()) == re.search(r"(\d+\.\d+\.\d+)", core_line).group(1)
    assert dbt_resource()._cli_version == installed_dbt_version()
