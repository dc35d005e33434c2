"""Writes and reads of what the plugins keep in each tenant's schema (the tables are
``plugin_data``'s): webhook endpoints, e-mail templates, customers' preferences, reviews."""
