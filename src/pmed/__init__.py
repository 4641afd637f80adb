"""pmed: one FHIR R4 record per patient, clinical engines over it, explained recommendations."""

__version__ = "0.1.0"
__all__ = ["__version__"]
