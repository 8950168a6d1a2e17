"""EvidenceDB: a living, recomputable evidence database for CAR-T biomarker systematic reviews."""

__version__ = "0.1.0"
