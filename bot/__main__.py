"""`python -m bot` and the `cancelbot` command.

The command line is imported with the garbage collector paused (`bot.startup`).
"""

from __future__ import annotations

from bot.startup import collector_paused


def main() -> None:
    with collector_paused():
        from bot.cli import main as run_command
    run_command()


if __name__ == "__main__":
    main()
