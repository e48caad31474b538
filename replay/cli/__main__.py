"""`python -m replay.cli` runs the command line."""

from replay.cli.app import main

if __name__ == "__main__":
    main()
