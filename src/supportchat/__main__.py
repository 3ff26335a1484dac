"""``python -m supportchat``: the same as the ``supportchat`` command."""

from .cli import main

main()
