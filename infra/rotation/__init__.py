"""Secrets Manager rotation Lambda of neural-trader (handler, strategies, packaging).

Nothing in this package imports pulumi: it runs inside AWS Lambda, where only the
standard library, boto3 and the pure-Python dependencies bundled by ``package.py`` exist.
"""
