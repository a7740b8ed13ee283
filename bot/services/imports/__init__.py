"""Importing the merchant's customers and orders from files."""
