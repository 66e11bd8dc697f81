"""newswatch: news monitoring on Apache Beam."""
__version__ = "0.1.0"
