"""Framework adapters: ``supportchat.adapters.flask`` and ``supportchat.adapters.fastapi``.

Each is imported only by the host app that wants it, so that ``import
supportchat`` pulls in no web framework.
"""
