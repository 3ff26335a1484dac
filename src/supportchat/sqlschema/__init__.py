"""The SQL layer below the stores and the migrations: table definitions and engine set-up.

:mod:`.tables` defines the schema (the SQL store writes against it, the
migrations build it, autogenerate compares the two); :mod:`.engine` creates
and configures engines the way the store expects them. Both
:mod:`supportchat.stores` and :mod:`supportchat.migrations` import this
package; it imports neither, so the two no longer import each other.
"""
