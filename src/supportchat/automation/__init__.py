"""Automation (spec §18): canned responses, the knowledge-base bot.

- :mod:`.templates`: canned-response templates and their variables (pure);
- :mod:`.matching`: which article answers a question, with an explainable score (pure);
- :mod:`.conversation`: what the bot does with each user text (pure).
"""
