"""The Textual curation app of EvidenceDB (built on evidencedb's query and write functions)."""
