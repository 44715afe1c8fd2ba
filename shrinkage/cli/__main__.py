"""`python -m shrinkage.cli`: the same command as the `shrinkage` console script."""

from shrinkage.cli import main

main()
