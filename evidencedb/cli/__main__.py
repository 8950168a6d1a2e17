"""``python -m evidencedb.cli``: the same commands as ``evidencedb``."""

from evidencedb.cli.main import main

main()
