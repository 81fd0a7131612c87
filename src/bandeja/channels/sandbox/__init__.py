"""The sandbox platform: a faithful local stand-in for every supported platform.

It delivers signed webhooks in each platform's real format (at least once: duplicates,
reordering, retries on non-2xx), generates traffic in English, Spanish and Italian, and serves
each platform's send API at its real paths, answering as the platform does, errors included.
Each platform's part lives beside its connector (``bandeja.channels.<platform>.fake``) and follows
``contract.py``.
"""
