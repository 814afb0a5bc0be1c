"""Serving MFL filters to an MTA over the milter protocol.

``host.Connection`` runs one SMTP connection's handlers (no pymilter here);
``adapter`` is the only module that imports pymilter.
"""
