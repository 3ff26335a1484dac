"""An emulator of FCM HTTP v1 ``messages:send`` and Google's OAuth2 token endpoint, on 127.0.0.1.

It is an emulator of ours, not Google's service: it implements the parts
supportchat uses, as documented, and checks requests the way the real ones
would refuse them (see ``server.py``).
"""

from .server import FcmEmulator, Received, service_account

__all__ = ["FcmEmulator", "Received", "service_account"]
