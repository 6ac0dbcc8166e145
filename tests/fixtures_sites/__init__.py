"""Fixture websites for the crawler tests, served on loopback by ``fault_server.serve``."""
