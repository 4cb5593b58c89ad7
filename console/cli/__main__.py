"""`python -m console.cli ...`: the same as the `outbound-console` command."""

from console.cli.main import main

main(prog_name="outbound-console")
