"""``python -m nt_secrets``: the program, as the ``nt-secrets`` console script runs it."""

from nt_secrets.entry import main

main()
